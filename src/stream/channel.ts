/**
 * An async-iterable channel fed by `push`: how frames a WebSocket client sends become a source like
 * any decoded video. It buffers at most `capacity` items and drops the oldest beyond that (counted),
 * because a client pushing faster than we analyse must not grow a queue.
 */
export interface Channel<T> extends AsyncIterable<T> {
  push(item: T): void;
  end(): void;
  dropped(): number;
}

export function channel<T>(capacity = 1): Channel<T> {
  const queue: T[] = [];
  let ended = false;
  let droppedCount = 0;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  return {
    push(item) {
      if (ended) return;
      if (queue.length >= capacity) {
        queue.shift();
        droppedCount++;
      }
      queue.push(item);
      notify();
    },
    end() {
      ended = true;
      notify();
    },
    dropped: () => droppedCount,
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (queue.length > 0) yield queue.shift() as T;
        else if (ended) return;
        else await new Promise<void>((r) => (wake = r));
      }
    },
  };
}
