import type { DigitDatasetName } from '../../src/data/digit-datasets.ts';
import type { Method, RunSpec } from './experiment.ts';

export interface PlanOptions {
  datasets: DigitDatasetName[];
  epochs: number;
  trainSize: number;
  valSize: number;
  testSize: number;
  quick: boolean;
}

const MEMBERS: Record<Method, number> = { ce: 1, 'ce-ensemble': 3, cct: 3 };
const METHODS: Method[] = ['ce', 'ce-ensemble', 'cct'];

/** The full grid of the issue, or a small smoke grid with `quick`. */
export function buildPlan(o: PlanOptions): RunSpec[] {
  const runs: RunSpec[] = [];
  const add = (r: Omit<RunSpec, 'id' | 'epochs' | 'trainSize' | 'valSize' | 'testSize'>) => {
    const full = {
      ...r,
      epochs: o.epochs,
      trainSize: o.trainSize,
      valSize: o.valSize,
      testSize: o.testSize,
    };
    const id = [
      full.dataset,
      `${full.noise.type}${Math.round(full.noise.rate * 100)}`,
      full.method,
      `n${full.members}`,
      `b${full.beta}`,
      `s${full.seed}`,
      `e${full.epochs}`,
      `t${full.trainSize}-${full.valSize}-${full.testSize}`,
    ].join('_');
    runs.push({ id, ...full });
  };
  const noises = o.quick
    ? [{ type: 'symmetric' as const, rate: 0.4 }]
    : [
        { type: 'symmetric' as const, rate: 0 },
        { type: 'symmetric' as const, rate: 0.2 },
        { type: 'symmetric' as const, rate: 0.4 },
        { type: 'symmetric' as const, rate: 0.6 },
        { type: 'asymmetric' as const, rate: 0.4 },
      ];
  const sym40 = { type: 'symmetric' as const, rate: 0.4 };
  for (const dataset of o.datasets) {
    for (const noise of noises) {
      for (const method of METHODS)
        add({ group: 'main', dataset, noise, method, members: MEMBERS[method], beta: 4, seed: 1 });
    }
    if (o.quick) continue;
    for (const seed of [2, 3]) {
      for (const method of METHODS)
        add({
          group: 'seeds',
          dataset,
          noise: sym40,
          method,
          members: MEMBERS[method],
          beta: 4,
          seed,
        });
    }
    for (const members of [1, 2, 4]) {
      add({
        group: 'ablation-members',
        dataset,
        noise: sym40,
        method: 'cct',
        members,
        beta: 4,
        seed: 1,
      });
    }
    add({
      group: 'ablation-beta',
      dataset,
      noise: sym40,
      method: 'cct',
      members: 3,
      beta: 0.65,
      seed: 1,
    });
  }
  return runs;
}
