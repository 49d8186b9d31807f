import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'node:http';
import { raw } from './helpers/raw-client.ts';
import { startServe, type RunningServer } from '../pipelines/serve.ts';
import { CctferClient } from '../src/client/index.ts';
import { CctferServer } from '../src/server/server.ts';
import { PROTOCOL_VERSION, type ServerMessage } from '../src/server/protocol.ts';
import { Rng } from '../src/util/rng.ts';
import { AFFWILD2_CLASSES } from '../src/data/classes.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const TOKEN = 'test-token-0123456789';

describe('cctfer serve: WebSocket server end to end', () => {
  let running: RunningServer;
  let wsUrl: string;
  let scratch: string;
  // A fresh server per test: no test sees another's clients, sources or counters.
  beforeEach(async () => {
    // A source that fails mid-stream: a truncated MP4 (a missing file is refused at start).
    scratch = await mkdtemp(join(tmpdir(), 'cctfer-server-'));
    const broken = join(scratch, 'broken.mp4');
    await writeFile(broken, (await readFile(fixture('zoom.mp4'))).subarray(0, 2000));
    running = await startServe({
      sources: [fixture('zoom.mp4'), broken],
      port: 0,
      token: TOKEN,
      pace: 'none',
      web: false,
      rate: { perSecond: 1e6, burst: 1e6 },
      maxMessageBytes: 4096,
      maxImageBytes: 1 << 20,
    });
    wsUrl = running.url.replace('http', 'ws') + '/ws';
  });
  afterEach(async () => {
    await running?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it(
    'sends one frame message per analysed frame, with sane values, then end',
    { timeout: 120_000 },
    async () => {
      const a = new CctferClient(wsUrl, { token: TOKEN });
      const frames: ServerMessage[] = [];
      a.on('frame', (m) => frames.push(m));
      const invalid: string[] = [];
      a.on('invalid', (m) => invalid.push(m.problem));
      const hello = await a.connect();
      assert.deepEqual(hello.model.classes, [...AFFWILD2_CLASSES]);
      assert.deepEqual(
        hello.sources.map((s) => s.id),
        ['zoom', 'broken'],
      );
      const ended = a.once('end', 60_000);
      a.subscribe(['zoom']);
      const end = await ended;
      assert.equal(end.source, 'zoom');
      assert.equal(end.reason, 'eof');
      assert.equal(end.frames, 75);
      assert.equal(frames.length, 75, 'one message per decoded frame (lossless when not paced)');
      assert.deepEqual(invalid, []);
      let withFace = 0;
      frames.forEach((m, i) => {
        assert.ok(m.type === 'frame');
        assert.equal(m.frame, i);
        assert.equal(m.width, 640);
        assert.ok(m.latencyMs >= 0);
        if (m.faces.length) withFace++;
        for (const f of m.faces) {
          const sum = f.probs.reduce((s, p) => s + p, 0);
          assert.ok(Math.abs(sum - 1) < 2e-3, `probs sum to ${sum}`);
          assert.ok(Math.abs(f.smoothed.reduce((s, p) => s + p, 0) - 1) < 2e-3);
          assert.ok(f.consensus >= 0 && f.consensus <= 1);
          assert.ok(AFFWILD2_CLASSES.includes(f.label as never));
          assert.ok(f.box.width > 50 && f.box.x >= -f.box.width && f.box.x < 640);
          assert.equal(f.id, 1, 'one face, one track');
        }
      });
      assert.ok(withFace >= 72, `faces found in ${withFace}/75 frames`);
      const last = frames.at(-1);
      assert.ok(last?.type === 'frame' && last.faces[0]?.smoothedLabel === 'Happiness');
      a.close();
    },
  );

  it(
    'a source that fails sends error and end, and the server keeps serving',
    { timeout: 120_000 },
    async () => {
      const c = await raw(`${wsUrl}?token=${TOKEN}`);
      c.ws.send(JSON.stringify({ type: 'subscribe', sources: ['broken'] }));
      const err = await c.next((m) => m.type === 'error');
      assert.ok(err.type === 'error' && err.code === 'source_failed' && err.source === 'broken');
      assert.match(err.message, /broken/);
      const end = await c.next((m) => m.type === 'end');
      assert.ok(end.type === 'end' && end.reason === 'error' && end.frames === 0);
      c.ws.send(JSON.stringify({ type: 'ping', id: 7 }));
      assert.deepEqual(await c.next((m) => m.type === 'pong'), { type: 'pong', id: 7 });
      c.ws.close();
    },
  );

  it(
    'refuses missing and wrong tokens and foreign origins; accepts the query token',
    { timeout: 120_000 },
    async () => {
      await assert.rejects(raw(wsUrl), /HTTP 401/);
      await assert.rejects(raw(wsUrl, { authorization: 'Bearer nope' }), /HTTP 401/);
      await assert.rejects(raw(`${wsUrl}?token=${TOKEN}x`), /HTTP 401/);
      await assert.rejects(
        raw(`${wsUrl}?token=${TOKEN}`, { origin: 'http://evil.example' }),
        /HTTP 403/,
      );
      await assert.rejects(new CctferClient(wsUrl, { token: 'wrong' }).connect(), /401/);
      const ok = await raw(`${wsUrl}?token=${TOKEN}`);
      assert.equal((await ok.next((m) => m.type === 'hello')).type, 'hello');
      // Play the file through, so that the metrics below have something to count.
      ok.ws.send(JSON.stringify({ type: 'subscribe', sources: ['zoom'] }));
      await ok.next((m) => m.type === 'end' && m.source === 'zoom', 60_000);
      ok.ws.close();
      // HTTP side: health is open, stats and metrics need the token.
      assert.equal((await fetch(`${running.url}/health`)).status, 200);
      assert.equal((await fetch(`${running.url}/metrics`)).status, 401);
      const metrics = await fetch(`${running.url}/metrics`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(metrics.status, 200);
      assert.match(await metrics.text(), /cctfer_frames_analysed_total\{source="zoom"\} 75/);
      const stats = (await (await fetch(`${running.url}/stats?token=${TOKEN}`)).json()) as {
        sources: { source: string }[];
      };
      assert.ok(stats.sources.some((s) => s.source === 'zoom'));
    },
  );

  it(
    'answers malformed, unknown, oversized and binary-garbage messages with errors',
    { timeout: 120_000 },
    async () => {
      const c = await raw(wsUrl, { authorization: `Bearer ${TOKEN}` });
      await c.next((m) => m.type === 'hello');
      const cases: [string | Buffer, string][] = [
        ['{"type": "subscribe", ', 'bad_json'],
        ['[1,2,3]', 'bad_message'],
        ['{"type":"launch-missiles"}', 'unknown_type'],
        ['{"type":"subscribe","sources":"zoom"}', 'bad_message'],
        ['{"type":"ping","extra":1}', 'bad_message'],
        [JSON.stringify({ type: 'ping', id: 'x'.repeat(5000) }), 'too_large'],
        [Buffer.from([1, 2, 3, 4, 5, 6]), 'bad_image'],
        [Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(100, 7)]), 'bad_image'],
        [Buffer.alloc((1 << 20) + 10, 0x89), 'too_large'],
        ['{"type":"subscribe","sources":["nope"]}', 'unknown_source'],
      ];
      for (const [payload, code] of cases) {
        const from = c.got.length;
        c.ws.send(payload);
        const m = await c.next((x) => x.type === 'error', 10_000, from);
        assert.ok(m.type === 'error');
        assert.equal(m.code, code, `${String(payload).slice(0, 40)} → ${m.message}`);
      }
      c.ws.send('{"type":"ping","id":"still-here"}');
      assert.deepEqual(await c.next((m) => m.type === 'pong'), { type: 'pong', id: 'still-here' });
      c.ws.close();
    },
  );

  it(
    'survives a seeded fuzz of 10,000 random and mutated messages',
    { timeout: 120_000 },
    async () => {
      const rng = new Rng(2021);
      const valid = [
        '{"type":"subscribe","sources":["zoom"]}',
        '{"type":"unsubscribe","sources":["*"]}',
        '{"type":"ping","id":1}',
        '{"type":"stats"}',
        '{"type":"push","frame":3,"pts":0.5}',
        // Timestamps that once killed the server (tracker: "timestamps must increase").
        '{"type":"push","pts":1e16}',
        '{"type":"push","frame":1,"pts":1e309}',
        '{"type":"push","pts":-1e-9}',
      ];
      const c = await raw(wsUrl, { authorization: `Bearer ${TOKEN}` });
      await c.next((m) => m.type === 'hello');
      let binary = 0;
      for (let i = 0; i < 10_000; i++) {
        const kind = rng.next();
        if (kind < 0.1) {
          binary++;
          const bytes = Buffer.alloc(1 + Math.floor(rng.next() * 64));
          for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rng.next() * 256);
          if (rng.next() < 0.3) bytes.set([0x89, 0x50, 0x4e, 0x47].slice(0, bytes.length));
          c.ws.send(bytes);
        } else {
          const chars = [...(valid[Math.floor(rng.next() * valid.length)] as string)];
          const edits = Math.floor(rng.next() * 4);
          for (let e = 0; e < edits; e++) {
            const at = Math.floor(rng.next() * chars.length);
            const op = rng.next();
            if (op < 0.4) chars.splice(at, 1);
            else if (op < 0.8) chars[at] = String.fromCharCode(Math.floor(rng.next() * 0x250));
            else chars.splice(at, 0, '{"[]:,\\'[Math.floor(rng.next() * 8)] as string);
          }
          c.ws.send(chars.join(''));
        }
        // Now and then, wait until the server has answered everything sent so far (a ping round
        // trip), so the test measures the server, not our buffers.
        if (i % 100 === 99) await c.settle(`drain-${i}`);
      }
      c.ws.send('{"type":"ping","id":"after-fuzz"}');
      assert.deepEqual(await c.next((m) => m.type === 'pong' && m.id === 'after-fuzz', 60_000), {
        type: 'pong',
        id: 'after-fuzz',
      });
      const errors = c.got.filter((m) => m.type === 'error').length;
      assert.ok(errors > 1000, `${errors} errors answered`);
      // Host headers: only loopback names (and the listening address) are served.
      const port = new URL(running.url).port;
      const hosts = ['evil.example', 'localhost.evil', '127.0.0.2', '[::1', 'x'.repeat(300)];
      for (let i = 0; i < 200; i++) {
        const base = hosts[Math.floor(rng.next() * hosts.length)] as string;
        const host = rng.next() < 0.5 ? `${base}:${port}` : base;
        const status = await new Promise<number>((resolve, reject) => {
          const req = request(`${running.url}/health`, { headers: { host } });
          req.on('response', (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
          req.end();
        }).catch(() => 400);
        assert.ok(status === 421 || status === 400, `Host '${host.slice(0, 40)}' → ${status}`);
      }
      assert.equal((await fetch(`${running.url}/health`)).status, 200);
      assert.ok(binary > 500);
      c.ws.close();
      // And a fresh client still gets a full, correct hello.
      // Never reconnecting: a failed assertion must not leave a client that keeps the process up.
      const d = new CctferClient(wsUrl, { token: TOKEN, reconnect: false });
      try {
        assert.equal((await d.connect()).protocol, PROTOCOL_VERSION);
        assert.ok((await d.ping()) >= 0);
      } finally {
        d.close();
      }
    },
  );

  it(
    'analyses frames a client pushes (PNG) and sends the results back to it',
    { timeout: 120_000 },
    async () => {
      const client = new CctferClient(wsUrl, { token: TOKEN });
      await client.connect();
      const png = await readFile(fixture('astronaut.png'));
      const got = client.once('frame', 30_000);
      client.pushImage(png, { frame: 41, pts: 1.5 });
      const m = await got;
      assert.equal(m.source, `push:${client.hello?.clientId}`);
      assert.equal(m.frame, 41);
      assert.equal(m.faces.length, 1);
      assert.equal(m.faces[0]?.label, 'Happiness');
      client.close();
    },
  );

  it(
    'rate-limits a flooding client with an error, and keeps serving it afterwards',
    { timeout: 120_000 },
    async () => {
      const strict = new CctferServer({
        pipeline: running.pipeline,
        model: { name: 'default', members: 2, engine: 'onnx' },
        port: 0,
        token: TOKEN,
        rate: { perSecond: 20, burst: 20 },
      });
      const { url } = await strict.listen();
      try {
        const c = await raw(`${url.replace('http', 'ws')}/ws?token=${TOKEN}`);
        await c.next((m) => m.type === 'hello');
        const t0 = performance.now();
        for (let i = 0; i < 100; i++) c.ws.send(`{"type":"ping","id":${i}}`);
        const err = await c.next((m) => m.type === 'error');
        const seconds = (performance.now() - t0) / 1000;
        assert.ok(err.type === 'error' && err.code === 'rate_limited');
        // The burst, plus what the bucket refilled while the 100 were sent (more on a slow machine).
        const pongs = c.got.filter((m) => m.type === 'pong').length;
        assert.ok(pongs >= 20 && pongs <= 20 + Math.ceil(20 * seconds) + 1, `${pongs} pongs`);
        // Served again once the bucket refills: a ping a tenth of a second until one is answered.
        let answered = false;
        for (let i = 0; !answered; i++) {
          c.ws.send(`{"type":"ping","id":"later-${i}"}`);
          answered = await c
            .next((m) => m.type === 'pong' && String(m.id).startsWith('later'), 100)
            .then(
              () => true,
              () => false,
            );
        }
        c.ws.close();
      } finally {
        await strict.close();
      }
    },
  );
});

describe('cctfer serve: configuration errors', () => {
  it('needs a token unless auth is off, and auth may be off on loopback only', () => {
    const pipeline = {} as never;
    const model = { name: 'x', members: 1, engine: 'onnx' };
    assert.throws(() => new CctferServer({ pipeline, model }), /token is required/);
    assert.throws(
      () => new CctferServer({ pipeline, model, auth: false, host: '0.0.0.0' }),
      /loopback only|only on a loopback/,
    );
    assert.doesNotThrow(() => new CctferServer({ pipeline, model, auth: false }));
  });
});
