/** tfjs backend names and their parser: no engine loaded, so the CLI can parse options cheaply. */
export const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];
export type BackendRequest = BackendName | 'auto';

export function parseBackendName(value: string): BackendRequest {
  if (value === 'auto' || (BACKENDS as readonly string[]).includes(value)) {
    return value as BackendRequest;
  }
  throw new Error(`unknown backend '${value}': expected one of auto, ${BACKENDS.join(', ')}`);
}
