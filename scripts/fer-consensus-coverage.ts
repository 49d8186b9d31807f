/**
 * Consensus as uncertainty, measured on faces: for each bundle, the accuracy (against the FER+
 * majority) of the X% of FER2013 faces with the highest ensemble consensus, X = 10…100 — a
 * Markdown table, the JSON and a chart drawn with vega-lite.
 *
 *   npx tsx scripts/fer-consensus-coverage.ts [--split PublicTest] [--bundle dir ...] [--out bench/results]
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { evaluateFer } from '../pipelines/eval-fer.ts';
import { FER_SPLITS, readFer, type FerSplit } from '../src/data/readers/ferplus.ts';
import { writeFileAtomic } from '../src/util/atomic.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const opts = new Command('fer-consensus-coverage')
  .option('--data <path...>', 'FER folder, or fer2013.csv fer2013new.csv', [
    join(root, '../shared/data/fer2013'),
  ])
  .option('--split <name>', FER_SPLITS.join(' | '), 'PublicTest')
  .option('--bundle <dir...>', 'bundles', [
    join(root, 'models/default'),
    join(root, 'models/pretrained-pair'),
  ])
  .option('--out <dir>', 'where the table, JSON and chart go', join(root, 'bench/results'))
  .parse()
  .opts<{ data: string[]; split: FerSplit; bundle: string[]; out: string }>();

const fer = await readFer(opts.data);
const rows: { bundle: string; coverage: number; faces: number; accuracy: number }[] = [];
const summary: { bundle: string; accuracy: number; macroF1: number; faces: number }[] = [];
for (const bundle of opts.bundle) {
  const r = await evaluateFer(fer, { bundle, split: opts.split });
  const plus = r.reports.find((x) => x.against === 'ferplus-majority')!;
  summary.push({
    bundle: r.bundleName,
    accuracy: plus.ensemble.accuracy,
    macroF1: plus.ensemble.macroF1,
    faces: plus.ensemble.count,
  });
  for (const c of plus.coverage) rows.push({ bundle: r.bundleName, ...c });
  console.error(
    `${r.bundleName}: ${(100 * plus.ensemble.accuracy).toFixed(1)}% on ${plus.ensemble.count} faces`,
  );
}
const names = [...new Set(rows.map((r) => r.bundle))];
const pct = (v: number) => (100 * v).toFixed(1);
const md = [
  `# Accuracy vs coverage by ensemble consensus (FER2013 ${opts.split}, FER+ majority)`,
  '',
  'Faces sorted by the ensemble’s consensus (1 − mean pairwise Jensen–Shannon divergence between members); accuracy of the most-consensual X%.',
  `Produced by \`npx tsx scripts/fer-consensus-coverage.ts --split ${opts.split}\`.`,
  '',
  `| coverage | ${names.join(' | ')} |`,
  `|---|${names.map(() => '---|').join('')}`,
  ...Array.from({ length: 10 }, (_, q) => {
    const cov = (q + 1) / 10;
    return `| ${Math.round(cov * 100)}% | ${names
      .map((n) =>
        pct(rows.find((r) => r.bundle === n && Math.abs(r.coverage - cov) < 1e-9)!.accuracy),
      )
      .join(' | ')} |`;
  }),
  '',
].join('\n');
const spec: TopLevelSpec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
  title: `Accuracy of the most-consensual faces (FER2013 ${opts.split}, FER+ majority)`,
  data: { values: rows },
  width: 420,
  height: 260,
  mark: { type: 'line', point: true },
  encoding: {
    x: {
      field: 'coverage',
      type: 'quantitative',
      title: 'coverage (share of faces kept)',
      axis: { format: '.0%' },
    },
    y: {
      field: 'accuracy',
      type: 'quantitative',
      title: 'accuracy',
      scale: { zero: false },
      axis: { format: '.0%' },
    },
    color: { field: 'bundle', type: 'nominal', title: null },
  },
};
const svg = await new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' }).toSVG();
const base = join(opts.out, `consensus-coverage-${opts.split}`);
await writeFileAtomic(`${base}.md`, md);
await writeFileAtomic(
  `${base}.json`,
  JSON.stringify({ split: opts.split, summary, rows }, null, 1),
);
await writeFileAtomic(`${base}.svg`, svg);
console.log(md);
