import { Rng } from '../util/rng.ts';
import type { ArchConfig, Network } from './network.ts';
import type { ArchSpec } from './arch-spec.ts';
import { faceapiExpression, faceapiLandmark68Tiny } from './faceapi-expression.ts';
import { ferCnn, ferCnnSmall } from './fer-cnn.ts';
import { miniXception } from './mini-xception.ts';
import { mlp } from './mlp.ts';
import { resnet18 } from './resnet18.ts';
import { tinyCnn } from './tiny-cnn.ts';

export type { ArchSpec };

const registry = new Map<string, ArchSpec>();
let instances = 0;

export function registerArch(spec: ArchSpec): void {
  if (registry.has(spec.name)) throw new Error(`architecture '${spec.name}' is already registered`);
  registry.set(spec.name, spec);
}

/** Registered architecture names, optionally filtered by a `*` glob. */
export function listArchs(glob = '*'): string[] {
  const re = new RegExp(
    `^${glob
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return [...registry.keys()].filter((n) => re.test(n)).sort();
}

export function getArch(name: string): ArchSpec {
  const spec = registry.get(name);
  if (!spec)
    throw new Error(`unknown architecture '${name}': expected one of ${listArchs().join(', ')}`);
  return spec;
}

export interface CreateModelOptions extends Partial<ArchConfig> {
  /** Seed for the initialisation (default 0). Members of an ensemble get different seeds. */
  seed?: number;
}

/** Builds a network; caller options override the architecture's defaults, in this one place. */
export function createModel(name: string, options: CreateModelOptions = {}): Network {
  const spec = getArch(name);
  const { seed = 0, ...overrides } = options;
  const config: ArchConfig = { ...spec.defaults, ...overrides };
  for (const [field, value] of Object.entries(config)) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(
        `${name}: config field '${field}' must be a positive integer, got ${value}`,
      );
    }
  }
  return spec.build(config, new Rng(seed), `${name}-${instances++}`);
}

registerArch(faceapiExpression);
registerArch(faceapiLandmark68Tiny);
registerArch(ferCnn);
registerArch(ferCnnSmall);
registerArch(miniXception);
registerArch(mlp);
registerArch(resnet18);
registerArch(tinyCnn);
