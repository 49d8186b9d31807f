/**
 * bench/annotate-scaling: does `cctfer annotate` use both cores? Whole commands, start-up included,
 * each pair interleaved in ABBA order over `--rounds`, medians and ratios printed:
 *  - one video (the generated 3-face clip): all cores vs pinned to one (`taskset -c 0`);
 *  - four videos: `--jobs 2` vs `--jobs 1`;
 *  - cold start on fixtures/zoom.mp4 (75 frames): the compiled package (dist/, what npm users run)
 *    vs the checkout's TypeScript sources through tsx.
 *
 *   npm run build && npx tsx bench/annotate-scaling.ts [--rounds 2] [--write annotate-scaling]
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { commandLine, compiledCli, printResults, median, threeFacesClip } from './bench-output.ts';

const opts = new Command('annotate-scaling')
  .description('annotate on one core vs both, --jobs 1 vs 2, compiled vs tsx start-up')
  .option('--rounds <n>', 'runs per variant (ABBA order)', '2')
  .option('--write <name>', 'also write bench/results/<name>.md')
  .parse()
  .opts<{ rounds: string; write?: string }>();

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const compiled = compiledCli();
mkdirSync(here('./.cache'), { recursive: true });
const threeFaces = threeFacesClip();
// Four videos: the fixtures and a copy of the crossing clip (another path, so its own output).
const crossingCopy = here('./.cache/crossing-copy.mp4');
copyFileSync(here('../fixtures/crossing.mp4'), crossingCopy);
const four = [
  here('../fixtures/crossing.mp4'),
  here('../fixtures/zoom.mp4'),
  here('../fixtures/vfr.mp4'),
  crossingCopy,
];
const sourcesCli = here('../bin/cctfer.js');

interface Run {
  wall: number;
  frames: number;
}
/** Runs one annotate command into a fresh folder; wall seconds and frames it reports. */
function run(prefix: string[], cli: string, args: string[]): Run {
  const out = mkdtempSync(join(tmpdir(), 'cctfer-scaling-'));
  try {
    const [cmd, ...rest] = [...prefix, process.execPath, cli, 'annotate', ...args];
    const t0 = performance.now();
    const stdout = execFileSync(cmd!, [...rest, '--out', out, '--quiet', '--no-report'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const wall = (performance.now() - t0) / 1000;
    const frames = Number(/\((\d+) frames in/.exec(stdout)?.[1] ?? NaN);
    return { wall, frames };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

interface Pair {
  name: string;
  a: { label: string; go: () => Run };
  b: { label: string; go: () => Run };
}
const pairs: Pair[] = [
  {
    name: 'one video (three-faces.mp4, 270 frames)',
    a: { label: 'taskset -c 0', go: () => run(['taskset', '-c', '0'], compiled, [threeFaces]) },
    b: { label: 'both cores', go: () => run([], compiled, [threeFaces]) },
  },
  {
    name: 'four videos (the 3 fixtures + a copy of crossing.mp4)',
    a: { label: '--jobs 1', go: () => run([], compiled, [...four, '--jobs', '1']) },
    b: { label: '--jobs 2', go: () => run([], compiled, [...four, '--jobs', '2']) },
  },
  {
    name: 'cold start, fixtures/zoom.mp4 (75 frames)',
    a: { label: 'sources via tsx', go: () => run([], sourcesCli, [here('../fixtures/zoom.mp4')]) },
    b: { label: 'compiled dist/', go: () => run([], compiled, [here('../fixtures/zoom.mp4')]) },
  },
];

const rows: string[] = [];
for (const p of pairs) {
  const runs = { a: [] as Run[], b: [] as Run[] };
  for (let r = 0; r < Number(opts.rounds); r++) {
    const order = r % 2 ? (['b', 'a'] as const) : (['a', 'b'] as const);
    for (const side of order) {
      const x = p[side].go();
      runs[side].push(x);
      console.error(`${p.name} — ${p[side].label}: ${x.wall.toFixed(2)} s, ${x.frames} frames`);
    }
  }
  const wa = median(runs.a.map((x) => x.wall));
  const wb = median(runs.b.map((x) => x.wall));
  const fmt = (rs: Run[]) => rs.map((x) => x.wall.toFixed(2)).join(', ');
  rows.push(
    `| ${p.name} | ${p.a.label}: ${wa.toFixed(2)} s (${fmt(runs.a)}) | ${p.b.label}: ${wb.toFixed(2)} s (${fmt(runs.b)}) | ${runs.b[0]!.frames} | ${(wa / wb).toFixed(2)}× |`,
  );
}
const md = [
  `# bench/annotate-scaling — ${new Date().toISOString().slice(0, 10)}, ${opts.rounds} runs per variant (ABBA)`,
  '',
  `Command: \`${commandLine('annotate-scaling')}\`. Whole \`cctfer annotate … --quiet --no-report\` commands, start-up included, default bundle; wall-time medians; speed-up = A's time / B's.`,
  '',
  '| work | A | B | frames | speed-up (B over A) |',
  '|---|---|---|---|---|',
  ...rows,
  '',
].join('\n');
printResults(md, opts.write);
