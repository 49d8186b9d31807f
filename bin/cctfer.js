#!/usr/bin/env node
// Installed from npm, the package runs its compiled JavaScript (dist/). In a checkout of the
// repository (the sources are there and tsx is installed), it runs dist/ when that is a fresh build
// of the sources (src/util/fresh-build.ts: less CPU at every start) and the TypeScript sources
// otherwise, so that an edit takes effect without a build.
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

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
