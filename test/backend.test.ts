import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BackendUnavailableError,
  currentBackend,
  initBackend,
  parseBackendName,
  tf,
} from '../src/index.ts';

async function nativeInstalled(): Promise<boolean> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
      return true;
    } catch {
      // not installed
    }
  }
  return false;
}

describe('backend selection', () => {
  it('auto picks the fastest loadable backend, verifies it with tf.getBackend() and logs it once', async () => {
    const lines: string[] = [];
    const info = await initBackend({ backend: 'auto', log: (l) => lines.push(l) });
    assert.equal(tf.getBackend(), info.name);
    assert.equal(info.name, (await nativeInstalled()) ? 'tensorflow' : 'wasm');
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, new RegExp(`^tfjs backend: ${info.name}`));
    await initBackend({ backend: 'auto', log: (l) => lines.push(l) });
    assert.equal(lines.length, 1, 'a second call with the same request does not reload or log');
  });

  it('wasm reports SIMD and one thread', async () => {
    const info = await initBackend({ backend: 'wasm' });
    assert.equal(info.name, 'wasm');
    assert.match(info.detail, /SIMD (on|off), 1 thread/);
  });

  it('cpu can be selected explicitly', async () => {
    const info = await initBackend({ backend: 'cpu' });
    assert.equal(tf.getBackend(), 'cpu');
    assert.equal(currentBackend()?.name, info.name);
  });

  it('a requested backend that cannot load is an error, not a silent fallback', async (t) => {
    if (await nativeInstalled()) return t.skip('tfjs-node is installed here');
    await initBackend({ backend: 'cpu' });
    await assert.rejects(initBackend({ backend: 'tensorflow' }), (err: Error) => {
      assert.ok(err instanceof BackendUnavailableError);
      assert.match(
        err.message,
        /backend 'tensorflow' was requested but cannot be loaded: @tensorflow\/tfjs-node-gpu: .*@tensorflow\/tfjs-node: /,
      );
      return true;
    });
    assert.equal(tf.getBackend(), 'cpu', 'the previous backend stays active');
  });

  it('parses backend names and lists valid ones on error', () => {
    assert.equal(parseBackendName('wasm'), 'wasm');
    assert.throws(
      () => parseBackendName('gpu'),
      /unknown backend 'gpu': expected one of auto, tensorflow, wasm, cpu/,
    );
  });
});
