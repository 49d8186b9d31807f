import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { startServe, type RunningServer } from '../pipelines/serve.ts';
import { CctferClient } from '../src/client/index.ts';
import { CctferServer } from '../src/server/server.ts';
import { Outbox } from '../src/server/outbox.ts';
import { TokenBucket } from '../src/server/rate-limit.ts';

const zoom = fileURLToPath(new URL('../fixtures/zoom.mp4', import.meta.url));
const TOKEN = 'slow-client-token-0123';

describe('Outbox (per-client queue)', () => {
  it('stays bounded for a socket that never confirms a write, dropping the oldest frames', () => {
    const sent: (string | Buffer)[] = [];
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
    const sent: (string | Buffer)[] = [];
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

  it('keeps at most one preview picture waiting: a newer one replaces it, frames are kept', () => {
    const sent: (string | Buffer)[] = [];
    const box = new Outbox({ send: (d) => void sent.push(d) }, () => {}, 4, 8, 1);
    box.sendFrame('f0'); // in flight, never confirmed
    for (let i = 0; i < 5; i++) {
      box.sendFrame(`f${i + 1}`);
      box.sendPreview(Buffer.from(`p${i + 1}`));
    }
    assert.equal(box.previewsDropped, 4);
    assert.equal(box.dropped, 1, 'frames: only the queue bound drops them');
    assert.equal(box.waiting, 5, 'four frames and the newest picture');
    box.sendControl('c');
    assert.equal(box.waiting, 6);
  });

  it('token bucket: burst, then the average rate', () => {
    let t = 0;
    const b = new TokenBucket(10, 5, () => t);
    assert.equal([...Array(8)].filter(() => b.take()).length, 5);
    t += 300;
    assert.equal([...Array(8)].filter(() => b.take()).length, 3);
  });
});

describe('slow clients and reconnects (paced source)', () => {
  let running: RunningServer;
  let wsUrl: string;
  // A fresh server per test.
  beforeEach(async () => {
    running = await startServe({
      sources: [zoom],
      port: 0,
      token: TOKEN,
      pace: 'native',
      loop: true,
      web: false,
      // The reconnect test puts servers of its own in front of this pipeline: play from the start.
      startImmediately: true,
    });
    wsUrl = running.url.replace('http', 'ws') + '/ws';
  });
  afterEach(async () => running?.close());

  it(
    'a client that stops reading does not hold up another: it gets every frame, none dropped',
    { timeout: 120_000 },
    async () => {
      // The latency comparison (p95 alone vs beside a stalled client) is bench/slow-client's.
      const a = new CctferClient(wsUrl, { token: TOKEN });
      await a.connect();
      a.subscribe(['zoom']);
      await a.once('frame', 30_000);
      const b = new CctferClient(wsUrl, { token: TOKEN });
      await b.connect();
      b.subscribe(['zoom']);
      b.pauseReading();
      const got: { frame: number; clientDropped: number; dropped: number }[] = [];
      await new Promise<void>((resolve) => {
        const off = a.on('frame', (m) => {
          got.push(m);
          if (got.length >= 60) {
            off();
            resolve();
          }
        });
      });
      b.close();
      a.close();
      // Frames the source itself dropped (latest wins under load) are not A's: none were A's own.
      assert.ok(
        got.every((m) => m.clientDropped === 0),
        'A lost no frame to its queue',
      );
      const gaps = got.slice(1).map((m, i) => m.frame - (got[i] as { frame: number }).frame);
      const sourceDrops = (got.at(-1)?.dropped ?? 0) - (got[0]?.dropped ?? 0);
      assert.equal(
        gaps.reduce((s, g) => s + g - 1, 0),
        sourceDrops,
        'every frame the source analysed reached A',
      );
      const stats = running.pipeline.stats()[0];
      assert.ok(stats && stats.framesAnalysed > 0 && !stats.ended, JSON.stringify(stats));
    },
  );

  it(
    'the client reconnects after a server restart and re-subscribes',
    { timeout: 120_000 },
    async () => {
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
      // At least one reconnect attempt fails while no server listens (it schedules the next).
      const failed = await client.once('close', 10_000);
      assert.ok(failed.reconnectInMs !== undefined, 'a failed attempt schedules another');
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
    },
  );
});
