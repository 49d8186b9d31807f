/**
 * Per-client sending with a bounded queue. At most `maxInFlight` messages are handed to the socket
 * before it confirms they were written; the rest wait here, in order. Frame messages may wait at
 * most `maxFrames` at a time: a newer frame drops the oldest waiting one (counted), so a client
 * that stops reading costs the server a fixed amount of memory and never delays the pipeline or
 * other clients. Control messages (hello, end, error, stats, pong) are never dropped; a client that
 * lets more than `maxControl` of them pile up is disconnected. Preview pictures are the first to
 * go: at most one waits here, and a newer one replaces it.
 */
export interface Sendable {
  send(data: string | Buffer, cb: (err?: Error) => void): void;
}

interface Entry {
  data: string | Buffer;
  frame: boolean;
  preview?: boolean;
}

export class Outbox {
  private queue: Entry[] = [];
  private frames = 0;
  private inFlight = 0;
  private closed = false;
  dropped = 0;
  previewsDropped = 0;

  constructor(
    private readonly socket: Sendable,
    private readonly onOverflow: () => void,
    private readonly maxFrames = 4,
    private readonly maxControl = 1024,
    private readonly maxInFlight = 2,
  ) {}

  sendFrame(data: string): void {
    if (this.closed) return;
    if (this.frames >= this.maxFrames) {
      const oldest = this.queue.findIndex((e) => e.frame);
      this.queue.splice(oldest, 1);
      this.frames--;
      this.dropped++;
    }
    this.queue.push({ data, frame: true });
    this.frames++;
    this.pump();
  }

  sendPreview(data: Buffer): void {
    if (this.closed) return;
    const waiting = this.queue.findIndex((e) => e.preview);
    if (waiting >= 0) {
      this.queue.splice(waiting, 1);
      this.previewsDropped++;
    }
    this.queue.push({ data, frame: false, preview: true });
    this.pump();
  }

  sendControl(data: string): void {
    if (this.closed) return;
    const previewWaiting = this.queue.some((e) => e.preview) ? 1 : 0;
    if (this.queue.length - this.frames - previewWaiting >= this.maxControl) {
      this.close();
      this.onOverflow();
      return;
    }
    this.queue.push({ data, frame: false });
    this.pump();
  }

  /** Messages waiting here (not yet handed to the socket). */
  get waiting(): number {
    return this.queue.length;
  }

  close(): void {
    this.closed = true;
    this.queue = [];
    this.frames = 0;
  }

  private pump(): void {
    while (!this.closed && this.inFlight < this.maxInFlight) {
      const next = this.queue.shift();
      if (!next) return;
      if (next.frame) this.frames--;
      this.inFlight++;
      this.socket.send(next.data, () => {
        this.inFlight--;
        this.pump();
      });
    }
  }
}
