/**
 * Picks the default's logit adjustment on the hold-out (never on PublicTest): an UNADJUSTED bundle
 * scored on the run config's hold-out of Training against the FER+ majority, for τ = 0 … 1 in steps
 * of 0.05 (class c's member logits − τ·log prior_c, the prior from the config's training labels —
 * what `logitAdjust` bakes in at export): accuracy, macro-F1 and ABAW score per τ, as Markdown +
 * JSON. README "The default model" says how the default's τ was chosen from it.
 *
 *   npx cctfer model export runs/default/best /tmp/unadjusted --crop fer
 *   npx tsx scripts/fer-logit-adjust.ts --bundle /tmp/unadjusted --config models/recipes/default.json
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { directCrops } from '../pipelines/eval-fer.ts';
import { ExpressionAnalyzer } from '../src/models/analyzer.ts';
import { readFer } from '../src/data/readers/ferplus.ts';
import { ferRunRows } from '../src/train/fer-sets.ts';
import { classificationReport } from '../src/metrics/classification.ts';
import { readTrainConfig } from '../src/train/config.ts';
import { classPrior, logitShift } from '../src/train/logit-adjust.ts';
import { writeFileAtomic } from '../src/util/atomic.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const opts = new Command('fer-logit-adjust')
  .requiredOption(
    '--bundle <dir>',
    'an unadjusted bundle of the run (cctfer model export <run>/best)',
  )
  .option(
    '--config <file>',
    'the run config (data, labels, hold-out)',
    join(root, 'models/recipes/default.json'),
  )
  .option('--out <dir>', 'where the table and JSON go', join(root, 'bench/results'))
  .parse()
  .opts<{ bundle: string; config: string; out: string }>();

const run = await readTrainConfig(opts.config);
if (!('fer' in run.data)) throw new Error(`${opts.config}: not a FER run config`);
const data = await readFer(run.data.fer);
// The rows and labels training used: the prior from its training rows, the scores on its hold-out.
const { train, val } = ferRunRows(data, run.data);
const prior = classPrior(train, 7);
const rows = [...val.indices];
const truth = val.labels;

const analyzer = await ExpressionAnalyzer.create(opts.bundle);
const memberProbs: number[][][] = [];
for (let s = 0; s < rows.length; s += 256)
  for (const p of await analyzer.classify(
    directCrops(data, rows.slice(s, s + 256), analyzer.cropInputs),
  ))
    memberProbs.push(p.memberProbs);
await analyzer.close();

/** The ensemble's class after the shift: members' softmaxes × exp(shift), renormalised, averaged. */
function predict(members: number[][], shift: number[]): number {
  const mean = new Array<number>(7).fill(0);
  for (const p of members) {
    const q = p.map((v, c) => v * Math.exp(shift[c] as number));
    const z = q.reduce((a, b) => a + b, 0);
    q.forEach((v, c) => (mean[c]! += v / z));
  }
  return mean.indexOf(Math.max(...mean));
}

const table = Array.from({ length: 21 }, (_, i) => {
  const tau = i / 20;
  const shift = logitShift(prior, tau);
  const r = classificationReport(
    truth,
    memberProbs.map((m) => predict(m, shift)),
    7,
  );
  return { tau, accuracy: r.accuracy, macroF1: r.macroF1, abaw2021: r.abaw2021 };
});
const pct = (x: number) => (100 * x).toFixed(1);
const md = [
  `# Logit adjustment on the hold-out (${rows.length} Training faces, FER+ majority)`,
  '',
  `Bundle ${opts.bundle}; prior (${run.data.labels} training labels): ${prior.map((p) => p.toFixed(3)).join(', ')}.`,
  `Produced by \`npx tsx scripts/fer-logit-adjust.ts --bundle <unadjusted bundle> --config ${opts.config.replace(root, '')}\`.`,
  '',
  '| τ | accuracy % | macro-F1 % | ABAW 2021 |',
  '| --- | --- | --- | --- |',
  ...table.map(
    (t) =>
      `| ${t.tau.toFixed(2)} | ${pct(t.accuracy)} | ${pct(t.macroF1)} | ${t.abaw2021.toFixed(4)} |`,
  ),
].join('\n');
console.log(md);
await writeFileAtomic(join(opts.out, 'logit-adjust-holdout.md'), md + '\n');
await writeFileAtomic(
  join(opts.out, 'logit-adjust-holdout.json'),
  JSON.stringify({ bundle: opts.bundle, prior, table }, null, 2) + '\n',
);
