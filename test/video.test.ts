import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { resolveFfmpeg } from '../src/video/ffmpeg-binary.ts';
import { decodeFrames, type Frame } from '../src/video/decode.ts';
import { countFrames, probeVideo, VideoInputError } from '../src/video/probe.ts';

const run = promisify(execFile);
const astronaut = fileURLToPath(new URL('../fixtures/astronaut.png', import.meta.url));

async function collect(
  input: string,
  opts: Parameters<typeof decodeFrames>[1] = {},
): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const f of decodeFrames(input, opts)) out.push(f);
  return out;
}

/** Presentation times as ffmpeg's own framecrc muxer reports them (independent of showinfo). */
async function ffmpegPts(path: string, input: string): Promise<number[]> {
  const { stdout } = await run(path, [
    '-hide_banner',
    '-loglevel',
    'error',
    '-i',
    input,
    '-map',
    '0:v:0',
    '-vsync',
    'passthrough',
    '-f',
    'framecrc',
    '-',
  ]);
  const tb = /#tb 0: (\d+)\/(\d+)/.exec(stdout)!;
  return stdout
    .split('\n')
    .filter((l) => /^0,/.test(l))
    .map((l) => (Number(l.split(',')[2]) * Number(tb[1])) / Number(tb[2]));
}

describe('video decoding (ffmpeg)', () => {
  const bin = resolveFfmpeg();
  let dir: string;
  let zoom: string;
  let vfr: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cctfer-video-'));
    zoom = join(dir, 'zoom.mp4');
    vfr = join(dir, 'vfr.mp4');
    // A zoom over the public-domain astronaut portrait, then a variable-frame-rate retiming of it.
    await run(bin.path, [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-loop',
      '1',
      '-i',
      astronaut,
      '-vf',
      "zoompan=z='min(zoom+0.004,1.6)':d=1:s=320x240:fps=25,format=yuv420p",
      '-frames:v',
      '30',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      zoom,
    ]);
    await run(bin.path, [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-i',
      zoom,
      '-vf',
      "setpts='if(lt(N,10),N*0.04,if(lt(N,20),0.4+(N-10)*0.1,1.4+(N-20)*0.02))/TB'",
      '-vsync',
      'vfr',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      vfr,
    ]);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('probes stream facts without ffprobe', async () => {
    const info = await probeVideo(zoom, bin);
    assert.equal(info.codec, 'h264');
    assert.deepEqual([info.width, info.height], [320, 240]);
    assert.equal(info.fps, 25);
  });

  for (const name of ['zoom', 'vfr'] as const) {
    it(`${name}: every frame once, count and timestamps equal ffmpeg's own`, async () => {
      const input = name === 'zoom' ? zoom : vfr;
      const frames = await collect(input);
      assert.equal(frames.length, await countFrames(input, bin));
      assert.deepEqual(
        frames.map((f) => f.index),
        frames.map((_, i) => i),
      );
      const expected = await ffmpegPts(bin.path, input);
      assert.equal(frames.length, expected.length);
      frames.forEach((f, i) =>
        assert.ok(Math.abs(f.pts - expected[i]!) < 1e-3, `frame ${i}: ${f.pts} vs ${expected[i]}`),
      );
      assert.equal(frames[0]!.data.length, 320 * 240 * 4);
    });
  }

  for (const name of ['zoom.mp4', 'vfr.mp4', 'crossing.mp4']) {
    it(`fixtures/${name}: frame count and timestamps equal ffmpeg's own`, async () => {
      const input = fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
      const frames = await collect(input);
      const expected = await ffmpegPts(bin.path, input);
      assert.equal(frames.length, expected.length);
      assert.equal(frames.length, await countFrames(input, bin));
      frames.forEach((f, i) => assert.ok(Math.abs(f.pts - expected[i]!) < 1e-3, `frame ${i}`));
    });
  }

  it('the variable-frame-rate clip really has uneven gaps (no constant-rate resampling)', async () => {
    const gaps = (await collect(vfr))
      .map((f) => f.pts)
      .slice(1)
      .map((t, i, a) => t - (i === 0 ? 0 : a[i - 1]!));
    assert.ok(Math.max(...gaps) > 2.5 * Math.min(...gaps), `gaps ${gaps}`);
  });

  it('maxSize scales down keeping the aspect ratio; start/duration cut the input', async () => {
    const frames = await collect(zoom, { maxSize: 160, start: 0.4, duration: 0.4 });
    assert.deepEqual([frames[0]!.width, frames[0]!.height], [160, 120]);
    assert.equal(frames.length, 10);
  });

  it('a slow consumer gets every frame (backpressure, no loss), and breaking early stops ffmpeg', async () => {
    let last = -1;
    for await (const f of decodeFrames(zoom)) {
      assert.equal(f.index, last + 1);
      last = f.index;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(last, 29);
    let seen = 0;
    for await (const f of decodeFrames(zoom)) {
      seen = f.index;
      if (f.index === 3) break;
    }
    assert.equal(seen, 3);
  });

  it("target fps subsamples the stream (timestamps stay the stream's)", async () => {
    const frames = await collect(zoom, { fps: 5 });
    assert.ok(
      frames.length >= 5 && frames.length <= 7,
      `${frames.length} frames at 5 fps from a 1.2 s clip`,
    );
    frames
      .slice(1)
      .forEach((f, i) => assert.ok(Math.abs(f.pts - frames[i]!.pts - 0.2) < 1e-3, `gap at ${i}`));
  });

  it('an unsupported codec is a clear error', async () => {
    const mkv = join(dir, 'ok.mkv');
    await run(bin.path, [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-i',
      zoom,
      '-c',
      'copy',
      mkv,
    ]);
    const bytes = await readFile(mkv);
    const at = bytes.indexOf('V_MPEG4/ISO/AVC');
    assert.ok(at > 0);
    bytes.write('V_XYZW1/ISO/AVC', at);
    const bad = join(dir, 'bad.mkv');
    await writeFile(bad, bytes);
    await assert.rejects(
      collect(bad),
      /bad.mkv: unsupported video codec \(Unknown\/unsupported AVCodecID V_XYZW1/,
    );
  });

  it('bad input: missing file, non-video file, file without a video stream, truncated video', async () => {
    await assert.rejects(
      collect(join(dir, 'nope.mp4')),
      (e: Error) => e instanceof VideoInputError && /nope.mp4: file not found/.test(e.message),
    );
    const text = join(dir, 'notes.mp4');
    await writeFile(text, 'this is not a video\n');
    await assert.rejects(collect(text), /notes.mp4: not a readable video/);
    const audio = join(dir, 'tone.wav');
    await run(bin.path, [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:duration=0.5',
      audio,
    ]);
    await assert.rejects(collect(audio), /tone.wav: has no video stream \(audio only\)/);
    // An MPEG-TS cut in the middle still yields the frames before the cut (documented outcome).
    const ts = join(dir, 'clip.ts');
    await run(bin.path, ['-hide_banner', '-loglevel', 'error', '-y', '-i', zoom, '-c', 'copy', ts]);
    const bytes = await readFile(ts);
    const cut = join(dir, 'cut.ts');
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const frames = await collect(cut);
    assert.ok(
      frames.length > 0 && frames.length < 30,
      `${frames.length} frames from the truncated clip`,
    );
  });
});
