import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import { useTestBackend } from './helpers/backend.ts';
import { createModel } from '../src/models/registry.ts';
import {
  loadPretrained,
  readOnnxInitializers,
  readPretrained,
  readSafetensors,
  type NamedTensor,
} from '../src/models/pretrained.ts';
import { tf } from '../src/engine/tf.ts';
import type { Network } from '../src/models/network.ts';

const { onnx } = onnxProto;

/** Our parameters in PyTorch layout (OIHW convs, [out, in] linears), as PyTorch would save them. */
function torchState(net: Network): Map<string, NamedTensor> {
  const out = new Map<string, NamedTensor>();
  for (const p of net.params) {
    let t = p.variable as tf.Tensor;
    if (t.rank === 4) t = tf.transpose(t, [3, 2, 0, 1]);
    else if (t.rank === 2) t = tf.transpose(t);
    out.set(p.name, { shape: t.shape, data: t.dataSync() as Float32Array });
  }
  return out;
}

function safetensors(tensors: Map<string, NamedTensor>): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = {
      dtype: 'F32',
      shape: t.shape,
      data_offsets: [offset, offset + t.data.byteLength],
    };
    offset += t.data.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

const hasTorch = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('pretrained initialisation', () => {
  before(() => useTestBackend());

  it('loads safetensors by torchvision names, converting layouts; the head of another size is skipped', async () => {
    const a = createModel('resnet18', { seed: 1, inputSize: 32 });
    const b = createModel('resnet18', { seed: 2, inputSize: 32 });
    const state = torchState(a);
    state.set('fc.weight', { shape: [1000, 512], data: new Float32Array(512000) });
    const parsed = readSafetensors(safetensors(state));
    const report = loadPretrained(b, parsed);
    assert.deepEqual(report.skipped, [
      { name: 'fc.weight', reason: 'shape [1000,512] does not fit [512,7]' },
    ]);
    // With the head weights copied too, both nets compute the same logits.
    b.params
      .find((p) => p.name === 'fc.weight')!
      .variable.assign(a.params.find((p) => p.name === 'fc.weight')!.variable);
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const diff = tf.tidy(
      () => tf.max(tf.abs(tf.sub(a.apply(x, false), b.apply(x, false)))).dataSync()[0],
    );
    assert.ok((diff as number) < 1e-5, `max logit difference ${diff}`);
    a.dispose();
    b.dispose();
  });

  it('reads float initialisers of an ONNX model; rejects files that match nothing, or are not weights', async () => {
    const net = createModel('tiny-cnn', { seed: 1 });
    const state = torchState(net);
    const model = onnx.ModelProto.create({
      graph: onnx.GraphProto.create({
        initializer: [...state].map(([name, t]) =>
          onnx.TensorProto.create({
            name,
            dims: t.shape,
            dataType: onnx.TensorProto.DataType.FLOAT,
            rawData: new Uint8Array(t.data.buffer.slice(0)),
          }),
        ),
      }),
    });
    const read = readOnnxInitializers(onnx.ModelProto.encode(model).finish());
    const other = createModel('tiny-cnn', { seed: 9 });
    assert.equal(loadPretrained(other, read).skipped.length, 0);
    const heads = loadPretrained(createModel('tiny-cnn', { seed: 9 }), read, 'w.onnx', {
      skipHead: true,
    }).skipped;
    assert.ok(
      heads.length > 0 && heads.every((s) => /head/.test(s.reason)),
      'the head keeps its own weights',
    );
    assert.throws(
      () => loadPretrained(createModel('mlp', { seed: 1 }), read, 'w.onnx'),
      /w\.onnx: no parameter names match the mlp network/,
    );
    const dir = await mkdtemp(join(tmpdir(), 'cctfer-pre-'));
    await writeFile(join(dir, 'bad.safetensors'), 'not weights at all');
    await assert.rejects(
      readPretrained(join(dir, 'bad.safetensors')),
      /bad\.safetensors: header length/,
    );
    await assert.rejects(
      readPretrained(join(dir, 'missing.safetensors')),
      /missing\.safetensors: cannot read \(ENOENT\)/,
    );
    await rm(dir, { recursive: true, force: true });
  });

  it(
    'matches PyTorch: a torchvision-layout ResNet-18 state dict gives the same logits',
    { skip: hasTorch ? false : 'python3-torch not installed' },
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'cctfer-torch-'));
      const bench = fileURLToPath(new URL('../bench', import.meta.url));
      // PyTorch writes the safetensors file by hand (no safetensors package needed) and its logits.
      const script = `
import json, struct, sys, torch
sys.path.insert(0, ${JSON.stringify(bench)})
from torchvision_free_resnet import ResNet18
torch.manual_seed(0)
m = ResNet18(num_classes=7)
for mod in m.modules():
    if isinstance(mod, torch.nn.BatchNorm2d):
        mod.running_mean.uniform_(-0.2, 0.2); mod.running_var.uniform_(0.5, 1.5)
        mod.weight.data.uniform_(0.5, 1.5); mod.bias.data.uniform_(-0.2, 0.2)
m.eval()
x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
with torch.no_grad(): y = m(x)
sd = {k: v.float().contiguous() for k, v in m.state_dict().items() if v.dtype == torch.float32}
header, blobs, off = {}, [], 0
for k, v in sd.items():
    b = v.numpy().tobytes(); header[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [off, off + len(b)]}; off += len(b); blobs.append(b)
h = json.dumps(header).encode()
open(${JSON.stringify(join(dir, 'r18.safetensors'))}, "wb").write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
json.dump({"x": x.permute(0, 2, 3, 1).flatten().tolist(), "y": y.flatten().tolist()}, open(${JSON.stringify(join(dir, 'io.json'))}, "w"))
`;
      execFileSync('/usr/bin/python3', ['-c', script]);
      const io = JSON.parse(await readFile(join(dir, 'io.json'), 'utf8')) as {
        x: number[];
        y: number[];
      };
      const net = createModel('resnet18', { seed: 3, inputSize: 64 });
      const report = loadPretrained(net, await readPretrained(join(dir, 'r18.safetensors')));
      assert.deepEqual(report.skipped, []);
      const y = tf.tidy(
        () => net.apply(tf.tensor4d(io.x, [2, 64, 64, 3]), false).dataSync() as Float32Array,
      );
      const worst = Math.max(
        ...io.y.map((v, i) => Math.abs(v - (y[i] as number)) / Math.max(1, Math.abs(v))),
      );
      assert.ok(worst < 1e-4, `max relative logit difference ${worst}`);
      net.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  );
});
