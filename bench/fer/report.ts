/** Table, JSON summary and charts of bench/fer-noise, from the per-run result files. */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { ModelScores, RunResult } from './experiment.ts';
import { seedSummary } from './seed-summary.ts';
import { mean, pct, row } from './markdown.ts';

/** What a run's rows are called in the table and the chart. */
export function runLabel(r: RunResult): string {
  const s = r.spec;
  const what =
    s.labels === 'ferplus-majority'
      ? `CE ${s.members === 1 ? 'one net' : `×${s.members}`} on FER+ majority (clean reference)`
      : s.method === 'cct'
        ? `CCT N=${s.members}`
        : `CE ×${s.members} (independent nets)`;
  return `${what}, seed ${s.seed}`;
}

/** "single CE" rows: every member of a CE-only run is an independent CE net. */
function singles(m: ModelScores): string {
  const accs = m.members.map((x) => x.accuracy);
  return `${pct(mean(accs))} (${accs.map(pct).join(' / ')})`;
}

export function markdownReport(results: RunResult[], command: string): string {
  const lines: string[] = ['# bench/fer-noise: CE vs CCT on FER2013’s original (noisy) labels', ''];
  lines.push(
    `Produced by \`${command}\`. One result file per run in \`bench/results/fer-noise/\`.`,
    '',
  );
  const s0 = results[0]?.spec;
  if (s0)
    lines.push(
      `Setup (identical for every run): ${s0.arch}, 48×48 grey, batch ${s0.batchSize}, Adam lr ${s0.lr} × ${s0.lrDecay} per epoch, ${s0.epochs} epochs, ` +
        `augmentation ${s0.flip ? 'horizontal flip only' : 'none'}, ${s0.subsample < 1 ? `${Math.round(s0.subsample * 100)}% subsample of` : 'all of'} Training minus a fixed 10% hold-out ` +
        `(${results[0]!.trainImages} images). Same seed ⇒ same initialisations and data order for CE and CCT. ` +
        'Model selection reads only the hold-out (Training rows, FER+ majority); PublicTest is scored at the end, once for the final and once for the hold-out-selected epoch. ' +
        'The "single CE" figures are the members of a CE-only run: with λ = 0 the members share nothing, so each is exactly a CE net trained alone.',
      '',
    );
  lines.push(
    row([
      'run',
      'PublicTest acc (FER+), final',
      'macro-F1, final',
      'acc, hold-out-selected (epoch)',
      'acc vs original labels, final',
      'single nets acc, final',
      'memorised, final (ens / members)',
      'train acc on its own labels, final',
      '>70% train acc from epoch',
    ]),
    row(new Array(9).fill('---')),
  );
  for (const r of results) {
    const last = r.epochs.at(-1)!;
    const f = r.publicTest.final;
    lines.push(
      row([
        runLabel(r),
        pct(f.ferplus.ensemble.accuracy),
        pct(f.ferplus.ensemble.macroF1),
        `${pct(r.publicTest.selected.ferplus.ensemble.accuracy)} (${r.selectedEpoch + 1})`,
        pct(f.original.ensemble.accuracy),
        singles(f.ferplus),
        `${pct(last.memorised.ensemble)} / ${last.memorised.members.map(pct).join(' / ')}`,
        last.trainAccuracy.map(pct).join(' / '),
        r.memorisationRegimeFrom ?? 'never',
      ]),
    );
  }
  lines.push(
    '',
    '"memorised": of the training images whose FER2013 label differs from their FER+ majority, the share the model predicts as the FER2013 label (lower = fewer wrong labels learnt). "train acc": the members’ accuracy on the labels they were trained on, in training mode, during the last epoch.',
    '',
    'Per-epoch hold-out accuracy, macro-F1 and memorisation are in each run’s JSON (`epochs`).',
  );
  const summary = seedSummary(results);
  if (summary.length > 0) lines.push('', ...summary);
  return lines.join('\n') + '\n';
}

/** Hold-out accuracy (FER+ majority) and memorisation per epoch, one line per run. */
export async function chartSvg(results: RunResult[]): Promise<string> {
  const values = results.flatMap((r) =>
    r.epochs.flatMap((e) => [
      {
        run: runLabel(r),
        epoch: e.epoch + 1,
        panel: 'hold-out accuracy (FER+ majority)',
        value: e.holdout.ensemble.accuracy,
      },
      {
        run: runLabel(r),
        epoch: e.epoch + 1,
        panel: 'memorised wrong labels',
        value: e.memorised.ensemble,
      },
    ]),
  );
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'FER2013 original labels: CE vs CCT',
    data: { values },
    facet: { column: { field: 'panel', type: 'nominal', title: null } },
    spec: {
      width: 320,
      height: 220,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
        y: {
          field: 'value',
          type: 'quantitative',
          title: null,
          scale: { zero: false },
          axis: { format: '.0%' },
        },
        // No limit (0) on label width: a cut name hides which seed or labels a line is.
        color: { field: 'run', type: 'nominal', title: null, legend: { labelLimit: 0 } },
      },
    },
    resolve: { scale: { y: 'independent' } },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}
