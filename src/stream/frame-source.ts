/**
 * Turns an async iterable of frames (decodeFrames) into an RxJS Observable without unbounded
 * buffering — RxJS has no backpressure of its own, so the consumer grants credits:
 * - 'pull' (files): a frame is pulled from the decoder only while credits remain; with none left
 *   the decoder is not advanced and ffmpeg's stdout stays paused. Lossless.
 * - 'drop-oldest' (live sources, which cannot be paused): frames are read as they come into a ring
 *   of `bufferSize`; when it is full the oldest frame is dropped and counted. Latency stays bounded.
 * Call `ack()` once per frame when done with it (e.g. after inference); `credits` frames may be in
 * flight at once.
 */
import { Observable } from 'rxjs';

export type SourcePolicy = 'pull' | 'drop-oldest';

export interface FrameSourceOptions {
  /** 'pull' (default) or 'drop-oldest'. */
  policy?: SourcePolicy;
  /** Frames that may be in flight downstream at once (default 2). */
  credits?: number;
  /** 'drop-oldest' only: frames kept while downstream is busy (default 1: latest wins). */
  bufferSize?: number;
}

export interface FrameSource<T> {
  frames$: Observable<T>;
  /** Downstream is done with one frame: allow one more. */
  ack(): void;
  /** Frames dropped so far ('drop-oldest'). */
  dropped(): number;
}

export function frameSource<T>(
  source: AsyncIterable<T>,
  options: FrameSourceOptions = {},
): FrameSource<T> {
  const policy = options.policy ?? 'pull';
  const initial = options.credits ?? 2;
  const bufferSize = options.bufferSize ?? 1;
  if (!(initial >= 1)) throw new RangeError(`credits must be ≥ 1, got ${initial}`);
  if (!(bufferSize >= 1)) throw new RangeError(`bufferSize must be ≥ 1, got ${bufferSize}`);
  let credits = initial;
  let droppedCount = 0;
  let wake: (() => void) | undefined;
  const signal = () => {
    wake?.();
    wake = undefined;
  };
  const waitForCredit = () => new Promise<void>((r) => (wake = r));

  const frames$ = new Observable<T>((subscriber) => {
    const iterator = source[Symbol.asyncIterator]();
    let stopped = false;
    const ring: T[] = [];
    let sourceDone = false;

    const pump = async () => {
      try {
        if (policy === 'pull') {
          while (!stopped) {
            while (credits <= 0 && !stopped) await waitForCredit();
            if (stopped) break;
            const next = await iterator.next();
            if (next.done || stopped) break;
            credits--;
            subscriber.next(next.value);
          }
        } else {
          // Reader: keeps up with the live source, dropping the oldest buffered frame when full.
          // A failing source (a decoder crash) must reach the subscriber even while the loop
          // below waits for a credit: the reader keeps its error instead of rejecting unheard.
          let failure: { error: unknown } | undefined;
          const reader = (async () => {
            try {
              while (!stopped) {
                const next = await iterator.next();
                if (next.done) break;
                if (ring.length >= bufferSize) {
                  ring.shift();
                  droppedCount++;
                }
                ring.push(next.value);
                signal();
              }
            } catch (error) {
              failure = { error };
            }
            sourceDone = true;
            signal();
          })();
          while (!stopped) {
            while (
              (credits <= 0 || ring.length === 0) &&
              !stopped &&
              !failure &&
              !(sourceDone && ring.length === 0)
            )
              await waitForCredit();
            if (failure) throw failure.error;
            if (stopped || (sourceDone && ring.length === 0)) break;
            credits--;
            subscriber.next(ring.shift() as T);
          }
          await reader;
          if (failure) throw failure.error;
        }
        if (!stopped) subscriber.complete();
      } catch (err) {
        if (!stopped) subscriber.error(err);
      }
    };
    void pump();
    return () => {
      stopped = true;
      signal();
      void iterator.return?.();
    };
  });

  return {
    frames$,
    ack() {
      credits = Math.min(initial, credits + 1);
      signal();
    },
    dropped: () => droppedCount,
  };
}
