/**
 * bench/fer-noise across seeds: per method, the mean of each headline figure over the seeds run,
 * and CCT − CE on the same seed (same initialisations and data order, so the pairs are matched).
 */
import type { RunResult } from './experiment.ts';
import { mean, pct, row } from './markdown.ts';

/** The headline figures of one run (fractions). */
interface Headline {
  final: number;
  selected: number;
  singles: number;
  memorised: number;
}

/** Signed percentage points, rounded before the sign is chosen (no "−0.0"). */
const points = (x: number) => {
  const p = Math.round(1000 * x) / 10;
  return `${p >= 0 ? '+' : '−'}${Math.abs(p).toFixed(1)}`;
};

function headline(r: RunResult): Headline {
  const f = r.publicTest.final.ferplus;
  return {
    final: f.ensemble.accuracy,
    selected: r.publicTest.selected.ferplus.ensemble.accuracy,
    singles: mean(f.members.map((m) => m.accuracy)),
    memorised: r.epochs.at(-1)?.memorised.ensemble ?? Number.NaN,
  };
}

const KEYS: (keyof Headline)[] = ['final', 'selected', 'singles', 'memorised'];

/** "mean (seed a / seed b)" for one figure. */
function cell(runs: RunResult[], key: keyof Headline): string {
  const xs = runs.map((r) => headline(r)[key]);
  return xs.length === 1 ? pct(xs[0]!) : `${pct(mean(xs))} (${xs.map(pct).join(' / ')})`;
}

/**
 * Markdown lines: a table of the noisy-label methods over their seeds, then the paired CCT − CE
 * differences for every seed both ran. Empty when no noisy-label run has finished.
 */
export function seedSummary(results: RunResult[]): string[] {
  const noisy = results.filter((r) => r.spec.labels === 'fer2013');
  if (noisy.length === 0) return [];
  const bySeed = (rs: RunResult[]) => [...rs].sort((a, b) => a.spec.seed - b.spec.seed);
  const methods = [
    {
      name: `CE ×${noisy[0]!.spec.members} (ensembled)`,
      runs: bySeed(noisy.filter((r) => r.spec.method === 'ce')),
    },
    {
      name: `CCT N=${noisy[0]!.spec.members}`,
      runs: bySeed(noisy.filter((r) => r.spec.method === 'cct')),
    },
  ].filter((m) => m.runs.length > 0);
  const lines = [
    '## Over seeds (original labels)',
    '',
    'PublicTest accuracy against the FER+ majority and memorisation, mean over the seeds run (each seed in brackets).',
    '',
    row([
      'method',
      'seeds',
      'acc, final',
      'acc, hold-out-selected epoch',
      'single nets acc, final',
      'memorised, final',
    ]),
    row(new Array(6).fill('---')),
    ...methods.map((m) =>
      row([m.name, m.runs.map((r) => r.spec.seed).join(', '), ...KEYS.map((k) => cell(m.runs, k))]),
    ),
  ];
  const ce = new Map(noisy.filter((r) => r.spec.method === 'ce').map((r) => [r.spec.seed, r]));
  const pairs = bySeed(noisy.filter((r) => r.spec.method === 'cct' && ce.has(r.spec.seed)));
  if (pairs.length > 0) {
    const diff = (key: keyof Headline) =>
      pairs.map((r) => headline(r)[key] - headline(ce.get(r.spec.seed)!)[key]);
    const describe = (key: keyof Headline) => {
      const d = diff(key);
      return d.length === 1 ? points(d[0]!) : `${points(mean(d))} (${d.map(points).join(' / ')})`;
    };
    lines.push(
      '',
      `CCT − CE on the same seed (${pairs.map((r) => `seed ${r.spec.seed}`).join(', ')}), in points: ` +
        `final accuracy ${describe('final')}; hold-out-selected accuracy ${describe('selected')}; ` +
        `single nets ${describe('singles')}; memorised ${describe('memorised')}.`,
    );
  }
  return lines;
}
