import { fileURLToPath } from 'node:url';
import { tf } from './tf.ts';
import { registerWasmConvGradKernels } from './wasm-conv-grad.ts';
import { BACKENDS, type BackendName, type BackendRequest } from './backend-name.ts';

export {
  BACKENDS,
  parseBackendName,
  type BackendName,
  type BackendRequest,
} from './backend-name.ts';

/** Backends cctfer knows how to load, fastest first. */
export interface BackendOptions {
  /** Which backend to use; 'auto' (default) tries tensorflow > wasm > cpu. */
  backend?: BackendRequest;
  /** Called once with a one-line description of the chosen backend. Default: silent. */
  log?: (line: string) => void;
}

export interface BackendInfo {
  name: BackendName;
  /** Extra facts: the native package used, or wasm SIMD/threads. */
  detail: string;
}

export class BackendUnavailableError extends Error {
  constructor(name: BackendName, reason: string) {
    super(`backend '${name}' was requested but cannot be loaded: ${reason}`);
    this.name = 'BackendUnavailableError';
  }
}

let current: BackendInfo | undefined;

/** Parses a user-supplied backend name; throws an error that lists the valid names. */
async function loadTensorflow(): Promise<string> {
  // GPU users install tfjs-node-gpu themselves; tfjs-node is our optional dependency.
  const failures: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
      return pkg;
    } catch (err) {
      failures.push(`${pkg}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(failures.join('; '));
}

async function activate(name: BackendName): Promise<string> {
  let detail = '';
  if (name === 'tensorflow') {
    detail = await loadTensorflow();
  } else if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // Point at the .wasm files explicitly: emscripten guesses its directory from globals, and
    // MediaPipe's Node shim (same thread) makes it think it runs in a web worker.
    wasm.setWasmPaths(
      fileURLToPath(new URL('.', import.meta.resolve('@tensorflow/tfjs-backend-wasm'))),
    );
  }
  const ok = await tf.setBackend(name);
  await tf.ready();
  // setBackend can resolve false, or leave another backend active after a failed init: check.
  if (!ok || tf.getBackend() !== name) {
    throw new Error(`tf.getBackend() is '${tf.getBackend()}' after setBackend('${name}')`);
  }
  if (name === 'wasm') {
    registerWasmConvGradKernels();
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    detail = `SIMD ${simd ? 'on' : 'off'}, 1 thread (Node)`;
  }
  return detail;
}

/**
 * Selects and initialises the tfjs backend. An explicitly requested backend that fails to load is
 * an error, never a silent fallback; 'auto' falls through tensorflow > wasm > cpu.
 */
export async function initBackend(options: BackendOptions = {}): Promise<BackendInfo> {
  const request = options.backend ?? 'auto';
  if (current && (request === 'auto' || request === current.name)) return current;
  const candidates: readonly BackendName[] = request === 'auto' ? BACKENDS : [request];
  const reasons: string[] = [];
  for (const name of candidates) {
    try {
      const detail = await activate(name);
      current = { name, detail };
      options.log?.(`tfjs backend: ${name}${detail ? ` (${detail})` : ''}`);
      return current;
    } catch (err) {
      const reason = (err as Error).message;
      if (request !== 'auto') throw new BackendUnavailableError(name, reason);
      reasons.push(`${name}: ${reason}`);
    }
  }
  throw new Error(`no tfjs backend could be loaded (${reasons.join('; ')})`);
}

/** The backend chosen by the last successful {@link initBackend}, if any. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}
