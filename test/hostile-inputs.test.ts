/**
 * Every defect of the independent attack run (issue: hostile clients and careless inputs), one
 * test each, named after the defect. Fresh servers per test; no fixed sleeps.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { raw } from './helpers/raw-client.ts';
import { waitForPath } from './helpers/wait-for-path.ts';
import { startServe, type RunningServer } from '../pipelines/serve.ts';
import { annotateVideos } from '../pipelines/annotate.ts';
import { CctferServer } from '../src/server/server.ts';
import type { ServerMessage } from '../src/server/protocol.ts';
import { decodeFrames } from '../src/video/decode.ts';
import { FaceDetector } from '../src/faces/detector.ts';
import { checkTxt, SUBMISSION_HEADER } from '../src/annotate/submission.ts';
import { ingestEntry } from '../src/train/ingest.ts';
import { parseAffWild2Annotation } from '../src/data/readers/affwild2.ts';
import { wholeImageDetector } from '../src/video/image-frames.ts';
import { resolveFfmpeg } from '../src/video/ffmpeg-binary.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const cli = fileURLToPath(new URL('../bin/cctfer.js', import.meta.url));
const TOKEN = 'hostile-test-token-0123456789';
const tmp = () => mkdtemp(join(tmpdir(), 'cctfer-hostile-'));

async function serve(o: Partial<Parameters<typeof startServe>[0]> = {}): Promise<RunningServer> {
  return startServe({
    sources: [],
    port: 0,
    token: TOKEN,
    web: false,
    rate: { perSecond: 1e6, burst: 1e6 },
    ...o,
  });
}

const wsUrl = (r: RunningServer) => `${r.url.replace('http', 'ws')}/ws?token=${TOKEN}`;

/** HTTP GET with a chosen Host (and Origin/upgrade) header; resolves to the status code. */
function get(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Runs the CLI; resolves with its exit code and output (fails after 45 s: a hang). */
function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`cctfer ${args.join(' ')} still running after 45 s: ${stderr}`));
    }, 45_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/**
 * Sends one 'bytes'-long text message over a raw socket the way a plain client does — writing all
 * of it before reading anything — then reads what the server said: the close code of its close
 * frame, or 1006 when the connection was cut without one.
 */
async function oversizedTextClose(running: RunningServer, bytes: number): Promise<number> {
  const { hostname, port } = new URL(running.url);
  const socket = connect(Number(port), hostname);
  const received: Buffer[] = [];
  socket.on('data', (d: Buffer) => received.push(d));
  socket.on('error', () => {});
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  await new Promise<void>((r) => socket.once('connect', () => r()));
  socket.write(
    `GET /ws?token=${TOKEN} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: Upgrade\r\n` +
      'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  );
  while (!Buffer.concat(received).includes('\r\n\r\n')) {
    if (socket.destroyed) assert.fail('the server closed the connection during the handshake');
    await Promise.race([new Promise((r) => socket.once('data', r)), closed]);
  }
  const head = Buffer.concat(received).toString('latin1');
  assert.match(head, /^HTTP\/1\.1 101/);
  received.length = 0;
  socket.pause(); // a plain client: send everything first
  const header = Buffer.alloc(14);
  header[0] = 0x81; // FIN + text
  header[1] = 0x80 | 127; // masked, 64-bit length
  header.writeBigUInt64BE(BigInt(bytes), 2); // mask key 0: the payload goes as is
  const chunk = Buffer.alloc(1 << 20, 0x78);
  let ok = socket.write(header);
  for (let sent = 0; sent < bytes && !socket.destroyed; sent += chunk.length) {
    if (!ok) await Promise.race([new Promise((r) => socket.once('drain', r)), closed]);
    if (socket.destroyed) break;
    ok = socket.write(chunk);
  }
  socket.resume();
  // The server's close frame (0x88, length, 2-byte code), if one arrives before the socket ends:
  // looked for on every chunk received, and once more when the socket closes.
  const closeCode = () => {
    const all = Buffer.concat(received);
    const at = all.indexOf(0x88);
    return at >= 0 && all.length >= at + 4 ? all.readUInt16BE(at + 2) : undefined;
  };
  const code = await new Promise<number>((resolve) => {
    const check = () => {
      const c = closeCode();
      if (c !== undefined) resolve(c);
    };
    socket.on('data', check);
    socket.once('close', () => resolve(closeCode() ?? 1006));
    check();
  });
  socket.destroy();
  return code;
}

describe('hostile clients', () => {
  it(
    '1 push-timestamps: bad pushed pts are errors for that client; the server and other sources carry on',
    { timeout: 180_000 },
    async () => {
      const running = await serve({ sources: [fixture('zoom.mp4')], loop: true });
      try {
        const watcher = await raw(wsUrl(running));
        watcher.ws.send(JSON.stringify({ type: 'subscribe', sources: ['zoom'] }));
        await watcher.next((m) => m.type === 'frame' && m.source === 'zoom');
        const pusher = await raw(wsUrl(running));
        const png = await readFile(fixture('astronaut.png'));
        // A good frame first: pts 2.0.
        pusher.ws.send('{"type":"push","frame":0,"pts":2}');
        pusher.ws.send(png);
        await pusher.next((m) => m.type === 'frame');
        for (const announce of [
          '{"type":"push","pts":1e16}',
          '{"type":"push","pts":1e309}',
          '{"type":"push","pts":-1}',
          '{"type":"push","pts":"NaN"}',
          '{"type":"push","pts":1.5}', // decreasing
          '{"type":"push","pts":2}', // repeated
        ]) {
          const from = pusher.got.length;
          pusher.ws.send(announce);
          pusher.ws.send(png);
          const err = await pusher.next((m) => m.type === 'error', 30_000, from);
          assert.ok(err.type === 'error', announce);
          assert.match(err.code, /bad_message|bad_timestamp/, `${announce}: ${err.message}`);
        }
        // The pusher can go on with a good timestamp, and the watcher still gets file frames.
        const from = pusher.got.length;
        pusher.ws.send('{"type":"push","frame":9,"pts":3}');
        pusher.ws.send(png);
        const ok = await pusher.next((m) => m.type === 'frame', 30_000, from);
        assert.ok(ok.type === 'frame' && ok.frame === 9 && ok.faces[0]?.label === 'Happiness');
        const seen = watcher.got.length;
        await watcher.next((m) => m.type === 'frame' && m.source === 'zoom', 30_000, seen);
        assert.ok(!watcher.got.some((m) => m.type === 'end'), 'no source ended');
        watcher.ws.close();
        pusher.ws.close();
      } finally {
        await running.close();
      }
    },
  );

  it(
    "2 push-privacy: a '*' subscriber gets no other client's pushed frames, previews or end events",
    { timeout: 180_000 },
    async () => {
      const running = await serve();
      try {
        const nosy = await raw(wsUrl(running));
        nosy.ws.send(JSON.stringify({ type: 'subscribe', sources: ['*'], preview: {} }));
        const pusher = await raw(wsUrl(running));
        await pusher.next((m) => m.type === 'hello');
        const id = (pusher.got[0] as Extract<ServerMessage, { type: 'hello' }>).clientId;
        // The pusher asks for previews too: its own pushed source's pictures come back to it.
        pusher.ws.send(JSON.stringify({ type: 'subscribe', sources: ['*'], preview: {} }));
        pusher.ws.send('{"type":"push","pts":1}');
        pusher.ws.send(await readFile(fixture('astronaut.png')));
        await pusher.next((m) => m.type === 'frame');
        const own = await pusher.nextPreview((h) => h.source === `push:${id}`);
        assert.ok(own.width <= 640 && own.frameWidth === 512, JSON.stringify(own));
        // Results and pictures go to every wanting client at once; a pong sent after arrives after them.
        await nosy.settle('after-frame');
        pusher.ws.close();
        // The push source is forgotten right after its end event went out.
        while (running.pipeline.stats().some((s) => s.source === `push:${id}`))
          await new Promise((r) => setImmediate(r));
        await nosy.settle('after-end');
        const leaked = nosy.got.filter(
          (m) => (m.type === 'frame' || m.type === 'end') && m.source === `push:${id}`,
        );
        assert.deepEqual(leaked, []);
        assert.deepEqual(nosy.previews, [], "no picture of another client's camera");
        nosy.ws.close();
      } finally {
        await running.close();
      }
    },
  );

  it(
    '3 host-header: with --no-auth a foreign Host (DNS rebinding) gets neither /stats nor a WebSocket',
    { timeout: 180_000 },
    async () => {
      const running = await serve({ auth: false });
      try {
        const evil = { host: 'evil.example:8080', origin: 'http://evil.example:8080' };
        assert.equal(await get(`${running.url}/stats`, evil), 421);
        const upgrade = {
          ...evil,
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        };
        assert.notEqual(await get(`${running.url}/ws`, upgrade), 101);
        // The real names still work.
        const port = new URL(running.url).port;
        assert.equal(await get(`${running.url}/stats`, { host: `localhost:${port}` }), 200);
        assert.equal(
          await get(`${running.url}/ws`, {
            ...upgrade,
            host: `127.0.0.1:${port}`,
            origin: `http://localhost:${port}`,
          }),
          101,
        );
      } finally {
        await running.close();
      }
    },
  );

  it('4 short-token: tokens under 16 characters are refused with a clear message', () => {
    const pipeline = {} as never;
    const model = { name: 'x', members: 1, engine: 'onnx' };
    assert.throws(
      () => new CctferServer({ pipeline, model, token: 'a' }),
      /at least 16 characters/,
    );
    assert.throws(
      () => new CctferServer({ pipeline, model, token: '123456789012345' }),
      /at least 16 characters \(got 15\)/,
    );
    assert.doesNotThrow(() => new CctferServer({ pipeline, model, token: '1234567890123456' }));
  });

  it(
    '5 serve-startup-errors: each exits non-zero with one clear line instead of hanging',
    { timeout: 180_000 },
    async () => {
      const busy = createServer();
      await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
      const port = String((busy.address() as { port: number }).port);
      try {
        const cases: [string[], Record<string, string>, RegExp][] = [
          [
            ['--no-auth', '--host', '0.0.0.0'],
            {},
            /auth can be turned off only on a loopback host/,
          ],
          [[], { CCTFER_TOKEN: 'short' }, /at least 16 characters/],
          [['--port', port], { CCTFER_TOKEN: TOKEN }, new RegExp(`port ${port} .*already in use`)],
          [
            ['--port', '70000'],
            { CCTFER_TOKEN: TOKEN },
            /--port must be a whole number from 0 to 65535/,
          ],
          [
            ['--source', '/nonexistent.mp4'],
            { CCTFER_TOKEN: TOKEN },
            /nonexistent\.mp4: no such file/,
          ],
          [['--detect-every', '0'], { CCTFER_TOKEN: TOKEN }, /--detect-every must be 1 or more/],
        ];
        for (const [args, env, message] of cases) {
          const r = await runCli(['serve', ...args], env);
          assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
          const lines = r.stderr.split('\n').filter((l) => l.startsWith('cctfer:'));
          assert.equal(lines.length, 1, r.stderr);
          assert.match(lines[0]!, message);
          assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
        }
      } finally {
        busy.close();
      }
    },
  );

  it(
    '11 oversized-text: a message over the size limit closes with 1009, not 1006',
    { timeout: 180_000 },
    async () => {
      const running = await serve({ maxImageBytes: 1 << 20 });
      try {
        assert.equal(await oversizedTextClose(running, 100 << 20), 1009);
      } finally {
        await running.close();
      }
    },
  );
});

describe('careless inputs', () => {
  /** Faces found in each decoded frame of a clip. */
  async function facesPerFrame(path: string): Promise<number> {
    const detector = await FaceDetector.create();
    let faces = 0;
    for await (const f of decodeFrames(path)) faces += detector.detect(f).length;
    detector.close();
    return faces;
  }

  const ffmpegs = [
    { name: 'npm ffmpeg 4.1', path: resolveFfmpeg({ pathEnv: '' }).path },
    ...(existsSync('/usr/bin/ffmpeg')
      ? [{ name: "Debian's ffmpeg", path: '/usr/bin/ffmpeg' }]
      : []),
  ];
  for (const ff of ffmpegs)
    it(
      `6 rotated-video: a phone-style clip (transposed + rotation tag) finds the untagged clip's faces (${ff.name})`,
      { timeout: 180_000 },
      async () => {
        const dir = await tmp();
        try {
          const plain = join(dir, 'plain.mp4');
          const turned = join(dir, 'turned.mp4');
          const phone = join(dir, 'phone.mp4');
          const enc = ['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-t', '1'];
          execFileSync(ff.path, ['-v', 'error', '-y', '-i', fixture('zoom.mp4'), ...enc, plain]);
          // Pixels stored turned a quarter clockwise, and a tag telling players to turn them back.
          execFileSync(ff.path, [
            '-v',
            'error',
            '-y',
            '-i',
            plain,
            '-vf',
            'transpose=1',
            ...enc,
            turned,
          ]);
          execFileSync(ff.path, [
            '-v',
            'error',
            '-y',
            '-i',
            turned,
            '-c',
            'copy',
            '-metadata:s:v:0',
            'rotate=90',
            phone,
          ]);
          const stderr = (() => {
            try {
              execFileSync(ff.path, ['-hide_banner', '-i', phone], { stdio: 'pipe' });
            } catch (e) {
              return String((e as { stderr: Buffer }).stderr);
            }
            return '';
          })();
          assert.match(stderr, /rotat/i, 'the clip carries a rotation');
          const want = await facesPerFrame(plain);
          const got = await facesPerFrame(phone);
          assert.ok(want >= 20, `untagged clip: ${want} faces`);
          assert.ok(Math.abs(got - want) <= 0.1 * want, `tagged ${got} vs untagged ${want} faces`);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    );

  it(
    '7 annotate-collisions: day1/clip.mp4 and day2/clip.mp4 into one --out are both analysed; Unicode names kept',
    { timeout: 180_000 },
    async () => {
      const dir = await tmp();
      try {
        for (const [day, src] of [
          ['day1', 'zoom.mp4'],
          ['day2', 'vfr.mp4'],
        ] as const) {
          await mkdir(join(dir, day));
          await copyFile(fixture(src), join(dir, day, 'clip.mp4'));
        }
        const uni = join(dir, 'ünïcødé_表情.mp4');
        await copyFile(fixture('zoom.mp4'), uni);
        const out = join(dir, 'out');
        // One run, as a user would start it: the three land in three folders.
        const [a, b, u] = await annotateVideos(
          [join(dir, 'day1', 'clip.mp4'), join(dir, 'day2', 'clip.mp4'), uni],
          { out },
        );
        assert.equal(a?.status, 'done', a?.error);
        assert.equal(b?.status, 'done', `day2: ${b?.status} ${b?.error ?? ''}`);
        assert.notEqual(a?.dir, b?.dir);
        assert.equal(a?.summary?.frames, 75, 'day1 is zoom.mp4 (75 frames)');
        assert.equal(b?.summary?.frames, 64, 'day2 is its own video (vfr.mp4: 64 frames)');
        const again = await annotateVideos([join(dir, 'day1', 'clip.mp4')], { out });
        assert.equal(again[0]?.status, 'skipped', 'the same input finds its own finished output');
        assert.equal(u?.status, 'done', u?.error);
        assert.match(basename(u!.dir), /^ünïcødé_表情/);
        assert.ok((await readdir(out)).includes(basename(u!.dir)));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it(
    '8 train-cache-labels: editing an annotation file re-ingests the entry with the new labels',
    { timeout: 180_000 },
    async () => {
      const dir = await tmp();
      try {
        const crops = join(dir, 'cropped_aligned', 'vid');
        await mkdir(crops, { recursive: true });
        for (let i = 1; i <= 5; i++)
          await sharp({
            create: {
              width: 112,
              height: 112,
              channels: 3,
              background: { r: 40 * i, g: 90, b: 120 },
            },
          })
            .jpeg()
            .toFile(join(crops, `${String(i).padStart(5, '0')}.jpg`));
        const header = 'Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise';
        const ingest = (labels: number[]) =>
          ingestEntry(
            parseAffWild2Annotation(join(dir, 'vid.txt'), [header, ...labels].join('\n') + '\n'),
            {
              videosDir: dir,
              cacheDir: join(dir, 'cache'),
              detector: wholeImageDetector,
              framesRoot: join(dir, 'cropped_aligned'),
              crop: 'aligned',
              size: 32,
            },
          );
        const first = await ingest([0, 1, 2, 3, 4]);
        assert.equal(first.status, 'done', first.error);
        assert.deepEqual(first.cache?.labels, [0, 1, 2, 3, 4]);
        const same = await ingest([0, 1, 2, 3, 4]);
        assert.equal(same.status, 'cached');
        const edited = await ingest([4, 4, 4, 4, 4]);
        assert.equal(edited.status, 'done', 'new labels: ingested again');
        assert.deepEqual(edited.cache?.labels, [4, 4, 4, 4, 4]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it(
    '9 render-leftovers: a kill during MP4 rendering leaves only a hidden folder under --out, and the next run removes it',
    { timeout: 180_000 },
    async () => {
      const dir = await tmp();
      try {
        const out = join(dir, 'out');
        const before = (await readdir(tmpdir())).filter((n) => n.startsWith('cctfer-render-'));
        const child = spawn(process.execPath, [
          cli,
          'annotate',
          fixture('crossing.mp4'),
          '--out',
          out,
          '--video',
          '--quiet',
        ]);
        const exited = new Promise((r) => child.on('exit', r));
        // Outputs are written into a hidden folder under --out; the MP4 is rendered there too.
        const hidden = await waitForPath(
          out,
          (p) => /^\.crossing-[^/]*\.tmp-[^/]*$/.test(p),
          exited,
        );
        assert.ok(hidden, 'the hidden output folder lives under --out');
        const mp4 = await waitForPath(join(out, hidden), (p) => p === 'annotated.mp4', exited);
        child.kill('SIGKILL');
        assert.ok(mp4, 'killed while the MP4 was being rendered');
        const after = (await readdir(tmpdir())).filter((n) => n.startsWith('cctfer-render-'));
        assert.deepEqual(
          after.filter((n) => !before.includes(n)),
          [],
          'nothing new in the system temp',
        );
        // Any run into that --out sweeps it; the shortest fixture keeps this quick.
        const second = await runCli(['annotate', fixture('vfr.mp4'), '--out', out, '--quiet']);
        assert.equal(second.code, 0, second.stderr);
        assert.deepEqual(
          (await readdir(out)).filter((n) => n.startsWith('.')),
          [],
          'swept on start',
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it(
    '10 clear-messages: BOM and empty submission files, and audio-only input, say what is wrong',
    { timeout: 180_000 },
    async () => {
      const bom = checkTxt('a.txt', `\uFEFF${SUBMISSION_HEADER}\n0\n1\n`);
      assert.equal(bom.length, 1);
      assert.match(bom[0]!, /byte-order mark/);
      const empty = checkTxt('b.txt', '');
      assert.equal(empty.length, 1);
      assert.match(empty[0]!, /b\.txt: the file is empty/);
      assert.doesNotMatch(empty[0]!, /-1/);
      const dir = await tmp();
      try {
        const audio = join(dir, 'voice.m4a');
        execFileSync(resolveFfmpeg().path, [
          '-v',
          'error',
          '-f',
          'lavfi',
          '-i',
          'sine=frequency=440:duration=1',
          '-c:a',
          'aac',
          audio,
        ]);
        const [r] = await annotateVideos([audio], { out: join(dir, 'out') });
        assert.equal(r?.status, 'failed');
        assert.match(r?.error ?? '', /voice\.m4a.*no video stream \(audio only\)/);
        assert.doesNotMatch(r?.error ?? '', /At least one output file/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
