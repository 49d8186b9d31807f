import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { startServe, type RunningServer } from '../pipelines/serve.ts';
import { CctferClient } from '../src/client/index.ts';
import { CctferServer } from '../src/server/server.ts';
import { Outbox } from '../src/server/outbox.ts';
import { TokenBucket } from '../src/server/rate-limit.ts';
import { quantile } from '../src/stream/stats.ts';

const zoom = fileURLToPath(new URL('../fixtures/zoom.mp4', import.meta.url));
const TOKEN = 'slow-client-token-0123';

describe('Outbox (per-client queue)', () => {
  it('stays bounded for a socket that never confirms a write, dropping the oldest frames', () => {
    const sent: string[] = [];
    let overflow = 0;
    const box = new Outbox({ send: (d) => void sent.push(d) }, () => overflow++, 4, 8, 2);
    for (let i = 0; i < 1000; i++) box.sendFrame(`f${i}`);
    assert.deepEqual(sent, ['f0', 'f1']);
    assert.equal(box.waiting, 4);
    assert.equal(box.dropped, 994);
    for (let i = 0; i < 8; i++) box.sendControl(`c${i}`);
    assert.equal(overflow, 0);
    box.sendControl('one too many');
    assert.equal(overflow, 1, 'a client that lets control messages pile up is disconnected');
    assert.equal(box.waiting, 0);
  });

  it('keeps order and sends everything to a socket that keeps up', () => {
    const sent: string[] = [];
    const box = new Outbox(
      { send: (d, cb) => (sent.push(d), queueMicrotask(() => cb())) },
      () => {},
    );
    box.sendControl('hello');
    box.sendFrame('f1');
    box.sendFrame('f2');
    box.sendControl('end');
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        assert.deepEqual(sent, ['hello', 'f1', 'f2', 'end']);
        resolve();
      }, 10),
    );
  });

  it('token bucket: burst, then the average rate', () => {
    let t = 0;
    const b = new TokenBucket(10, 5, () => t);
    assert.equal([...Array(8)].filter(() => b.take()).length, 5);
    t += 300;
    assert.equal([...Array(8)].filter(() => b.take()).length, 3);
  });
});

describe('slow clients and reconnects (paced source)', { timeout: 120_000 }, () => {
  let running: RunningServer;
  let wsUrl: string;
  before(async () => {
    running = await startServe({
      sources: [zoom],
      port: 0,
      token: TOKEN,
      pace: 'native',
      loop: true,
      web: false,
    });
    wsUrl = running.url.replace('http', 'ws') + '/ws';
  });
  after(async () => running?.close());

  async function p95Latency(client: CctferClient, frames: number): Promise<number> {
    const latencies: number[] = [];
    await new Promise<void>((resolve) => {
      const off = client.on('frame', (m) => {
        latencies.push(Date.now() - m.t);
        if (latencies.length >= frames) {
          off();
          resolve();
        }
      });
    });
    return quantile(
      latencies.sort((a, b) => a - b),
      0.95,
    );
  }

  it("a client that stops reading leaves another client's p95 latency within 1.2×", async (t) => {
    const a = new CctferClient(wsUrl, { token: TOKEN });
    await a.connect();
    a.subscribe(['zoom']);
    await p95Latency(a, 10); // warm-up
    const median = (v: number[]) => [...v].sort((x, y) => x - y)[v.length >> 1] as number;
    // Windows alone and with a stalled client alternate, so load from elsewhere on this 2-core
    // machine (other test files run concurrently) hits both sides alike; the medians compare.
    // Noise only ever inflates one attempt at random; a real coupling would fail all three.
    let verdict = '';
    for (let attempt = 1; attempt <= 3; attempt++) {
      const alone: number[] = [];
      const stalled: number[] = [];
      for (let round = 0; round < 3; round++) {
        alone.push(await p95Latency(a, 25));
        const b = new CctferClient(wsUrl, { token: TOKEN });
        await b.connect();
        b.subscribe(['zoom']);
        b.pauseReading();
        stalled.push(await p95Latency(a, 25));
        b.close();
      }
      const reference = median(alone);
      const withSlow = median(stalled);
      verdict = `attempt ${attempt}: p95 alone ${alone.join('/')} ms (median ${reference}), with a stalled client ${stalled.join('/')} ms (median ${withSlow})`;
      t.diagnostic(verdict);
      // Latencies are whole milliseconds: a 3 ms floor keeps the ratio meaningful at ~20 ms.
      if (withSlow <= Math.max(1.2 * reference, reference + 3)) break;
      if (attempt === 3) assert.fail(verdict);
    }
    a.close();
    const stats = running.pipeline.stats()[0];
    // The source kept flowing (no throughput floor here: speed is bench/live's business).
    assert.ok(stats && stats.framesAnalysed > 0 && !stats.ended, JSON.stringify(stats));
  });

  it('the client reconnects after a server restart and re-subscribes', async () => {
    const first = new CctferServer({
      pipeline: running.pipeline,
      model: { name: 'default', members: 2, engine: 'onnx' },
      sources: [{ id: 'zoom', kind: 'file', live: true }],
      port: 0,
      token: TOKEN,
    });
    const { port, url } = await first.listen();
    const client = new CctferClient(`${url.replace('http', 'ws')}/ws`, {
      token: TOKEN,
      reconnect: { minMs: 50, maxMs: 200 },
    });
    const hellos: string[] = [];
    client.on('hello', (h) => hellos.push(h.clientId));
    await client.connect();
    client.subscribe(['zoom']);
    await client.once('frame');
    const closed = client.once('close');
    await first.close();
    const c = await closed;
    assert.ok(c.reconnectInMs !== undefined, 'a reconnect is scheduled');
    await new Promise((r) => setTimeout(r, 300));
    const second = new CctferServer({
      pipeline: running.pipeline,
      model: { name: 'default', members: 2, engine: 'onnx' },
      sources: [{ id: 'zoom', kind: 'file', live: true }],
      port,
      token: TOKEN,
    });
    await second.listen();
    try {
      const frame = await client.once('frame', 10_000);
      assert.equal(frame.source, 'zoom', 'subscriptions are restored');
      assert.equal(hellos.length, 2);
      assert.notEqual(hellos[0], hellos[1]);
    } finally {
      client.close();
      await second.close();
    }
  });
});
