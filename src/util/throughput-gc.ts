/**
 * The V8 setting `cctfer serve` runs with: no incremental marking. With V8's default the server's
 * main thread, in some runs, starts an incremental-marking cycle about every 0.1 s while its old
 * generation is far below its limit, finishing each with a mark-compact; the marking threads take
 * the cores face detection needs and fps drops (figures and command in the README, "Against the
 * release before the analysis-core redesign"). With incremental marking off, old space is collected
 * only when it reaches its limit. Offline annotation showed no difference, so only `serve` sets it.
 *
 * It must be set before the heap's first marking cycle: flipped while a concurrent marker runs,
 * V8 aborts the process ("unreachable code" in ConcurrentMarking::RunMajor — seen once in the
 * serve start-up tests when this was set after the server's modules had loaded). So entries set it
 * first thing, before importing anything large: bin/cctfer.js for `serve` (plain JavaScript, it
 * repeats the flag) and bench/live.ts. Never from a library that shares its process.
 */
import { setFlagsFromString } from 'node:v8';

export const THROUGHPUT_GC_FLAG = '--no-incremental-marking';

export function useThroughputGc(): void {
  setFlagsFromString(THROUGHPUT_GC_FLAG);
}
