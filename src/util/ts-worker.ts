/**
 * Starts a worker thread on one of our modules, named by its source path (`./x.ts`). Compiled
 * (dist/), the module is the `.js` beside this one and runs as is. From the sources (tests, dev),
 * the compiled twin runs when dist/ is a fresh build of them (fresh-build.ts: tsx costs CPU at every
 * worker start); otherwise — a worker does not inherit the main thread's loader hooks — a tiny
 * eval'd bootstrap registers tsx in the worker before importing the module.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { freshCompiledTwin } from './fresh-build.ts';

const compiled = import.meta.url.endsWith('.js');

export function tsWorker(module: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  if (compiled) return new Worker(new URL(module.href.replace(/\.ts$/, '.js')), options);
  const twin = freshCompiledTwin(module);
  if (twin) return new Worker(twin, options);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(module.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
