import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, ensemblePredict, listArchs, Rng, tf, type Network } from '../src/index.ts';
import { exportEnsembleOnnx } from '../src/models/ensemble-export.ts';
import { verifyEnsembleExport } from '../src/models/ensemble-verify.ts';
import { OnnxModel } from '../src/engine/onnx-runtime.ts';
import { useTestBackend } from './helpers/backend.ts';

/**
 * Fresh BatchNorm (γ=1, β=0, μ=0, σ²=1) makes folding an identity and hides bugs: randomise every
 * parameter and statistic before comparing.
 */
function randomise(net: Network, seed: number): void {
  const rng = new Rng(seed);
  for (const p of net.params) {
    const n = p.variable.size;
    const values = Float32Array.from({ length: n }, () => {
      if (p.name.endsWith('running_var')) return rng.uniform(0.5, 1.5);
      if (p.name.endsWith('running_mean')) return 0.2 * rng.normal();
      if (/bn\d?\.weight$|downsample\.1\.weight$/.test(p.name)) return rng.uniform(0.5, 1.5);
      return 0;
    });
    if (/running_|bn\d?\.|downsample\.1\./.test(p.name)) {
      if (p.name.endsWith('.bias')) values.forEach((_, i) => (values[i] = 0.1 * rng.normal()));
      p.variable.assign(tf.tensor(values, p.variable.shape));
    }
  }
}

/** An ensemble member with its own preprocessing (grey for 1-channel networks). */
function member(net: Network, crop: 'aligned' | 'box' = 'aligned', mean = 0.45, std = 0.25) {
  const c = net.config.inChannels;
  return {
    net,
    pre: {
      crop,
      inputSize: net.config.inputSize,
      color: c === 1 ? ('grey' as const) : ('rgb' as const),
      mean: new Array(c).fill(mean),
      std: new Array(c).fill(std),
    },
  };
}

const SIZES: Record<string, number> = {
  resnet18: 48,
  'tiny-cnn': 16,
  mlp: 28,
  'faceapi-expression': 112,
  'faceapi-landmark68-tiny': 112,
};

describe('ONNX ensemble export', () => {
  before(() => useTestBackend());

  for (const arch of listArchs()) {
    it(`${arch}: ONNX Runtime logits equal tfjs within 1e-4 (randomised BN), batch 1 and 3`, async () => {
      const inputSize = SIZES[arch] ?? 32;
      const members = [1, 2].map((seed) => createModel(arch, { seed, inputSize }));
      members.forEach((m, j) => randomise(m, 10 + j));
      const ensemble = members.map((m) => member(m));
      const check = await verifyEnsembleExport(ensemble, exportEnsembleOnnx(ensemble));
      assert.ok(check.logitsRelError < 1e-4, `relative logits error ${check.logitsRelError}`);
      assert.ok(check.probsAbsError < 1e-5, `probability error ${check.probsAbsError}`);
      for (const m of members) m.dispose();
    });
  }

  it('consensus and mean_probs equal ensemblePredict for 3 members', async () => {
    const members = [1, 2, 3].map((seed) => createModel('tiny-cnn', { seed, numClasses: 4 }));
    members.forEach((m, j) => randomise(m, 20 + j));
    const model = await OnnxModel.create(
      exportEnsembleOnnx(members.map((m) => member(m, 'aligned', 0.5, 0.5))),
    );
    const data = Float32Array.from({ length: 2 * 16 * 16 * 3 }, (_, i) => (Math.sin(i) + 1) / 2);
    const out = await model.run({ aligned: { data, dims: [2, 16, 16, 3] } });
    const ref = ensemblePredict(
      tf.tidy(() => {
        const x = tf.div(tf.sub(tf.tensor4d(data, [2, 16, 16, 3]), 0.5), 0.5) as tf.Tensor4D;
        return members.map((m) => m.apply(x, false));
      }),
    );
    assert.deepEqual(out.member_probs!.dims, [3, 2, 4]);
    assert.deepEqual(out.consensus!.dims, [2, 1]);
    Array.from(ref.consensus.dataSync()).forEach((v, i) =>
      assert.ok(Math.abs(v - out.consensus!.data[i]!) < 1e-5, `consensus ${i}`),
    );
    Array.from(ref.meanProbs.dataSync()).forEach((v, i) =>
      assert.ok(Math.abs(v - out.mean_probs!.data[i]!) < 1e-6),
    );
    await model.dispose();
    for (const m of members) m.dispose();
  });

  it('a single-member export has consensus 1', async () => {
    const net = createModel('tiny-cnn', { seed: 3 });
    const model = await OnnxModel.create(exportEnsembleOnnx([member(net, 'aligned', 0, 1)]));
    const out = await model.run({
      aligned: { data: new Float32Array(16 * 16 * 3), dims: [1, 16, 16, 3] },
    });
    assert.deepEqual(Array.from(out.consensus!.data), [1]);
    await model.dispose();
    net.dispose();
  });

  it('the runtime names missing inputs and rejects a truncated model', async () => {
    const net = createModel('tiny-cnn', { seed: 3 });
    const bytes = exportEnsembleOnnx([member(net)]);
    const model = await OnnxModel.create(bytes);
    await assert.rejects(model.run({}), /missing model input\(s\): aligned \(expected aligned\)/);
    await model.dispose();
    await assert.rejects(
      OnnxModel.create(bytes.subarray(0, bytes.length / 2)),
      /cannot load ONNX model \d+-byte model on cpu/,
    );
    net.dispose();
  });

  it('members with different crop modes, sizes and colours: one input per crop mode, resize and grey in-graph', async () => {
    const rgb = createModel('tiny-cnn', { seed: 4, inputSize: 32 });
    const grey = createModel('mini-xception', { seed: 5, inputSize: 20 });
    const small = createModel('tiny-cnn', { seed: 6, inputSize: 16 });
    [rgb, grey, small].forEach((m, j) => randomise(m, 30 + j));
    const ensemble = [member(rgb, 'box'), member(grey, 'box', 0.5, 0.5), member(small, 'aligned')];
    const bytes = exportEnsembleOnnx(ensemble);
    const model = await OnnxModel.create(bytes);
    assert.deepEqual([...model.inputNames].sort(), ['aligned', 'box']);
    await model.dispose();
    const check = await verifyEnsembleExport(ensemble, bytes);
    assert.ok(check.logitsRelError < 1e-4, `relative logits error ${check.logitsRelError}`);
    for (const m of [rgb, grey, small]) m.dispose();
  });

  it('a wrong export fails verification', async () => {
    const a = createModel('tiny-cnn', { seed: 1 });
    const b = createModel('tiny-cnn', { seed: 2 });
    await assert.rejects(
      verifyEnsembleExport([member(a)], exportEnsembleOnnx([member(b)])),
      /ONNX export does not match tfjs/,
    );
    a.dispose();
    b.dispose();
  });
});
