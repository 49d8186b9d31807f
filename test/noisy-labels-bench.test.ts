import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';

// Fashion-MNIST comes from Debian (.ci/run installs it); without it the smoke run covers MNIST only.
const datasets = existsSync('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz')
  ? ['mnist', 'fashion-mnist']
  : ['mnist'];
const script = fileURLToPath(new URL('../bench/noisy-labels.ts', import.meta.url));

describe('bench/noisy-labels --quick (smoke)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cctfer-noisy-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it(
    'trains all three methods on each dataset and writes the table, JSON and chart',
    { timeout: 180_000 },
    async () => {
      await promisify(execFile)(
        process.execPath,
        [
          '--import',
          'tsx',
          script,
          '--quick',
          '--datasets',
          datasets.join(','),
          '--jobs',
          '2',
          // Half the quick run's images: the smoke test checks the plumbing, not the figures.
          '--train-size',
          '1000',
          '--val-size',
          '200',
          '--test-size',
          '1000',
          '--out',
          dir,
          '--cache',
          join(dir, 'cache'),
        ],
        {
          env: { ...process.env, CCTFER_BACKEND: 'wasm' },
        },
      );
      const json = JSON.parse(await readFile(join(dir, 'noisy-labels-quick.json'), 'utf8')) as {
        results: {
          spec: { method: string; dataset: string };
          epochs: { testAcc: number }[];
          finalTestAcc: number;
          actualNoiseRate: number;
        }[];
      };
      assert.equal(json.results.length, 3 * datasets.length);
      for (const r of json.results) {
        assert.equal(r.epochs.length, 3);
        assert.equal(r.actualNoiseRate, 0.4);
        // Trained, not chance (10%): even 3 epochs on 1000 noisy images learn something.
        assert.ok(r.finalTestAcc > 0.5, `${r.spec.dataset} ${r.spec.method}: ${r.finalTestAcc}`);
      }
      const md = await readFile(join(dir, 'noisy-labels-quick.md'), 'utf8');
      assert.match(md, /\| 40% sym \| CCT \(N=3\) \|/);
      assert.match(md, /## Checks/);
      const svg = await readFile(join(dir, 'noisy-labels-quick-40sym.svg'), 'utf8');
      assert.match(svg, /^<svg/);
      assert.equal((svg.match(/class="mark-line/g) ?? []).length, 3 * datasets.length);
    },
  );
});
