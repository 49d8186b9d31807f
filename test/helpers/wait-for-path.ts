/**
 * Waits for a file or folder to appear under a directory, on file-system events (inotify) rather
 * than by sleeping and polling: a test that needs "as soon as X is written" stays exact on a
 * loaded machine.
 */
import { mkdir, readdir, watch } from 'node:fs/promises';

/**
 * Resolves with the first path (relative to `dir`, searched recursively on every change to `dir`
 * itself) that `match` accepts, or
 * undefined if `until` settles first (e.g. the process that should write it exited).
 */
export async function waitForPath(
  dir: string,
  match: (path: string) => boolean,
  until?: Promise<unknown>,
): Promise<string | undefined> {
  await mkdir(dir, { recursive: true });
  const ac = new AbortController();
  const existing = async () =>
    (await readdir(dir, { recursive: true }).catch(() => [] as string[])).find(match);
  let stopped = false;
  void until?.finally(() => {
    stopped = true;
    ac.abort();
  });
  try {
    // Not recursive: Node's recursive watcher throws when a sub-folder vanishes mid-walk (a
    // temporary folder renamed into place). Any event in `dir` triggers a full look below it.
    const events = watch(dir, { signal: ac.signal });
    // Anything written before the watch started.
    const already = await existing();
    if (already) return already;
    for await (const e of events) {
      if (e.filename && match(e.filename)) return e.filename;
      // A folder moved into place whole (a rename) announces only itself.
      const found = await existing();
      if (found) return found;
    }
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  } finally {
    ac.abort();
  }
  return stopped ? ((await existing()) ?? undefined) : undefined;
}
