/**
 * The V8 setting `cctfer serve` runs with: no incremental marking. With V8's default the server's
 * main thread, in some runs, starts an incremental-marking cycle about every 0.1 s while its old
 * generation is far below its limit, finishing each with a mark-compact; the marking threads take
 * the cores face detection needs and fps drops (figures and command in the README, "Against the
 * release before the analysis-core redesign"). With incremental marking off, old space is collected
 * only when it reaches its limit. Offline annotation showed no difference, so only `serve` sets it.
 *
 * It changes a process-wide flag: call it only in a process that is the server (the CLI command,
 * the bench), not from a library that shares its process with other work.
 */
import { setFlagsFromString } from 'node:v8';

export function useThroughputGc(): void {
  setFlagsFromString('--no-incremental-marking');
}
