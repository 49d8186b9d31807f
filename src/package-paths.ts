/**
 * Files that ship inside the package (the default model, the web page, the landmark net), found
 * from the package's own root — never from the caller's working directory — whether this module
 * runs from the sources (src/) or compiled (dist/src/).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (
      existsSync(pkg) &&
      (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'cctfer'
    )
      return dir;
    const up = dirname(dir);
    if (up === dir)
      throw new Error(`cctfer: no package.json of cctfer above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

export const PACKAGE_ROOT = findRoot();
/** The embedded default model bundle. */
export const DEFAULT_BUNDLE = join(PACKAGE_ROOT, 'models', 'default');
/** The live web page. */
export const WEB_ROOT = join(PACKAGE_ROOT, 'web');
/** face-api's tiny 68-point landmark net (the aligned-crop refiner). */
export const LANDMARK_MODEL_DIR = join(PACKAGE_ROOT, 'models', 'face-landmark-68-tiny');
