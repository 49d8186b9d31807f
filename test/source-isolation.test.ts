/**
 * One analysis core, each source on its own: a looped AVI (whose timestamps restart at every
 * loop) keeps playing with increasing timestamps while another source and two clients carry on,
 * and a source whose decoder crashes mid-stream ends alone; the server still answers a new client.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServe } from '../pipelines/serve.ts';
import { CctferClient } from '../src/client/index.ts';
import { passthroughTiming, resolveFfmpeg, type FfmpegBinary } from '../src/video/ffmpeg-binary.ts';
import { decodeFrames, loopTimeline } from '../src/video/decode.ts';
import type { ServerMessage } from '../src/server/protocol.ts';

const zoom = fileURLToPath(new URL('../fixtures/zoom.mp4', import.meta.url));
const TOKEN = 'isolation-test-token-0123';
type Frame = Extract<ServerMessage, { type: 'frame' }>;
type End = Extract<ServerMessage, { type: 'end' }>;

/**
 * The real ffmpeg, except that decoding a file named crash.avi dies with an error after `bytes`
 * of output: a decoder crash mid-stream, on demand.
 */
async function crashingFfmpeg(dir: string, bytes: number): Promise<FfmpegBinary> {
  const real = resolveFfmpeg({ pathEnv: process.env.PATH ?? '' });
  const path = join(dir, 'ffmpeg-crash');
  await writeFile(
    path,
    [
      '#!/bin/sh',
      'case "$*" in',
      `  *crash.avi*rawvideo*) '${real.path}' "$@" | head -c ${bytes}; exit 1 ;;`,
      'esac',
      `exec '${real.path}' "$@"`,
      '',
    ].join('\n'),
  );
  await chmod(path, 0o755);
  return { ...real, path };
}

describe('loop timeline', () => {
  it('offsets a restarting timeline by one frame after the last; leaves an increasing one alone', () => {
    const t = loopTimeline(25);
    const out = [0, 0.04, 0.08, 0, 0.04, 0.08, 0].map(t);
    assert.deepEqual(
      out.map((v) => Math.round(v * 100) / 100),
      [0, 0.04, 0.08, 0.12, 0.16, 0.2, 0.24],
    );
    const mp4 = loopTimeline(25);
    assert.deepEqual([0, 0.04, 0.08, 0.12].map(mp4), [0, 0.04, 0.08, 0.12]);
  });
});

describe('serve: sources fail alone', () => {
  it(
    'a looped AVI plays ≥ 3 loops beside another source; a crashing source ends alone',
    { timeout: 180_000 },
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'cctfer-isolation-'));
      const real = resolveFfmpeg({ pathEnv: process.env.PATH ?? '' });
      const avi = join(dir, 'loop.avi');
      const crash = join(dir, 'crash.avi');
      // MPEG-4 with B-frames in AVI (an Xvid-style file): ffmpeg's timestamps step back at every
      // loop, which is what used to end the tracker and, through the shared chain, the server.
      for (const out of [avi, crash])
        execFileSync(
          real.path,
          ['-v', 'error', '-i', zoom, '-t', '0.6', '-an', '-c:v', 'mpeg4'].concat([
            '-bf',
            '2',
            '-y',
            out,
          ]),
        );
      const shown = spawnSync(
        real.path,
        ['-hide_banner', '-stream_loop', '1', '-i', avi, '-map', '0:v:0', '-vf', 'showinfo'].concat(
          [...(await passthroughTiming(real)), '-f', 'null', '-'],
        ),
        { encoding: 'utf8' },
      ).stderr;
      const ffmpegPts = [...shown.matchAll(/pts_time:([\d.]+)/g)].map((m) => Number(m[1]));
      assert.ok(
        ffmpegPts.some((t, i) => i > 0 && t <= (ffmpegPts[i - 1] as number)),
        `ffmpeg's own timestamps step back at the loop: ${ffmpegPts.join(' ')}`,
      );
      const raw: number[] = [];
      for await (const f of decodeFrames(avi, { loop: true, ffmpeg: real })) {
        raw.push(f.pts);
        if (raw.length >= 40) break;
      }
      const perLoop = 15;
      assert.ok(
        raw.every((t, i) => i === 0 || t > (raw[i - 1] as number)),
        `looped timestamps increase: ${raw.join(' ')}`,
      );

      const ffmpeg = await crashingFfmpeg(dir, 10 * 640 * 480 * 4);
      const running = await startServe({
        sources: [avi, zoom, crash],
        port: 0,
        token: TOKEN,
        web: false,
        pace: 'native',
        loop: true,
        ffmpeg,
      });
      const url = `${running.url.replace('http', 'ws')}/ws`;
      const clients: CctferClient[] = [];
      try {
        const first = new CctferClient(url, { token: TOKEN, reconnect: false });
        clients.push(first);
        const hello = await first.connect();
        const ids = hello.sources.map((s) => s.id);
        const [loopId, zoomId, crashId] = ids as [string, string, string];
        const seen = [0, 1].map(() => ({
          frames: new Map<string, Frame[]>(),
          ends: [] as End[],
          errors: [] as string[],
        }));
        const done = Promise.all(
          seen.map(async (s) => {
            const c = new CctferClient(url, { token: TOKEN, reconnect: false });
            clients.push(c);
            await c.connect();
            c.on('error', (m) => s.errors.push(`${m.source}: ${m.message}`));
            c.subscribe(['*']);
            await new Promise<void>((resolve) => {
              let zoomAfterCrash = 0;
              const check = () => {
                const loops = (s.frames.get(loopId)?.at(-1)?.frame ?? 0) / perLoop;
                if (loops >= 3.2 && zoomAfterCrash >= 5) resolve();
              };
              c.on('end', (m) => (s.ends.push(m), check()));
              c.on('frame', (m) => {
                const list = s.frames.get(m.source) ?? [];
                list.push(m);
                s.frames.set(m.source, list);
                if (m.source === zoomId && s.ends.some((e) => e.source === crashId))
                  zoomAfterCrash++;
                check();
              });
            });
          }),
        );
        await done;
        for (const [k, s] of seen.entries()) {
          assert.deepEqual(
            s.ends.map((e) => [e.source, e.reason]),
            [[crashId, 'error']],
            `client ${k}: only the crashing source ended`,
          );
          assert.ok(
            s.errors.some((e) => e.startsWith(crashId)),
            `client ${k}: ${s.errors.join('; ')}`,
          );
          for (const id of [loopId, zoomId]) {
            const pts = (s.frames.get(id) ?? []).map((f) => f.pts);
            assert.ok(
              pts.every((t, i) => i === 0 || t > (pts[i - 1] as number)),
              `client ${k}, ${id}: timestamps increase (${pts.slice(0, 60).join(' ')})`,
            );
          }
          const loopFrames = s.frames.get(loopId) ?? [];
          assert.ok((loopFrames.at(-1)?.pts ?? 0) > 3 * 0.6 - 0.1, 'three loops played');
          assert.ok(
            loopFrames.some((f) => f.faces.length > 0),
            'faces found in the looped clip',
          );
        }
        // The server still answers a new client, and the looped source is still playing.
        const late = new CctferClient(url, { token: TOKEN, reconnect: false });
        clients.push(late);
        await late.connect();
        late.subscribe([loopId]);
        const f = await new Promise<Frame>((resolve) => late.on('frame', resolve));
        assert.equal(f.source, loopId);
      } finally {
        for (const c of clients) c.close();
        await running.close();
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
