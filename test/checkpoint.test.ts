import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CctTrainer,
  loadCheckpoint,
  saveCheckpoint,
  type TrainerConfigInput,
} from '../src/index.ts';
import { useTestBackend } from './helpers/backend.ts';
import { quadrantData } from './helpers/synthetic.ts';

const config: TrainerConfigInput = {
  arch: 'tiny-cnn',
  inputSize: 16,
  numClasses: 4,
  members: 2,
  batchSize: 16,
  maxEpochs: 5,
  seed: 3,
};

describe('checkpoints', () => {
  let dir: string;
  before(async () => {
    await useTestBackend();
    dir = await mkdtemp(join(tmpdir(), 'cctfer-ckpt-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('round-trips every member, BN statistic, optimiser moment and the epoch', async () => {
    const t = CctTrainer.create(config);
    t.trainEpoch(quadrantData(48));
    const path = join(dir, 'rt');
    await saveCheckpoint(t, path);
    const u = await loadCheckpoint(path);
    assert.equal(u.epoch, 1);
    assert.deepEqual(u.optimizer.learningRates, t.optimizer.learningRates);
    t.members.forEach((m, j) =>
      m.params.forEach((p, i) =>
        assert.deepEqual(
          Array.from(u.members[j]!.params[i]!.variable.dataSync()),
          Array.from(p.variable.dataSync()),
          p.name,
        ),
      ),
    );
    t.dispose();
    u.dispose();
  });

  it('resuming gives the same next-epoch losses as not stopping', async () => {
    const data = quadrantData(48);
    const straight = CctTrainer.create(config);
    straight.trainEpoch(data);
    const expected = straight.trainEpoch(data).steps.map((s) => s.total);
    straight.dispose();

    const first = CctTrainer.create(config);
    first.trainEpoch(data);
    const path = join(dir, 'resume');
    await saveCheckpoint(first, path);
    first.dispose();
    const resumed = await loadCheckpoint(path);
    const got = resumed.trainEpoch(data).steps.map((s) => s.total);
    resumed.dispose();
    assert.deepEqual(got, expected);
  });

  it('saving over an existing checkpoint replaces it and leaves no temporary directories', async () => {
    const t = CctTrainer.create(config);
    const path = join(dir, 'replace');
    await saveCheckpoint(t, path);
    t.trainEpoch(quadrantData(32));
    await saveCheckpoint(t, path);
    const u = await loadCheckpoint(path);
    assert.equal(u.epoch, 1);
    const leftovers = (await readdir(dir)).filter(
      (f) => f.includes('.tmp-') || f.includes('.old-'),
    );
    assert.deepEqual(leftovers, []);
    t.dispose();
    u.dispose();
  });

  describe('bad checkpoints give clear errors', () => {
    let good: string;
    before(async () => {
      const t = CctTrainer.create(config);
      good = join(dir, 'good');
      await saveCheckpoint(t, good);
      t.dispose();
    });

    async function damaged(name: string, damage: (path: string) => Promise<void>): Promise<string> {
      const path = join(dir, name);
      await rm(path, { recursive: true, force: true });
      const { cp } = await import('node:fs/promises');
      await cp(good, path, { recursive: true });
      await damage(path);
      return path;
    }

    it('missing directory', async () => {
      await assert.rejects(
        loadCheckpoint(join(dir, 'nope')),
        /checkpoint .*nope: cannot read checkpoint.json/,
      );
    });
    it('truncated weights', async () => {
      const p = await damaged('trunc', (d) => truncate(join(d, 'weights.bin'), 100));
      await assert.rejects(
        loadCheckpoint(p),
        /weights.bin is 100 bytes, expected \d+ \(truncated or replaced\)/,
      );
    });
    it('corrupted weights (one byte flipped)', async () => {
      const p = await damaged('flip', async (d) => {
        const buf = await readFile(join(d, 'weights.bin'));
        buf[10] = buf[10]! ^ 0xff;
        await writeFile(join(d, 'weights.bin'), buf);
      });
      await assert.rejects(loadCheckpoint(p), /checksum mismatch .* the file is corrupt/);
    });
    it('truncated manifest', async () => {
      const p = await damaged('json', async (d) => {
        const text = await readFile(join(d, 'checkpoint.json'), 'utf8');
        await writeFile(join(d, 'checkpoint.json'), text.slice(0, 50));
      });
      await assert.rejects(
        loadCheckpoint(p),
        /checkpoint.json is not valid JSON .* may be truncated/,
      );
    });
    it('a manifest field of the wrong type is named', async () => {
      const p = await damaged('field', async (d) => {
        const m = JSON.parse(await readFile(join(d, 'checkpoint.json'), 'utf8'));
        m.config.members = 'three';
        await writeFile(join(d, 'checkpoint.json'), JSON.stringify(m));
      });
      await assert.rejects(loadCheckpoint(p), /field 'config.members'/);
    });
    it('a tensor shape that does not fit the model', async () => {
      const p = await damaged('shape', async (d) => {
        const m = JSON.parse(await readFile(join(d, 'checkpoint.json'), 'utf8'));
        m.tensors[0].shape = [1, 2, 3];
        await writeFile(join(d, 'checkpoint.json'), JSON.stringify(m));
      });
      await assert.rejects(
        loadCheckpoint(p),
        /tensor 'member0\/conv1.weight' has shape \[1,2,3\], the model needs \[3,3,3,8\]/,
      );
    });
  });
});
