import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CctTrainer,
  ExpressionAnalyzer,
  readBundleManifest,
  saveCheckpoint,
  writeBundle,
} from '../src/index.ts';
import { useTestBackend } from './helpers/backend.ts';
import { quadrantData } from './helpers/synthetic.ts';

const CLASSES = ['north-west', 'north-east', 'south-west', 'south-east'];

describe('model bundles', () => {
  let dir: string;
  let bundle: string;
  let trainer: CctTrainer;
  before(async () => {
    await useTestBackend();
    dir = await mkdtemp(join(tmpdir(), 'cctfer-bundle-'));
    trainer = CctTrainer.create({
      arch: 'tiny-cnn',
      inputSize: 16,
      numClasses: 4,
      members: 3,
      batchSize: 32,
      lrBackbone: 1e-2,
      lrHead: 1e-2,
      augment: null,
    });
    for (let e = 0; e < 4; e++) trainer.trainEpoch(quadrantData(128));
    bundle = join(dir, 'quadrants');
    const pre = {
      crop: 'box' as const,
      inputSize: 16,
      color: 'rgb' as const,
      ...trainer.normalisation,
    };
    await writeBundle(
      bundle,
      trainer.members.map((net) => ({ net, pre })),
      {
        name: 'quadrants',
        classes: CLASSES,
        provenance: { source: 'test', licence: 'MIT' },
      },
    );
  });
  after(async () => {
    trainer.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a manifest with classes, per-member preprocessing, checksums and the ONNX check', async () => {
    const m = await readBundleManifest(bundle);
    assert.deepEqual(m.classes, CLASSES);
    assert.equal(m.members.length, 3);
    assert.deepEqual(m.members[0]!.preprocessing.inputSize, 16);
    assert.ok(m.onnx.verified.logitsRelError < 1e-4);
  });

  it('the ONNX and tfjs engines classify crops alike, batch 1 and batch > 1', async () => {
    const data = quadrantData(8, 16, 99);
    const crops = data.images([0, 1, 2, 3, 4, 5, 6, 7]);
    const pixels = crops.dataSync() as Float32Array;
    crops.dispose();
    const onnx = await ExpressionAnalyzer.create(bundle, { engine: 'onnx' });
    const tfjs = await ExpressionAnalyzer.create(bundle, { engine: 'tfjs' });
    for (const count of [1, 8]) {
      const batch = { data: pixels.subarray(0, count * 16 * 16 * 3), count };
      const a = await onnx.classifyCrops(batch);
      const b = await tfjs.classifyCrops(batch);
      assert.equal(a.length, count);
      a.forEach((p, i) => {
        assert.equal(p.label, b[i]!.label);
        p.probs.forEach((v, c) => assert.ok(Math.abs(v - b[i]!.probs[c]!) < 1e-5));
        assert.ok(Math.abs(p.consensus - b[i]!.consensus) < 1e-5);
        assert.ok(Math.abs(p.probs.reduce((x, y) => x + y, 0) - 1) < 1e-5);
        assert.equal(p.memberProbs.length, 3);
      });
    }
    // The trained ensemble recognises the quadrants.
    const preds = await onnx.classifyCrops({ data: pixels, count: 8 });
    assert.deepEqual(
      preds.map((p) => p.labelIndex),
      Array.from(data.labels),
    );
    await assert.rejects(
      onnx.classifyCrops({ data: pixels.subarray(0, 10), count: 1 }),
      /crop data holds 10 values; 1 crops of 16×16×3 need 768/,
    );
    await onnx.dispose();
    await tfjs.dispose();
  });

  it("ONNX in its own thread gives the main thread's answers, in order, and clear errors", async () => {
    const data = quadrantData(8, 16, 99);
    const crops = data.images([0, 1, 2, 3, 4, 5, 6, 7]);
    const pixels = crops.dataSync() as Float32Array;
    crops.dispose();
    const here = await ExpressionAnalyzer.create(bundle, { engine: 'onnx' });
    const apart = await ExpressionAnalyzer.create(bundle, { inferenceThread: 'worker' });
    // Several requests in flight at once, each a view on the same buffer, answered in order.
    const batches = [1, 8, 3].map((count) => ({ data: pixels.subarray(0, count * 768), count }));
    const answers = await Promise.all(batches.map((b) => apart.classifyCrops(b)));
    for (const [i, b] of batches.entries()) {
      assert.deepEqual(answers[i], await here.classifyCrops(b));
    }
    assert.equal(pixels.length, 8 * 768, 'the caller keeps its pixels');
    await assert.rejects(
      apart.classifyCrops({ data: pixels.subarray(0, 10), count: 1 }),
      /crop data holds 10 values; 1 crops of 16×16×3 need 768/,
    );
    assert.deepEqual(await apart.classifyCrops({ data: new Float32Array(0), count: 0 }), []);
    // Closed with requests in flight: those are answered, later ones refused; the process lives.
    const inFlight = batches.map((b) => apart.classifyCrops(b));
    const closed = apart.close();
    assert.deepEqual(await Promise.all(inFlight), answers);
    await closed;
    await assert.rejects(apart.classifyCrops(batches[0]!), /the model is closed/);
    await apart.close();
    await here.close();
    const broken = join(dir, 'broken-for-worker');
    await cp(bundle, broken, { recursive: true });
    await truncate(join(broken, 'ensemble.onnx'), 100);
    await assert.rejects(
      ExpressionAnalyzer.create(broken, { inferenceThread: 'worker' }),
      /ensemble.onnx/,
    );
  });

  describe('bad bundles give clear errors', () => {
    async function damaged(name: string, damage: (d: string) => Promise<void>): Promise<string> {
      const d = join(dir, name);
      await cp(bundle, d, { recursive: true });
      await damage(d);
      return d;
    }
    const editManifest = (
      d: string,
      f: (m: Record<string, unknown> & { members: Record<string, unknown>[] }) => void,
    ) =>
      readFile(join(d, 'manifest.json'), 'utf8').then((t) => {
        const m = JSON.parse(t);
        f(m);
        return writeFile(join(d, 'manifest.json'), JSON.stringify(m));
      });

    it('not a bundle', async () => {
      await assert.rejects(
        readBundleManifest(dir),
        /no manifest.json \(is this a cctfer model bundle\?\)/,
      );
    });
    it('missing member file', async () => {
      const d = await damaged('missing', (x) => rm(join(x, 'member1.bin')));
      await assert.rejects(
        ExpressionAnalyzer.create(d, { engine: 'tfjs' }),
        /file 'member1.bin' named in manifest.json is missing/,
      );
    });
    it('bad checksum', async () => {
      const d = await damaged('checksum', async (x) => {
        const b = await readFile(join(x, 'member0.bin'));
        b[0] = b[0]! ^ 1;
        await writeFile(join(x, 'member0.bin'), b);
      });
      await assert.rejects(
        ExpressionAnalyzer.create(d, { engine: 'tfjs' }),
        /file 'member0.bin' has sha256 [0-9a-f]+, the manifest says [0-9a-f]+ \(corrupt or replaced\)/,
      );
    });
    it('truncated ONNX', async () => {
      const d = await damaged('onnx', (x) => truncate(join(x, 'ensemble.onnx'), 1000));
      await assert.rejects(ExpressionAnalyzer.create(d), /file 'ensemble.onnx' has sha256/);
    });
    it('unknown architecture', async () => {
      const d = await damaged('arch', (x) =>
        editManifest(x, (m) => (m.members[0]!.arch = 'vgg16')),
      );
      // The ONNX graph needs no architecture: only loading the members for tfjs does.
      await readBundleManifest(d);
      await assert.rejects(
        ExpressionAnalyzer.create(d, { engine: 'tfjs' }),
        /member 0 has unknown architecture 'vgg16' \(known: faceapi-expression, faceapi-landmark68-tiny, fer-cnn, fer-cnn-s, mini-xception, mlp, resnet18, tiny-cnn\)/,
      );
    });
    it('class count that does not match the members', async () => {
      const d = await damaged('classes', (x) =>
        editManifest(x, (m) => (m.classes = ['a', 'b', 'c'])),
      );
      await assert.rejects(
        readBundleManifest(d),
        /field 'members.0.config.numClasses' is 4 but the bundle lists 3 classes/,
      );
    });
    it('input size that does not match the network', async () => {
      const d = await damaged('size', (x) =>
        editManifest(
          x,
          (m) => ((m.members[1]!.preprocessing as { inputSize: number }).inputSize = 224),
        ),
      );
      await assert.rejects(
        readBundleManifest(d),
        /field 'members.1.preprocessing.inputSize' is 224 but the network takes 16/,
      );
    });
  });

  it('cctfer model export turns a checkpoint into a bundle that model info reads', async () => {
    const ckpt = join(dir, 'ckpt');
    await saveCheckpoint(trainer, ckpt);
    const bin = fileURLToPath(new URL('../bin/cctfer.js', import.meta.url));
    const run = (...args: string[]) => promisify(execFile)(process.execPath, [bin, ...args]);
    const out = join(dir, 'exported');
    const exp = await run(
      'model',
      'export',
      ckpt,
      out,
      '--classes',
      CLASSES.join(','),
      '--backend',
      'wasm',
    );
    assert.match(exp.stdout, /wrote .*exported: 3 × tiny-cnn, ONNX verified/);
    const info = await run('model', 'info', out);
    assert.match(info.stdout, /classes \(4\): north-west, north-east, south-west, south-east/);
    assert.match(info.stdout, /member 2: tiny-cnn 16×16 rgb, aligned crop/);
    await assert.rejects(
      run('model', 'export', ckpt, join(dir, 'x'), '--classes', 'a,b', '--backend', 'wasm'),
      /--classes lists 2 names but the checkpoint has 4 classes/,
    );
  });
});
