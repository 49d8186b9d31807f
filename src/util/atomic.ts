/** Writes that never leave a half-written result behind: temporary name first, then rename. */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

function uniqueSuffix(): string {
  return `${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e9)}`;
}

/** A directory being written under a temporary name; `commit()` puts it in place whole. */
export interface PendingDir {
  /** Where to write the files meanwhile. */
  readonly path: string;
  /** Renames the finished directory to its name, replacing an existing one only now. */
  commit(): Promise<void>;
  /** Removes what was written. */
  abort(): Promise<void>;
}

/**
 * Opens a hidden temporary sibling of `dir` (`.<name>.tmp-*`) to write into: a process killed
 * before commit leaves nothing that looks complete.
 */
export async function openDirAtomic(dir: string): Promise<PendingDir> {
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  const unique = uniqueSuffix();
  const tmp = join(parent, `.${basename(dir)}.tmp-${unique}`);
  const old = join(parent, `.${basename(dir)}.old-${unique}`);
  await mkdir(tmp);
  return {
    path: tmp,
    async commit() {
      try {
        let replaced = false;
        try {
          await rename(dir, old);
          replaced = true;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
        await rename(tmp, dir);
        if (replaced) await rm(old, { recursive: true, force: true });
      } catch (err) {
        await rm(tmp, { recursive: true, force: true });
        throw err;
      }
    },
    abort: () => rm(tmp, { recursive: true, force: true }),
  };
}

/**
 * Writes `files` (name → bytes) into a temporary sibling directory and renames it to `dir`,
 * replacing an existing `dir` only once the new one is complete.
 */
export async function writeDirAtomic(
  dir: string,
  files: Map<string, Uint8Array | string>,
): Promise<void> {
  const pending = await openDirAtomic(dir);
  try {
    for (const [file, bytes] of files) await writeFile(join(pending.path, file), bytes);
  } catch (err) {
    await pending.abort();
    throw err;
  }
  await pending.commit();
}

/** Writes one file via a temporary sibling and a rename. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${uniqueSuffix()}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
