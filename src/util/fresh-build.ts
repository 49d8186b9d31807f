/**
 * In a checkout, is `dist/` a build of the sources as they are now? Then the CLI and our worker
 * threads run the compiled `.js` instead of compiling TypeScript on the fly with tsx, which costs
 * CPU at every start of a process or worker thread. A source edited (or deleted) after the build
 * makes the build stale and everything runs from the sources again, so an edit always takes effect.
 *
 * Fresh means: `dist/src/cli/main.js` exists and no file under the built folders (the `include` of
 * tsconfig.build.json), nor package.json or a tsconfig, changed after it was written. Checked once
 * per process (a few ms).
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PACKAGE_ROOT as root } from '../package-paths.ts';

/** The folders tsconfig.build.json compiles into dist/, and the files that shape the build. */
const BUILT = ['src', 'pipelines'];
const CONFIG = ['package.json', 'tsconfig.json', 'tsconfig.build.json'];

/** The newest change under `dir`; a folder's own time counts, so a deleted source does too. */
function newestMtime(dir: string): number {
  let newest = statSync(dir).mtimeMs;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** True when `root`'s dist/ was built after the last change to the sources it compiles. */
export function buildIsFresh(root: string): boolean {
  try {
    const built = statSync(join(root, 'dist', 'src', 'cli', 'main.js')).mtimeMs;
    return (
      BUILT.every((d) => newestMtime(join(root, d)) <= built) &&
      CONFIG.every((f) => statSync(join(root, f)).mtimeMs <= built)
    );
  } catch {
    return false; // no build (or no sources): run what is there
  }
}

let fresh: boolean | undefined;

/** True when this checkout's dist/ is a fresh build (checked once per process). */
export function distIsFresh(): boolean {
  return (fresh ??= buildIsFresh(root));
}

/** The compiled twin (`dist/…/x.js`) of a source module (`…/x.ts`) when dist/ is fresh. */
export function freshCompiledTwin(source: URL): URL | undefined {
  if (!source.href.endsWith('.ts') || !distIsFresh()) return undefined;
  const rel = relative(root, fileURLToPath(source)).replace(/\.ts$/, '.js');
  return pathToFileURL(join(root, 'dist', rel));
}
