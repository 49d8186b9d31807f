#!/usr/bin/env node
// Installed from npm, the package runs its compiled JavaScript (dist/). In a checkout of the
// repository (the sources are there and tsx is installed), it runs dist/ when that is a fresh build
// of the sources (src/util/fresh-build.ts: less CPU at every start) and the TypeScript sources
// otherwise, so that an edit takes effect without a build.
import { existsSync } from 'node:fs';
import { URL } from 'node:url';
import { setFlagsFromString } from 'node:v8';

// `cctfer serve` runs without V8's incremental marking (why: src/util/throughput-gc.ts, whose flag
// this repeats). It has to be set before any module of ours loads: set later, a marking cycle
// already under way can abort the process.
if (process.argv[2] === 'serve') setFlagsFromString('--no-incremental-marking');

const sources = new URL('../src/cli/main.ts', import.meta.url);
const freshBuild = new URL('../dist/src/util/fresh-build.js', import.meta.url);
let tsx;
if (existsSync(sources)) {
  // A half-written or broken dist/ must not stop the checkout from running its sources.
  const fresh =
    existsSync(freshBuild) &&
    (await import(freshBuild.href).then((m) => m.distIsFresh()).catch(() => false));
  if (!fresh) tsx = await import('tsx/esm/api').catch(() => undefined);
}
if (tsx) {
  tsx.register();
  await import(sources.href);
} else await import('../dist/src/cli/main.js');
