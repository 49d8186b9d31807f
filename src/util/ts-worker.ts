/**
 * Starts a worker thread on a TypeScript module. The package runs without a build step (tsx), and
 * a worker does not inherit the main thread's loader hooks, so a tiny eval'd bootstrap registers
 * tsx in the worker before importing the module.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function tsWorker(module: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(module.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
