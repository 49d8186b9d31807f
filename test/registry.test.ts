import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, getArch, listArchs, tf } from '../src/index.ts';
import { useTestBackend } from './helpers/backend.ts';

describe('architecture registry', () => {
  before(() => useTestBackend());

  it('lists architectures and filters by glob', () => {
    assert.deepEqual(listArchs(), [
      'faceapi-expression',
      'faceapi-landmark68-tiny',
      'fer-cnn',
      'fer-cnn-s',
      'mini-xception',
      'mlp',
      'resnet18',
      'tiny-cnn',
    ]);
    assert.deepEqual(listArchs('res*'), ['resnet18']);
  });

  it('an unknown name lists the valid ones', () => {
    assert.throws(
      () => createModel('resnet50'),
      /unknown architecture 'resnet50': expected one of faceapi-expression, faceapi-landmark68-tiny, fer-cnn, fer-cnn-s, mini-xception, mlp, resnet18, tiny-cnn/,
    );
  });

  it('rejects a bad config field by name', () => {
    assert.throws(
      () => createModel('tiny-cnn', { numClasses: 0 }),
      /config field 'numClasses' must be a positive integer/,
    );
  });

  for (const name of listArchs()) {
    it(`${name}: default config builds, forward gives [batch, classes], head is its own group`, () => {
      const spec = getArch(name);
      const net = createModel(name, {
        inputSize: name === 'resnet18' ? 64 : spec.defaults.inputSize,
      });
      const s = net.config.inputSize;
      const out = tf.tidy(() => net.apply(tf.zeros([2, s, s, net.config.inChannels]), false).shape);
      assert.deepEqual(out, [2, spec.defaults.numClasses]);
      const head = net.params.filter((p) => p.group === 'head');
      assert.ok(head.length >= 2, 'a weight and a bias in the head group');
      for (const p of head) assert.equal(p.variable.shape.at(-1), spec.defaults.numClasses, p.name);
      assert.throws(() => net.apply(tf.zeros([1, s + 1, s + 1, 3]), false), /expects input/);
      net.dispose();
    });
  }

  it('resnet18 has torchvision parameter names and count (11,180,103 trainable for 7 classes)', () => {
    const net = createModel('resnet18');
    const trainable = net.params.filter((p) => p.trainable);
    const count = trainable.reduce((a, p) => a + p.variable.size, 0);
    assert.equal(count, 11_180_103);
    const names = new Set(net.params.map((p) => p.name));
    for (const n of [
      'conv1.weight',
      'bn1.running_var',
      'layer2.0.downsample.0.weight',
      'layer4.1.bn2.bias',
      'fc.weight',
    ]) {
      assert.ok(names.has(n), n);
    }
    net.dispose();
  });

  it('different seeds give different initialisations, equal seeds equal ones', () => {
    const a = createModel('tiny-cnn', { seed: 1 });
    const b = createModel('tiny-cnn', { seed: 1 });
    const c = createModel('tiny-cnn', { seed: 2 });
    const w = (n: typeof a) => Array.from(n.params[0]!.variable.dataSync());
    assert.deepEqual(w(a), w(b));
    assert.notDeepEqual(w(a), w(c));
    for (const n of [a, b, c]) n.dispose();
  });
});
