import { initBackend, type BackendName } from '../../src/engine/backend.ts';

/** Tests run on wasm (the backend users get without tfjs-node) unless CCTFER_TEST_BACKEND says otherwise. */
export async function useTestBackend(name?: BackendName): Promise<void> {
  await initBackend({
    backend: name ?? (process.env.CCTFER_TEST_BACKEND as BackendName | undefined) ?? 'wasm',
  });
}

export function assertClose(actual: number, expected: number, tol = 1e-5, what = 'value'): void {
  const diff = Math.abs(actual - expected);
  if (!(diff <= tol * Math.max(1, Math.abs(expected)))) {
    throw new Error(`${what}: expected ${expected}, got ${actual} (|diff| ${diff} > tol ${tol})`);
  }
}
