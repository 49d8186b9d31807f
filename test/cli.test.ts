import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const exec = promisify(execFile);
const bin = fileURLToPath(new URL('../bin/cctfer.js', import.meta.url));
const importLog = fileURLToPath(new URL('./helpers/import-log.mjs', import.meta.url));

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const env = { ...process.env };
    delete env.CCTFER_BACKEND;
    const { stdout, stderr } = await exec(process.execPath, [bin, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const COMMANDS = [
  'backend',
  'archs',
  'checkpoint-info',
  'serve',
  'annotate',
  'submit',
  'train',
  'eval',
];

describe('cctfer CLI', () => {
  it('--help lists the commands', async () => {
    const r = await cli('--help');
    assert.equal(r.code, 0);
    for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
  });

  it('loads a command only when it runs: --help loads no engine, model or pipeline', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cctfer-imports-'));
    const log = join(dir, 'imports.txt');
    try {
      for (const args of [
        ['--help'],
        ['annotate', '--help'],
        ['serve', '--help'],
        ['eval', 'fer', '--help'],
      ]) {
        await writeFile(log, '');
        await exec(process.execPath, ['--import', importLog, bin, ...args], {
          env: { ...process.env, IMPORT_LOG: log },
        });
        const loaded = (await readFile(log, 'utf8')).split('\n').filter(Boolean);
        assert.ok(
          loaded.some((u) => /\/src\/cli\/main\.[jt]s$/.test(u)),
          'the log records imports',
        );
        const heavy = loaded.filter((u) =>
          /onnxruntime|@tensorflow|@mediapipe|\/sharp\/|\/ws\/|fluent-ffmpeg|\/pipelines\/|\/engine\/tf\.[jt]s/.test(
            u,
          ),
        );
        assert.deepEqual(heavy, [], `cctfer ${args.join(' ')} loaded: ${heavy.join(', ')}`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it(
    'is quiet: no engine log lines unless --verbose (then on stderr only)',
    { timeout: 120_000 },
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'cctfer-quiet-'));
      const zoom = fileURLToPath(new URL('../fixtures/zoom.mp4', import.meta.url));
      const engineLine = /^(cctfer: )?([IWE]\d{4} |INFO: |Graph (successfully|finished))/m;
      try {
        const quiet = await cli('annotate', zoom, '--out', dir, '--quiet');
        assert.equal(quiet.code, 0, quiet.stderr);
        assert.doesNotMatch(quiet.stdout, engineLine);
        assert.doesNotMatch(quiet.stderr, engineLine);
        assert.match(quiet.stdout, /Happiness/, 'the summary table is the output');
        const loud = await cli('annotate', zoom, '--out', dir, '--quiet', '--force', '--verbose');
        assert.equal(loud.code, 0, loud.stderr);
        assert.doesNotMatch(loud.stdout, engineLine, 'never on stdout');
        assert.match(loud.stderr, /^cctfer: [IW]\d{4} /m, "MediaPipe's lines on stderr");
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it('every command has --help', async () => {
    for (const c of COMMANDS) {
      const r = await cli(c, '--help');
      assert.equal(r.code, 0, c);
      assert.match(r.stdout, new RegExp(`Usage: cctfer ${c}`));
    }
  });

  it('archs lists the registry', async () => {
    const r = await cli('archs');
    assert.match(r.stdout, /resnet18\s+112x112x3, 7 classes/);
  });

  it('backend --backend wasm loads and names it', async () => {
    const r = await cli('backend', '--backend', 'wasm');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^wasm \(SIMD/);
  });

  it('an unknown backend or a missing checkpoint is a clear error with exit code 1', async () => {
    const a = await cli('backend', '--backend', 'gpu');
    assert.notEqual(a.code, 0);
    assert.match(a.stderr, /unknown backend 'gpu'/);
    const b = await cli('checkpoint-info', '/nonexistent/ckpt', '--backend', 'cpu');
    assert.equal(b.code, 1);
    assert.match(b.stderr, /cctfer: checkpoint \/nonexistent\/ckpt: cannot read checkpoint.json/);
  });
});
