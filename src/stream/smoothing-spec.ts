/** The --smoothing specs of offline work (centred) and live work (causal), parsed without loading any engine. */
import type { CentredSmoothing } from './smooth-offline.ts';

export type CausalSmoothing =
  | { method: 'none' }
  | { method: 'ema'; halfLifeMs: number }
  | { method: 'window'; windowMs: number };

/** Parses `ema:<half-life ms>`, `window:<ms>` or `none` (the CLI's --smoothing). */
export function parseCausalSmoothing(spec: string): CausalSmoothing {
  const [method, arg] = spec.split(':');
  const ms = Number(arg);
  if (method === 'none' && arg === undefined) return { method: 'none' };
  if (method === 'ema' && ms > 0) return { method: 'ema', halfLifeMs: ms };
  if (method === 'window' && ms > 0) return { method: 'window', windowMs: ms };
  throw new Error(`smoothing must be ema:<half-life ms>, window:<ms> or none; got '${spec}'`);
}

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
