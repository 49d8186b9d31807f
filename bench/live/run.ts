/**
 * bench/live (entry: bench/live.ts): the realtime server on this machine with the default model — analysed fps, frames
 * dropped, frame-to-message latency (p50/p95) and the server's event-loop delay (p99) for 1, 10 and
 * 100 connected clients, in these modes:
 *  - lossless: the 640×480 fixture analysed as fast as possible (every frame; the pipeline's ceiling);
 *  - paced 60 fps: the same clip at 60 fps played in real time, like a fast camera;
 *  - paced 240 fps: faster than the pipeline can go: frames are dropped (latest wins), counted, and
 *    latency must stay bounded.
 * Clients run in a separate process (fork), as they would on other machines.
 *
 *   npx tsx bench/live.ts [--seconds 8] [--clients 1,10,100] [--bundle a b] [--preview off,on]
 *                         [--rounds 3] [--write live]
 */
import { fork } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { startServe } from '../../pipelines/serve.ts';
import { resolveFfmpeg } from '../../src/video/ffmpeg-binary.ts';

const opts = new Command('live')
  .description('realtime server: analysed fps, drops and latency for 1/10/100 clients')
  .option('--seconds <s>', 'measured seconds per run', '8')
  .option('--clients <list>', 'client counts', '1,10,100')
  .option(
    '--bundle <dirs...>',
    'model bundles, run in turn for each row (ratios against the first)',
  )
  .option('--modes <list>', 'lossless,paced60,paced240', 'lossless,paced60,paced240')
  .option(
    '--preview <list>',
    "clients without and/or with preview pictures, run in turn for each row: 'off', 'on' or 'off,on'",
    'off',
  )
  .option(
    '--rounds <n>',
    'runs per row and variant; the variants run in turn, in reverse order every other round (ABBA), and each row reports the median',
    '1',
  )
  .option('--detect-every <k>', "detect every k-th frame (default: serve's default)")
  .option(
    '--v8-default-gc',
    "keep V8's incremental marking on, as before `cctfer serve` turned it off (throughput-gc.ts)",
    false,
  )
  .option('--write <name>', 'also write bench/results/<name>.{md,json} (default: print only)')
  .parse()
  .opts<{
    seconds: string;
    clients: string;
    bundle?: string[];
    modes: string;
    preview: string;
    rounds: string;
    detectEvery?: string;
    v8DefaultGc: boolean;
    write?: string;
  }>();
const rounds = Number(opts.rounds);
if (!(Number.isInteger(rounds) && rounds >= 1))
  throw new Error(`--rounds: expected a whole number ≥ 1, got '${opts.rounds}'`);
const previewSettings = opts.preview.split(',').map((p) => {
  if (p !== 'off' && p !== 'on')
    throw new Error(`--preview: expected off, on or off,on; got '${p}'`);
  return p === 'on';
});
const bundles = opts.bundle ?? [fileURLToPath(new URL('../../models/default', import.meta.url))];

/** A path relative to bench/. */
const here = (p: string) => fileURLToPath(new URL(`../${p}`, import.meta.url));
const clip = here('../fixtures/zoom.mp4');
const cache = here('./.cache');
mkdirSync(cache, { recursive: true });
/** The fixture re-timed to `fps` (frames repeated), for camera-like sources faster than 25 fps. */
function retimed(fps: number): string {
  const out = `${cache}/zoom-${fps}fps.mp4`;
  if (!existsSync(out))
    execFileSync(resolveFfmpeg().path, [
      '-y',
      '-loglevel',
      'error',
      '-i',
      clip,
      '-vf',
      `fps=${fps}`,
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      out,
    ]);
  return out;
}

interface Row {
  bundle: string;
  preview: boolean;
  previewsPerClient: number;
  mode: string;
  clients: number;
  analysedFps: number;
  dropped: number;
  p50: number;
  p95: number;
  perClient: string;
  clientDropped: number;
  /** The server process's event-loop delay, 99th percentile, over the measured seconds. */
  loopP99: number;
}

const TOKEN = 'bench-token-0123456789';
const rows: Row[] = [];
const MODES = {
  lossless: { name: 'lossless', input: clip, pace: 'none' as const },
  paced60: { name: 'paced 60 fps', input: retimed(60), pace: 'native' as const },
  paced240: { name: 'paced 240 fps', input: retimed(240), pace: 'native' as const },
};
for (const key of opts.modes.split(',')) {
  const mode = MODES[key as keyof typeof MODES];
  if (!mode) throw new Error(`unknown mode '${key}': expected ${Object.keys(MODES).join(', ')}`);
  for (const n of opts.clients.split(',').map(Number))
    // Bundles and preview settings interleaved row by row, in ABBA order over the rounds: a
    // machine's drift, and the first run's head start, hit each variant alike.
    for (let round = 0; round < rounds; round++) {
      const variants = bundles.flatMap((bundle) =>
        previewSettings.map((preview) => ({ bundle, preview })),
      );
      if (round % 2) variants.reverse();
      for (const { bundle, preview } of variants) {
        const running = await startServe({
          bundle,
          sources: [mode.input],
          port: 0,
          token: TOKEN,
          pace: mode.pace,
          loop: true,
          web: false,
          statsIntervalMs: 60_000,
          ...(opts.detectEvery && { detectEvery: Number(opts.detectEvery) }),
        });
        const source = running.server['sources' as never] as unknown as { id: string }[];
        const id = source[0]!.id;
        const snap = () => running.pipeline.stats().find((s) => s.source === id);
        const child = fork(
          here('./live/clients.ts'),
          [
            running.url.replace('http', 'ws') + '/ws',
            TOKEN,
            String(n),
            opts.seconds,
            id,
            preview ? 'preview' : 'plain',
          ],
          {
            execArgv: ['--import', 'tsx'],
          },
        );
        // The server runs in this process: its event loop is this one.
        const loopDelay = monitorEventLoopDelay({ resolution: 5 });
        let start: { t: number; analysed: number; dropped: number } | undefined;
        let stop: { t: number; analysed: number; dropped: number } | undefined;
        const at = () => ({
          t: performance.now(),
          analysed: snap()?.framesAnalysed ?? 0,
          dropped: snap()?.framesDropped ?? 0,
        });
        const result = await new Promise<{
          p50: number;
          p95: number;
          minPerClient: number;
          maxPerClient: number;
          clientDropped: number;
          previewsPerClient: number;
        }>((resolve, reject) => {
          child.on('message', (m: { phase: string } & Record<string, number>) => {
            if (m.phase === 'start') {
              start = at();
              loopDelay.enable();
            } else if (m.phase === 'stop') {
              stop = at();
              loopDelay.disable();
            } else resolve(m as never);
          });
          child.on('exit', (code) => code && reject(new Error(`clients exited with ${code}`)));
        });
        await running.close();
        const s = start!;
        const e = stop!;
        const row: Row = {
          bundle: basename(bundle),
          preview,
          previewsPerClient: result.previewsPerClient,
          mode: mode.name,
          clients: n,
          analysedFps: ((e.analysed - s.analysed) * 1000) / (e.t - s.t),
          dropped: e.dropped - s.dropped,
          p50: result.p50,
          p95: result.p95,
          perClient: `${result.minPerClient}–${result.maxPerClient}`,
          clientDropped: result.clientDropped,
          loopP99: loopDelay.percentile(99) / 1e6,
        };
        rows.push(row);
        console.log(
          `${row.bundle}${preview ? ' +preview' : ''} ${row.mode.padEnd(13)} ${String(n).padStart(3)} clients: ${row.analysedFps.toFixed(1)} analysed fps, ${row.dropped} dropped at the source, latency p50 ${row.p50} ms p95 ${row.p95} ms, ${row.perClient} messages per client, ≤${row.clientDropped} dropped for a client, event-loop delay p99 ${row.loopP99.toFixed(1)} ms`,
        );
      }
    }
}

/** Per row and variant: the run with the median fps (the lower middle one for an even count; its other figures with it) and all fps. */
const keyOf = (r: Row) => `${r.mode}|${r.clients}|${r.bundle}|${r.preview}`;
const groups = new Map<string, Row[]>();
for (const r of rows) groups.set(keyOf(r), [...(groups.get(keyOf(r)) ?? []), r]);
const medians = [...groups.values()].map((runs) => {
  const sorted = [...runs].sort((a, b) => a.analysedFps - b.analysedFps);
  return { row: sorted[(sorted.length - 1) >> 1]!, runs: runs.map((r) => r.analysedFps) };
});

const first = basename(bundles[0]!);
const ratio = (r: Row) => {
  const base = medians.find(
    ({ row: x }) =>
      x.bundle === first &&
      x.preview === previewSettings[0] &&
      x.mode === r.mode &&
      x.clients === r.clients,
  );
  return base ? (r.analysedFps / base.row.analysedFps).toFixed(2) : '';
};
const md = [
  `# bench/live — ${new Date().toISOString().slice(0, 10)}, ${opts.seconds} s per run, ${rounds} run(s) per row and variant, 640×480 fixture (one face)`,
  '',
  `Command: \`npx tsx bench/live.ts${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}\`; bundles and preview settings run in turn for each row; fps ratio against ${first}${previewSettings.length > 1 ? ' without previews' : ''}.`,
  '',
  '| bundle | previews | mode | clients | analysed fps (median) | runs | fps ratio | dropped (source) | latency p50 ms | latency p95 ms | messages per client | previews per client | dropped for a client | event-loop delay p99 ms |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...medians.map(
    ({ row: r, runs }) =>
      `| ${r.bundle} | ${r.preview ? 'on' : 'off'} | ${r.mode} | ${r.clients} | ${r.analysedFps.toFixed(1)} | ${runs.map((v) => v.toFixed(1)).join(', ')} | ${ratio(r)} | ${r.dropped} | ${r.p50} | ${r.p95} | ${r.perClient} | ${r.previewsPerClient.toFixed(0)} | ${r.clientDropped} | ${r.loopP99.toFixed(1)} |`,
  ),
  '',
].join('\n');
console.log(`\n${md}`);
if (opts.write) {
  mkdirSync(here('./results'), { recursive: true });
  writeFileSync(here(`./results/${opts.write}.md`), md);
  writeFileSync(
    here(`./results/${opts.write}.json`),
    JSON.stringify({ runs: rows, medians }, null, 2),
  );
  console.log(`wrote bench/results/${opts.write}.md`);
}
