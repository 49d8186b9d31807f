/** Markdown tables, JSON and the accuracy-vs-epoch chart of the noisy-label benchmark. */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { DigitDatasetName } from '../../src/data/digit-datasets.ts';
import type { Method, RunResult } from './experiment.ts';

const METHOD_LABEL: Record<Method, string> = {
  ce: 'CE (1 net)',
  'ce-ensemble': '3×CE ensemble',
  cct: 'CCT (N=3)',
};
const pct = (x: number) => (100 * x).toFixed(2);
const noiseLabel = (r: RunResult) =>
  r.spec.noise.rate === 0
    ? 'clean'
    : `${Math.round(r.spec.noise.rate * 100)}% ${r.spec.noise.type === 'symmetric' ? 'sym' : 'asym'}`;

function meanStd(xs: number[]): string {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
  return `${pct(m)} ± ${pct(sd)}`;
}

function find(results: RunResult[], f: (r: RunResult) => boolean): RunResult | undefined {
  return results.find(f);
}

export function markdownReport(
  results: RunResult[],
  command: string,
  datasets: DigitDatasetName[],
): string {
  const lines: string[] = [];
  const any = results[0];
  lines.push('# Noisy-label benchmark: CE vs 3×CE ensemble vs CCT', '');
  lines.push(`Produced by \`${command}\` on ${new Date().toISOString().slice(0, 10)}.`, '');
  if (any) {
    const s = any.spec;
    lines.push(
      `Setup: MLP 784-256-256-10 (identical for every method), Adam lr 1e-3 × 0.95 per epoch, batch 128, ${s.epochs} epochs, ` +
        `${s.trainSize} training images drawn from the official training split (same draw and same noise for every method), ` +
        `${s.valSize} more as a NOISY validation split for model selection, ${s.testSize || 'all 10,000'} clean test images. ` +
        "CCT: λmax 0.9, β 4, e_r = 0.9·epochs, members see the same batches. Test accuracy is the ensemble's (mean of softmaxes) for multi-member runs.",
      '',
      '"final" = test accuracy after the last epoch; "selected" = at the epoch with the best noisy-validation accuracy; "best" = the best epoch on the test set (an oracle, for reference only — never used to choose anything); "memorised" = share of label-flipped training images the final model predicts as their wrong label.',
      '',
    );
  }
  for (const ds of datasets) {
    const main = results.filter((r) => r.spec.dataset === ds && r.spec.group === 'main');
    if (main.length === 0) continue;
    lines.push(
      `## ${ds}`,
      '',
      '| noise | method | final | selected | best (oracle) | best→final drop | memorised | train acc (noisy labels) |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const r of main) {
      lines.push(
        `| ${noiseLabel(r)} | ${METHOD_LABEL[r.spec.method]} | ${pct(r.finalTestAcc)} | ${pct(r.selectedTestAcc)} (ep ${r.selectedEpoch + 1}) | ${pct(r.bestTestAcc)} (ep ${r.bestEpoch + 1}) | ${pct(r.bestTestAcc - r.finalTestAcc)} | ${pct(r.memorised)} | ${pct(r.finalTrainAccNoisy)} |`,
      );
    }
    lines.push('');
    const seeds = results.filter(
      (r) =>
        r.spec.dataset === ds &&
        r.spec.noise.type === 'symmetric' &&
        r.spec.noise.rate === 0.4 &&
        r.spec.beta === 4 &&
        (r.spec.group === 'seeds' || r.spec.group === 'main'),
    );
    const seedSet = new Set(seeds.map((r) => r.spec.seed));
    if (seedSet.size > 1) {
      lines.push(
        `### ${ds}, 40% symmetric, ${seedSet.size} seeds (mean ± sd)`,
        '',
        '| method | final | selected | memorised |',
        '|---|---|---|---|',
      );
      for (const m of ['ce', 'ce-ensemble', 'cct'] as Method[]) {
        const rs = seeds.filter((r) => r.spec.method === m);
        lines.push(
          `| ${METHOD_LABEL[m]} | ${meanStd(rs.map((r) => r.finalTestAcc))} | ${meanStd(rs.map((r) => r.selectedTestAcc))} | ${meanStd(rs.map((r) => r.memorised))} |`,
        );
      }
      lines.push('');
    }
    const abl = results.filter(
      (r) =>
        r.spec.dataset === ds &&
        (r.spec.group.startsWith('ablation') ||
          (r.spec.group === 'main' &&
            r.spec.method === 'cct' &&
            r.spec.noise.rate === 0.4 &&
            r.spec.noise.type === 'symmetric')),
    );
    if (abl.length > 1) {
      lines.push(
        `### ${ds}, 40% symmetric, CCT ablations (seed 1)`,
        '',
        '| members | β | final | selected | best (oracle) | memorised |',
        '|---|---|---|---|---|---|',
      );
      for (const r of abl.sort(
        (a, b) => a.spec.members - b.spec.members || b.spec.beta - a.spec.beta,
      )) {
        lines.push(
          `| ${r.spec.members} | ${r.spec.beta} | ${pct(r.finalTestAcc)} | ${pct(r.selectedTestAcc)} | ${pct(r.bestTestAcc)} | ${pct(r.memorised)} |`,
        );
      }
      lines.push('');
    }
  }
  lines.push('## Checks', '', ...checks(results, datasets).map((c) => `- ${c}`), '');
  return lines.join('\n');
}

/** The sanity floors and expected direction, stated as measured (pass or not). */
export function checks(results: RunResult[], datasets: DigitDatasetName[]): string[] {
  const out: string[] = [];
  for (const ds of datasets) {
    const get = (method: Method, type: string, rate: number) =>
      find(
        results,
        (r) =>
          r.spec.group === 'main' &&
          r.spec.dataset === ds &&
          r.spec.method === method &&
          r.spec.noise.type === type &&
          r.spec.noise.rate === rate,
      );
    const floor = ds === 'mnist' ? 0.97 : 0.87;
    const clean = get('ce', 'symmetric', 0);
    if (clean) {
      out.push(
        `${ds}: clean CE test accuracy ${pct(clean.finalTestAcc)}% final / ${pct(clean.selectedTestAcc)}% selected (floor ${pct(floor)}%): ${clean.selectedTestAcc >= floor ? 'PASS' : 'FAIL'}`,
      );
    }
    const ce = get('ce', 'symmetric', 0.4);
    const cct = get('cct', 'symmetric', 0.4);
    if (ce) {
      out.push(
        `${ds}: CE training accuracy on 40%-noisy labels ends at ${pct(ce.finalTrainAccNoisy)}% (memorisation visible if > 60%): ${ce.finalTrainAccNoisy > 0.6 ? 'yes' : 'no'}`,
      );
    }
    if (ce && cct) {
      out.push(
        `${ds}: 40% sym final test accuracy CCT ${pct(cct.finalTestAcc)}% vs CE ${pct(ce.finalTestAcc)}%: ${cct.finalTestAcc > ce.finalTestAcc ? 'CCT higher' : 'CCT NOT higher'}; best→final drop CE ${pct(ce.bestTestAcc - ce.finalTestAcc)} pts, CCT ${pct(cct.bestTestAcc - cct.finalTestAcc)} pts`,
      );
    }
  }
  return out;
}

/** Test accuracy vs epoch for each method at 40% symmetric noise, seed 1, one panel per dataset. */
export async function accuracyChartSvg(results: RunResult[]): Promise<string> {
  const values = results
    .filter(
      (r) =>
        r.spec.group === 'main' && r.spec.noise.type === 'symmetric' && r.spec.noise.rate === 0.4,
    )
    .flatMap((r) =>
      r.epochs.map((e) => ({
        dataset: r.spec.dataset,
        method: METHOD_LABEL[r.spec.method],
        epoch: e.epoch + 1,
        accuracy: e.testAcc,
      })),
    );
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Test accuracy vs epoch, 40% symmetric label noise',
    data: { values },
    facet: { column: { field: 'dataset', type: 'nominal', title: null } },
    spec: {
      width: 320,
      height: 220,
      mark: { type: 'line', point: false },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
        y: {
          field: 'accuracy',
          type: 'quantitative',
          title: 'test accuracy',
          scale: { zero: false },
          axis: { format: '.0%' },
        },
        color: { field: 'method', type: 'nominal', title: null },
      },
    },
    resolve: { scale: { y: 'independent' } },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}
