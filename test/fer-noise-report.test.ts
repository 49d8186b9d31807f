import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { seedSummary } from '../bench/fer/seed-summary.ts';
import { chartSvg, markdownReport } from '../bench/fer/report.ts';
import type { EpochRecord, ModelScores, RunResult, RunSpec } from '../bench/fer/experiment.ts';

const spec = (id: string, method: RunSpec['method'], seed: number): RunSpec => ({
  id,
  method,
  seed,
  labels: id.startsWith('clean') ? 'ferplus-majority' : 'fer2013',
  members: id.startsWith('clean') ? 1 : 3,
  arch: 'fer-cnn-s',
  epochs: 2,
  batchSize: 64,
  lr: 1e-3,
  lrDecay: 0.95,
  subsample: 0.25,
  flip: true,
  evalCap: 0,
  memberWorkers: true,
});

const scores = (ensemble: number, members: number[]): ModelScores => ({
  ensemble: { accuracy: ensemble, macroF1: ensemble / 2 },
  members: members.map((accuracy) => ({ accuracy, macroF1: accuracy / 2 })),
});

/** A finished run with the given PublicTest figures (only what the report reads is realistic). */
function run(
  id: string,
  method: RunSpec['method'],
  seed: number,
  f: { final: number; selected: number; members: number[]; memorised: number },
): RunResult {
  const last = {
    epoch: 1,
    lambda: 0,
    loss: 1,
    seconds: 1,
    trainAccuracy: [0.9, 0.9, 0.9],
    holdout: scores(0.5, [0.5, 0.5, 0.5]),
    holdoutOriginal: scores(0.5, [0.5, 0.5, 0.5]),
    memorised: { ensemble: f.memorised, members: [f.memorised, f.memorised, f.memorised] },
    corrected: { ensemble: 0, members: [0, 0, 0] },
  } satisfies EpochRecord;
  const final = scores(f.final, f.members);
  return {
    spec: spec(id, method, seed),
    trainImages: 100,
    holdoutImages: 10,
    disagreeingImages: 30,
    epochs: [last],
    selectedEpoch: 0,
    publicTest: {
      faces: 50,
      final: { ferplus: final, original: final },
      selected: { ferplus: scores(f.selected, f.members), original: final },
    },
    memorisationRegimeFrom: 1,
    seconds: 1,
  };
}

// [id, method, seed, final acc, hold-out-selected acc, member accs, memorised], as fractions.
const [ce1, cct1, ce2, cct2, clean] = (
  [
    ['ce-s1', 'ce', 1, 0.55, 0.65, [0.5, 0.5, 0.5], 1],
    ['cct-s1', 'cct', 1, 0.59, 0.63, [0.56, 0.57, 0.58], 0.75],
    ['ce-s2', 'ce', 2, 0.57, 0.64, [0.52, 0.52, 0.52], 0.9],
    ['cct-s2', 'cct', 2, 0.58, 0.66, [0.55, 0.55, 0.55], 0.7],
    ['clean-s1', 'ce', 1, 0.713, 0.71, [0.68], 0.2],
  ] as const
).map(([id, method, seed, final, selected, members, memorised]) =>
  run(id, method, seed, { final, selected, members: [...members], memorised }),
) as [RunResult, RunResult, RunResult, RunResult, RunResult];

describe('bench/fer-noise report over seeds', () => {
  it('averages each method over its seeds, shows each seed, and pairs CCT with CE seed by seed', () => {
    const md = seedSummary([cct2, clean, ce1, cct1, ce2]).join('\n');
    assert.match(
      md,
      /\| CE ×3 \(ensembled\) \| 1, 2 \| 56\.0 \(55\.0 \/ 57\.0\) \| 64\.5 \(65\.0 \/ 64\.0\) \| 51\.0 \(50\.0 \/ 52\.0\) \| 95\.0 \(100\.0 \/ 90\.0\) \|/,
    );
    assert.match(
      md,
      /\| CCT N=3 \| 1, 2 \| 58\.5 \(59\.0 \/ 58\.0\) \| 64\.5 \(63\.0 \/ 66\.0\) \| 56\.0 \(57\.0 \/ 55\.0\) \| 72\.5 \(75\.0 \/ 70\.0\) \|/,
    );
    assert.match(
      md,
      /CCT − CE on the same seed \(seed 1, seed 2\), in points: final accuracy \+2\.5 \(\+4\.0 \/ \+1\.0\); hold-out-selected accuracy \+0\.0 \(−2\.0 \/ \+2\.0\); single nets \+5\.0 \(\+7\.0 \/ \+3\.0\); memorised −22\.5 \(−25\.0 \/ −20\.0\)\./,
    );
    // The clean-label reference is not a noisy-label method.
    assert.doesNotMatch(md, /71\.3/);
  });

  it('pairs only seeds both methods ran, and is empty without a noisy-label run', () => {
    const md = seedSummary([ce1, cct1, cct2]).join('\n');
    assert.match(md, /\| CE ×3 \(ensembled\) \| 1 \| 55\.0 \| 65\.0 \|/);
    assert.match(md, /CCT − CE on the same seed \(seed 1\), in points: final accuracy \+4\.0;/);
    assert.deepEqual(seedSummary([clean]), []);
    assert.doesNotMatch(markdownReport([clean], 'cmd'), /Over seeds/);
    assert.match(markdownReport([ce1, cct1], 'cmd'), /## Over seeds/);
  });

  it('names every run in full in the chart legend', async () => {
    const svg = await chartSvg([ce1, cct1, ce2, clean]);
    for (const name of [
      'CE ×3 (independent nets), seed 1',
      'CE ×3 (independent nets), seed 2',
      'CE one net on FER+ majority (clean reference), seed 1',
    ]) {
      // The legend's text element, not the marks' aria-labels, which always carry the whole name.
      assert.ok(svg.includes(`>${name}</text>`), `legend shows '${name}'`);
    }
    assert.doesNotMatch(svg, /…/);
  });
});
