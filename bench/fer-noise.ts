/**
 * bench/fer-noise: does CCT keep networks from memorising FER2013's wrong labels? Trains on the
 * ORIGINAL FER2013 labels, scores against the FER+ majority: 3 independent CE nets (each a
 * "single CE" run, and their ensemble), CCT N=3, and CE on the FER+ majority as the clean
 * reference — identical architecture, data order, augmentation, optimiser and epochs; 2 seeds.
 * See bench/README.md. Each run is resumable per epoch and leaves one result file.
 *
 *   npx tsx bench/fer-noise.ts --quick            # smoke run (< 2 min)
 *   npx tsx bench/fer-noise.ts --runs cct-s1      # one run (≈ 2 h on 2 cores)
 *   npx tsx bench/fer-noise.ts --report           # table + chart from the finished runs
 */
import { readdir, readFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { initBackend } from '../src/engine/backend.ts';
import { readFer } from '../src/data/readers/ferplus.ts';
import { writeFileAtomic } from '../src/util/atomic.ts';
import { runExperiment, type RunResult, type RunSpec } from './fer/experiment.ts';
import { chartSvg, markdownReport, runLabel } from './fer/report.ts';

const here = dirname(fileURLToPath(import.meta.url));
const opts = new Command('fer-noise')
  .description('CE vs CCT on FER2013 original labels, scored against FER+ (see bench/README.md)')
  .option(
    '--quick',
    'smoke run: seed 1 only, 0.4% of the images, 2 epochs, capped evaluation sets',
    false,
  )
  .option('--data <path...>', 'FER folder, or fer2013.csv fer2013new.csv', [
    join(here, '../../shared/data/fer2013'),
  ])
  .option('--runs <ids>', 'comma-separated run ids (default: all that have no result yet)')
  .option('--report', 'only write the table and chart from the finished runs', false)
  .option('--out <dir>', 'results folder', join(here, 'results'))
  .option('--cache <dir>', 'checkpoints of unfinished runs', join(here, '.cache', 'fer-noise'))
  .parse()
  .opts<{
    quick: boolean;
    data: string[];
    runs?: string;
    report: boolean;
    out: string;
    cache: string;
  }>();

/** The full plan: 2 seeds of CE×3 and CCT, and the clean-label reference (one CE net). */
function plan(quick: boolean): RunSpec[] {
  const base = {
    arch: 'fer-cnn-s',
    members: 3,
    epochs: quick ? 2 : 30,
    batchSize: 64,
    lr: 1e-3,
    lrDecay: 0.95,
    subsample: quick ? 0.004 : 0.25,
    flip: true,
    evalCap: quick ? 100 : 0,
    memberWorkers: true,
  } as const;
  const runs: RunSpec[] = [
    { ...base, id: 'ce-s1', method: 'ce', labels: 'fer2013', seed: 1 },
    { ...base, id: 'cct-s1', method: 'cct', labels: 'fer2013', seed: 1 },
    { ...base, id: 'ce-s2', method: 'ce', labels: 'fer2013', seed: 2 },
    { ...base, id: 'cct-s2', method: 'cct', labels: 'fer2013', seed: 2 },
    // One net: the clean reference for the single-net column (three would cost 2 h more).
    { ...base, id: 'clean-s1', method: 'ce', labels: 'ferplus-majority', seed: 1, members: 1 },
  ];
  // The smoke run covers each kind of run once.
  return quick ? runs.filter((r) => r.seed === 1) : runs;
}

const suffix = opts.quick ? '-quick' : '';
const resultsDir = join(opts.out, `fer-noise${suffix}`);
const specs = plan(opts.quick);
const wanted = opts.runs ? opts.runs.split(',').map((s) => s.trim()) : specs.map((s) => s.id);
for (const id of wanted)
  if (!specs.some((s) => s.id === id))
    throw new Error(`unknown run '${id}': expected ${specs.map((s) => s.id).join(', ')}`);

await mkdir(resultsDir, { recursive: true });
if (!opts.report) {
  await initBackend({ backend: 'wasm' });
  const fer = await readFer(opts.data);
  const show = process.stderr.isTTY;
  const bar = new cliProgress.SingleBar(
    { format: '{run} epoch {epoch} |{bar}| {value}/{total} batches | ETA {eta_formatted}' },
    cliProgress.Presets.shades_classic,
  );
  for (const spec of specs.filter((s) => wanted.includes(s.id))) {
    const file = join(resultsDir, `${spec.id}.json`);
    if (existsSync(file)) {
      console.error(`${spec.id}: done (${file})`);
      continue;
    }
    let epoch = 0;
    const r = await runExperiment(fer, spec, join(opts.cache + suffix), file, {
      log: (l) => console.error(l),
      onStep: (done, total) => {
        if (!show) return;
        if (done === 1) bar.start(total, 1, { run: spec.id, epoch: epoch + 1 });
        else bar.update(done);
        if (done === total) bar.stop();
      },
      onEpoch: (e) => {
        epoch = e.epoch + 1;
        console.error(
          `${spec.id} epoch ${e.epoch + 1}/${spec.epochs}: hold-out acc ${(100 * e.holdout.ensemble.accuracy).toFixed(1)}%, ` +
            `train acc ${e.trainAccuracy.map((a) => (100 * a).toFixed(1)).join('/')}%, memorised ${(100 * e.memorised.ensemble).toFixed(1)}%, λ ${e.lambda.toFixed(3)}, ${e.seconds.toFixed(0)} s`,
        );
      },
    });
    console.error(
      `${runLabel(r)}: PublicTest ${(100 * r.publicTest.final.ferplus.ensemble.accuracy).toFixed(1)}% (FER+ majority), ${r.seconds.toFixed(0)} s`,
    );
  }
}

const results: RunResult[] = [];
for (const f of (await readdir(resultsDir)).filter((f) => f.endsWith('.json')).sort())
  results.push(JSON.parse(await readFile(join(resultsDir, f), 'utf8')) as RunResult);
const order = specs.map((s) => s.id);
results.sort((a, b) => order.indexOf(a.spec.id) - order.indexOf(b.spec.id));
const command = `npx tsx bench/fer-noise.ts${opts.quick ? ' --quick' : ''}${opts.runs ? ` --runs ${opts.runs}` : ''}`;
await writeFileAtomic(join(opts.out, `fer-noise${suffix}.md`), markdownReport(results, command));
await writeFileAtomic(
  join(opts.out, `fer-noise${suffix}.json`),
  JSON.stringify(
    results.map((r) => ({
      id: r.spec.id,
      label: runLabel(r),
      publicTest: r.publicTest,
      selectedEpoch: r.selectedEpoch,
      finalMemorised: r.epochs.at(-1)?.memorised,
      memorisationRegimeFrom: r.memorisationRegimeFrom,
      seconds: r.seconds,
    })),
    null,
    1,
  ),
);
if (results.length)
  await writeFileAtomic(join(opts.out, `fer-noise${suffix}.svg`), await chartSvg(results));
console.error(`${results.length} finished run(s); report in ${opts.out}/fer-noise${suffix}.md`);
