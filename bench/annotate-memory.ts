/**
 * bench/annotate-memory: does `cctfer annotate` keep memory flat over long videos? Peak RSS of the
 * whole command (GNU time's maximum resident set size) on a 1-minute and a 20-minute clip, both the
 * fixture crossing.mp4 looped by ffmpeg (stream copy), report on (the default). Target: the long
 * clip's peak ≤ 1.1 × the short one's + 64 MB.
 *
 *   npm run build && npx tsx bench/annotate-memory.ts [--minutes 1,20] [--write annotate-memory]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { commandLine, compiledCli, printResults } from './bench-output.ts';
import { resolveFfmpeg } from '../src/video/ffmpeg-binary.ts';

const opts = new Command('annotate-memory')
  .description('peak RSS of annotate on a short and a long looped clip')
  .option('--minutes <list>', 'clip lengths in minutes, shortest first', '1,20')
  .option('--write <name>', 'also write bench/results/<name>.md')
  .parse()
  .opts<{ minutes: string; write?: string }>();

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const compiled = compiledCli();
if (spawnSync('/usr/bin/time', ['-f', '%M', 'true']).status !== 0)
  throw new Error('needs GNU time (/usr/bin/time; Debian package time)');
mkdirSync(here('./.cache'), { recursive: true });

const rows: { minutes: number; frames: number; seconds: number; peakMb: number }[] = [];
for (const minutes of opts.minutes.split(',').map(Number)) {
  const clip = here(`./.cache/crossing-${minutes}min.mp4`);
  if (!existsSync(clip))
    execFileSync(resolveFfmpeg().path, [
      '-y',
      '-loglevel',
      'error',
      '-stream_loop',
      '-1',
      '-i',
      here('../fixtures/crossing.mp4'),
      '-t',
      String(minutes * 60),
      '-c',
      'copy',
      clip,
    ]);
  const out = mkdtempSync(join(tmpdir(), 'cctfer-memory-'));
  try {
    const r = spawnSync(
      '/usr/bin/time',
      ['-f', 'PEAK_KB %M', process.execPath, compiled, 'annotate', clip, '--out', out, '--quiet'],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    if (r.status !== 0) throw new Error(`annotate failed: ${r.stderr.slice(-2000)}`);
    const peakKb = Number(/PEAK_KB (\d+)/.exec(r.stderr)?.[1]);
    const m = /\((\d+) frames in ([\d.]+) s/.exec(r.stdout);
    const row = {
      minutes,
      frames: Number(m?.[1]),
      seconds: Number(m?.[2]),
      peakMb: peakKb / 1024,
    };
    rows.push(row);
    console.error(
      `${minutes} min: ${row.frames} frames in ${row.seconds} s, peak RSS ${row.peakMb.toFixed(0)} MB`,
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
const base = rows[0]!;
const md = [
  `# bench/annotate-memory — ${new Date().toISOString().slice(0, 10)}`,
  '',
  `Command: \`${commandLine('annotate-memory')}\`. \`cctfer annotate <clip> --quiet\` (compiled, default bundle, report on) on fixtures/crossing.mp4 looped; peak RSS by GNU time. Target: peak ≤ 1.1 × the shortest clip's + 64 MB.`,
  '',
  '| clip | frames | seconds | peak RSS MB | limit MB | within |',
  '|---|---|---|---|---|---|',
  ...rows.map((r) => {
    const limit = 1.1 * base.peakMb + 64;
    return `| ${r.minutes} min | ${r.frames} | ${r.seconds} | ${r.peakMb.toFixed(0)} | ${r === base ? '—' : limit.toFixed(0)} | ${r === base ? '—' : r.peakMb <= limit ? 'yes' : 'no'} |`;
  }),
  '',
].join('\n');
printResults(md, opts.write);
