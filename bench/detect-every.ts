/**
 * bench/detect-every: what detecting on every k-th frame costs in faces and buys in speed.
 *
 * Match: each clip's frames are detected in full once (BlazeFace full-range, every frame); then the
 * real detectFaces operator with `every: k` runs over the same frames, its detector answering
 * from those full detections, so the frames it does not detect get carried boxes. On those carried
 * frames, a face of full detection counts as matched if a carried box overlaps it with IoU ≥ 0.5
 * (each carried box used once). Extra: carried boxes that match no detected face.
 * Speed: `annotate` (bench/peers/cctfer-side.ts, default bundle, steady state with decoding) with
 * each k, interleaved over `--rounds`, in its own process.
 *
 *   npx tsx bench/detect-every.ts [--every 1,2,3] [--rounds 2] [--write detect-every]
 */
import { execFileSync } from 'node:child_process';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { from, lastValueFrom, toArray } from 'rxjs';
import { commandLine, median, printResults, threeFacesClip } from './bench-output.ts';
import { FaceDetector, type FaceDetection } from '../src/faces/detector.ts';
import { iou } from '../src/faces/tracker.ts';
import { detectFaces } from '../src/stream/operators.ts';
import { decodeFrames, type Frame } from '../src/video/decode.ts';

const opts = new Command('detect-every')
  .description('carried boxes vs full detection, and annotate fps, for each --detect-every k')
  .option('--every <list>', 'values of k', '1,2,3')
  .option('--rounds <n>', 'annotate runs per k and clip (interleaved)', '2')
  .option('--write <name>', 'also write bench/results/<name>.md')
  .parse()
  .opts<{ every: string; rounds: string; write?: string }>();
const ks = opts.every.split(',').map(Number);

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const threeFaces = threeFacesClip();
const clips = [here('../fixtures/crossing.mp4'), here('../fixtures/zoom.mp4'), threeFaces];

/** Faces of `truth` matched by a box of `got` with IoU ≥ 0.5 (greedy, each box once). */
function matched(truth: readonly FaceDetection[], got: readonly FaceDetection[]): number {
  const pairs = truth.flatMap((t, ti) =>
    got.map((g, gi) => ({ ti, gi, o: iou(t.box, g.box) })).filter((p) => p.o >= 0.5),
  );
  pairs.sort((a, b) => b.o - a.o);
  const usedT = new Set<number>();
  const usedG = new Set<number>();
  for (const p of pairs) {
    if (usedT.has(p.ti) || usedG.has(p.gi)) continue;
    usedT.add(p.ti);
    usedG.add(p.gi);
  }
  return usedT.size;
}

const detector = await FaceDetector.create({ model: 'full-range' });
const rows: string[] = [];
for (const clip of clips) {
  // Frames keep only what the operator reads; full detections are indexed by frame.
  const frames: Frame[] = [];
  const full: FaceDetection[][] = [];
  for await (const f of decodeFrames(clip)) {
    full.push(detector.detect(f));
    frames.push({ ...f, data: new Uint8Array(0) });
  }
  const fps: Record<number, number[]> = {};
  for (let r = 0; r < Number(opts.rounds); r++) {
    for (const k of r % 2 ? [...ks].reverse() : ks) {
      const out = execFileSync(
        process.execPath,
        ['--import', 'tsx', here('./peers/cctfer-side.ts'), clip, '10', String(k)],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
      );
      const run = JSON.parse(out.trim().split('\n').pop() as string) as { fps: number };
      (fps[k] ??= []).push(run.fps);
      console.error(`${basename(clip)} k=${k}: ${run.fps.toFixed(1)} fps`);
    }
  }
  for (const k of ks) {
    const answered = { detect: (f: Frame) => full[f.index] as FaceDetection[] };
    const out = await lastValueFrom(
      from(frames.map((frame) => ({ frame, receivedAt: 0, dropped: 0 }))).pipe(
        detectFaces(answered, { every: k }),
        toArray(),
      ),
    );
    let truth = 0;
    let hit = 0;
    let extra = 0;
    let output = 0;
    out.forEach((job, i) => {
      output += job.detections.length;
      if (i % k === 0) return;
      const t = full[i] as FaceDetection[];
      const m = matched(t, job.detections);
      truth += t.length;
      hit += m;
      extra += job.detections.length - m;
    });
    const total = full.reduce((n, d) => n + d.length, 0);
    const runs = fps[k] as number[];
    rows.push(
      `| ${basename(clip)} | ${k} | ${truth ? ((100 * hit) / truth).toFixed(1) + '%' : '–'} (${hit}/${truth}) | ${extra} | ${output} vs ${total} | ${median(runs).toFixed(1)} (${runs.map((x) => x.toFixed(1)).join(', ')}) |`,
    );
  }
}
detector.close();
const md = [
  `# bench/detect-every — ${new Date().toISOString().slice(0, 10)}`,
  '',
  `Command: \`${commandLine('detect-every')}\`. Detector: BlazeFace full-range. "carried frames": frames the operator did not detect; a face of full detection on such a frame is matched when a carried box has IoU ≥ 0.5 with it. fps: \`annotate\` steady state with decoding (default bundle), median of the runs.`,
  '',
  '| clip | k | faces on carried frames matched (IoU ≥ 0.5) | carried boxes matching none | faces output vs full detection | annotate fps (runs) |',
  '|---|---|---|---|---|---|',
  ...rows,
  '',
].join('\n');
printResults(md, opts.write);
