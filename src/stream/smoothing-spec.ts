/** The --smoothing specs of offline work (centred) and live work (causal), parsed without loading any engine. */
import { parseCausalSmoothing, type CausalSmoothing } from './smooth.ts';
import type { CentredSmoothing } from './smooth-offline.ts';

export type SmoothingChoice = { causal: CausalSmoothing; offline?: CentredSmoothing };

/** `box:<radius frames>`, `gaussian:<sigma frames>` (offline, centred), or a causal spec (ema/window/none). */
export function parseSmoothing(spec: string): SmoothingChoice {
  const [method, arg] = spec.split(':');
  const v = Number(arg);
  if (method === 'box' && Number.isInteger(v) && v >= 0)
    return { causal: { method: 'none' }, offline: { method: 'box', radius: v } };
  if (method === 'gaussian' && v > 0)
    return { causal: { method: 'none' }, offline: { method: 'gaussian', sigma: v } };
  try {
    return { causal: parseCausalSmoothing(spec) };
  } catch {
    throw new Error(
      `smoothing must be gaussian:<sigma frames>, box:<radius frames>, ema:<half-life ms>, window:<ms> or none; got '${spec}'`,
    );
  }
}

/** The smoothings `cctfer eval` scores by default. */
export const DEFAULT_SWEEP = [
  'none',
  'box:2',
  'box:5',
  'box:10',
  'gaussian:1',
  'gaussian:3',
  'gaussian:6',
  'gaussian:12',
];
