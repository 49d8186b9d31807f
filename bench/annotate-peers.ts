/**
 * bench/annotate-peers: cctfer `annotate` against the face-api peer on the same clips, each side in
 * its own process, interleaved in ABBA order over `--rounds`, printing steady-state fps, faces
 * found and the ratio. cctfer: the default bundle, decode included. face-api: TinyFaceDetector
 * (416, 0.5) + 68-point landmarks + expressions on every frame, tfjs-wasm, one thread, frames
 * scaled to 640 px wide and decoded before timing (bench/peers/faceapi-side.ts).
 * Clips: fixtures/crossing.mp4 and a generated 3-face clip (bench/.cache/three-faces.mp4).
 *
 *   npx tsx bench/annotate-peers.ts [--rounds 2] [--write annotate-peers]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { commandLine, printResults, median, threeFacesClip } from './bench-output.ts';

const opts = new Command('annotate-peers')
  .description('cctfer annotate vs face-api (tfjs-wasm, one thread) on the same clips')
  .option('--rounds <n>', 'runs per side and clip (ABBA order)', '2')
  .option('--warmup <frames>', 'frames not timed at the start of each run', '10')
  .option('--write <name>', 'also write bench/results/<name>.md')
  .parse()
  .opts<{ rounds: string; warmup: string; write?: string }>();

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const threeFaces = threeFacesClip();
const clips = [here('../fixtures/crossing.mp4'), threeFaces];

interface Run {
  frames: number;
  faces: number;
  seconds: number;
  fps: number;
}
const side = (script: string, clip: string): Run => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', here(script), clip, opts.warmup], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return JSON.parse(out.trim().split('\n').pop() as string) as Run;
};

const bundle = JSON.parse(readFileSync(here('../models/default/manifest.json'), 'utf8')) as {
  name: string;
};
const rows: string[] = [];
for (const clip of clips) {
  const runs: Record<'cctfer' | 'faceapi', Run[]> = { cctfer: [], faceapi: [] };
  for (let r = 0; r < Number(opts.rounds); r++) {
    const order = r % 2 ? (['faceapi', 'cctfer'] as const) : (['cctfer', 'faceapi'] as const);
    for (const who of order) {
      const run = side(`./peers/${who}-side.ts`, clip);
      runs[who].push(run);
      console.error(
        `${basename(clip)} ${who}: ${run.fps.toFixed(1)} fps, ${run.faces} faces in ${run.frames} frames`,
      );
    }
  }
  const c = median(runs.cctfer.map((x) => x.fps));
  const f = median(runs.faceapi.map((x) => x.fps));
  rows.push(
    `| ${basename(clip)} | ${runs.cctfer[0]!.frames} | ${c.toFixed(1)} (${runs.cctfer.map((x) => x.fps.toFixed(1)).join(', ')}) | ${runs.cctfer[0]!.faces} | ${f.toFixed(1)} (${runs.faceapi.map((x) => x.fps.toFixed(1)).join(', ')}) | ${runs.faceapi[0]!.faces} | ${(c / f).toFixed(1)}× |`,
  );
}
const md = [
  `# bench/annotate-peers — ${new Date().toISOString().slice(0, 10)}, ${opts.rounds} runs per side and clip (ABBA), ${opts.warmup} warm-up frames`,
  '',
  `Command: \`${commandLine('annotate-peers')}\`. cctfer: \`annotate\`, bundle ${bundle.name}, steady state with decoding; face-api: TinyFaceDetector 416/0.5 + 68-point landmarks + expressions, tfjs-wasm, one thread, decoding excluded.`,
  '',
  '| clip | timed frames | cctfer fps (runs) | cctfer faces | face-api fps (runs) | face-api faces | ratio |',
  '|---|---|---|---|---|---|---|',
  ...rows,
  '',
].join('\n');
printResults(md, opts.write);
