/**
 * Preview frames for subscribers that asked for them: an analysed frame is encoded as a JPEG
 * (sharp, on libvips' own threads, so the event loop only hands the pixels over) at most once per
 * width, at most one encode per source at a time. A frame that arrives while its source's previous
 * picture is still being encoded gets no preview: previews are dropped first, analysis never waits.
 */
import sharp from 'sharp';
import type { Frame } from '../video/decode.ts';
import { framePreview } from './preview-frame.ts';

/** What one client asked for, per subscription, and when it last got a picture. */
export interface PreviewWish {
  maxWidth: number;
  fps: number;
  lastSentAt: number;
}

export interface PreviewTarget {
  wish: PreviewWish;
  deliver: (message: Buffer) => void;
}

export class PreviewEncoder {
  private readonly busy = new Set<string>();
  /** Pictures encoded, and frames passed over because their source's encoder was busy. */
  readonly counts = { encoded: 0, skipped: 0, failed: 0 };

  constructor(
    private readonly quality = 70,
    private readonly now: () => number = Date.now,
  ) {}

  offer(frame: Frame, targets: readonly PreviewTarget[]): void {
    const now = this.now();
    // A little slack so that a 15 fps wish is met by a 15 fps source despite timer jitter.
    const due = targets.filter((t) => now - t.wish.lastSentAt >= 900 / t.wish.fps);
    if (due.length === 0) return;
    if (this.busy.has(frame.sourceId)) {
      this.counts.skipped++;
      return;
    }
    this.busy.add(frame.sourceId);
    for (const t of due) t.wish.lastSentAt = now;
    const byWidth = new Map<number, PreviewTarget[]>();
    for (const t of due) {
      const w = Math.min(t.wish.maxWidth, frame.width);
      byWidth.set(w, [...(byWidth.get(w) ?? []), t]);
    }
    void this.encode(frame, byWidth).finally(() => this.busy.delete(frame.sourceId));
  }

  private async encode(frame: Frame, byWidth: Map<number, PreviewTarget[]>): Promise<void> {
    for (const [width, targets] of byWidth) {
      try {
        let image = sharp(frame.data, {
          raw: { width: frame.width, height: frame.height, channels: 4 },
        }).removeAlpha();
        // Frames at or under the width go straight to the encoder: no resampling pass.
        if (width < frame.width) image = image.resize({ width });
        const { data, info } = await image
          // Huffman optimisation is a second pass for ~5% fewer bytes: not worth a core's time here.
          .jpeg({ quality: this.quality, optimiseCoding: false })
          .toBuffer({ resolveWithObject: true });
        const message = framePreview(
          {
            type: 'preview',
            source: frame.sourceId,
            frame: frame.index,
            pts: frame.pts,
            width: info.width,
            height: info.height,
            frameWidth: frame.width,
            frameHeight: frame.height,
          },
          data,
        );
        this.counts.encoded++;
        for (const t of targets) t.deliver(message);
      } catch {
        // A picture that cannot be encoded is a lost preview, never a lost frame result.
        this.counts.failed++;
      }
    }
  }
}
