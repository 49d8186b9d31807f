import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIsFresh } from '../src/util/fresh-build.ts';

describe('fresh-build: run dist/ only when it is a build of the sources as they are', () => {
  it('is fresh after a build, stale after any source edit, and never without a build', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cctfer-fresh-'));
    try {
      const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
      const file = async (rel: string, second: number) => {
        await mkdir(join(root, rel, '..'), { recursive: true });
        await writeFile(join(root, rel), '');
        await utimes(join(root, rel), at(second), at(second));
        // Folders set back to the start: editing a file in place leaves its folder's time alone.
        for (let d = join(root, rel, '..'); d !== root; d = join(d, '..'))
          await utimes(d, at(0), at(0));
      };
      for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json']) await file(f, 0);
      await file('src/cli/main.ts', 1);
      await file('src/deep/er/x.ts', 2);
      await file('pipelines/annotate.ts', 3);
      assert.equal(buildIsFresh(root), false, 'no dist/ at all');
      await file('dist/src/cli/main.js', 10);
      assert.equal(buildIsFresh(root), true, 'built after every source');
      await file('src/deep/er/x.ts', 11);
      assert.equal(buildIsFresh(root), false, 'a nested source edited after the build');
      await file('src/deep/er/x.ts', 5);
      await file('pipelines/annotate.ts', 12);
      assert.equal(buildIsFresh(root), false, 'a pipeline edited after the build');
      await file('dist/src/cli/main.js', 20);
      await file('test/x.test.ts', 30);
      assert.equal(buildIsFresh(root), true, 'tests are not part of the build');
      await file('tsconfig.build.json', 21);
      assert.equal(buildIsFresh(root), false, 'the build config changed');
      await file('dist/src/cli/main.js', 40);
      await rm(join(root, 'src', 'deep', 'er', 'x.ts'));
      assert.equal(buildIsFresh(root), false, 'a source deleted after the build');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
