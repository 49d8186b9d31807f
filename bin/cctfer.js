#!/usr/bin/env node
// Installed from npm, the package runs its compiled JavaScript (dist/). In a checkout of the
// repository (the sources are there and tsx is installed), it runs the TypeScript sources instead,
// so that an edit takes effect without a build.
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

const sources = new URL('../src/cli/main.ts', import.meta.url);
let tsx;
if (existsSync(sources)) tsx = await import('tsx/esm/api').catch(() => undefined);
if (tsx) {
  tsx.register();
  await import(sources.href);
} else await import('../dist/src/cli/main.js');
