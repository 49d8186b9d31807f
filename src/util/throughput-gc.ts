/**
 * The V8 setting `cctfer serve` runs with: no incremental marking. Measured with `node
 * --trace-incremental-marking bench/live.ts --clients 100 --modes lossless --detect-every 1
 * --v8-default-gc`: the server's main thread keeps an old generation of ~14 MB far below its limit
 * (~53 MB), yet in some runs V8 starts an incremental marking cycle ("Start (task)") every ~0.1 s
 * and finishes each with a mark-compact; those runs analysed 55–58 fps against 63–70 without the
 * cycles (the marking threads take the cores face detection needs). With incremental marking off,
 * old space is collected only when it reaches its limit (one mark-compact in a 10 s run) and fps,
 * latency and event-loop delay are those of the good runs. Offline annotation showed no
 * difference, so only `serve` sets it.
 *
 * It changes a process-wide flag: call it only in a process that is the server (the CLI command,
 * the bench), not from a library that shares its process with other work.
 */
import { setFlagsFromString } from 'node:v8';

export function useThroughputGc(): void {
  setFlagsFromString('--no-incremental-marking');
}
