/**
 * A client's pushed camera: announcements (`push` messages) and the images that follow, decoded
 * and fed to a private source of the analysis. Bad timestamps and bad images are errors for that
 * client; the source and every other client carry on.
 */
import type { AnalysisService } from './analysis-service.ts';
import type { Channel } from '../stream/channel.ts';
import type { Frame } from '../video/decode.ts';
import { decodePushedImage, ImageError } from '../video/image-decode.ts';
import type { ErrorCode } from './protocol.ts';

/** Pushed sources are named `push:<client id>`: private to that client. */
export const PUSH_PREFIX = 'push:';

export type PushError = (code: ErrorCode, message: string, source: string) => void;

export class PushSource {
  readonly source: string;
  private readonly channel: Channel<Frame>;
  private frames = 0;
  private lastPts = -Infinity;
  /** What the next binary message was announced as (refused: its announcement was invalid). */
  private next:
    { frame?: number | undefined; pts?: number | undefined; refused?: boolean } | undefined;

  constructor(
    private readonly service: AnalysisService,
    clientId: string,
    private readonly error: PushError,
    private readonly open: () => boolean,
  ) {
    this.source = `${PUSH_PREFIX}${clientId}`;
    this.channel = service.addPushSource(this.source);
  }

  announce(frame: number | undefined, pts: number | undefined): void {
    this.next = { frame, pts };
  }

  /** A refused announcement refuses the image it announces, too. */
  refuseNext(): void {
    this.next = { refused: true };
  }

  image(bytes: Buffer): void {
    const announced = this.next;
    this.next = undefined;
    if (announced?.refused) return;
    const receivedAt = Date.now();
    // Tracking needs increasing timestamps: an announced one must move forward, else the frame is
    // refused (an error for this client; the source and every other one carry on).
    if (announced?.pts !== undefined && !(announced.pts > this.lastPts))
      return this.error(
        'bad_timestamp',
        `pushed frames need increasing timestamps: pts ${announced.pts} after ${this.lastPts}; frame dropped`,
        this.source,
      );
    if (announced?.pts !== undefined) this.lastPts = announced.pts;
    decodePushedImage(bytes).then(
      (img) => {
        if (!this.open()) return;
        const index = announced?.frame ?? this.frames;
        let pts = announced?.pts ?? receivedAt / 1000;
        // Unannounced frames take the server clock, which may repeat a value (or trail an
        // announced one): nudge those forward.
        if (announced?.pts === undefined && pts <= this.lastPts) pts = this.lastPts + 1e-3;
        this.lastPts = Math.max(this.lastPts, pts);
        this.frames++;
        this.channel.push({ sourceId: this.source, index, pts, ...img });
      },
      (err: Error) =>
        this.error(err instanceof ImageError ? 'bad_image' : 'internal', err.message, this.source),
    );
  }

  close(): void {
    this.channel.end();
    this.service.closeSource(this.source);
  }
}
