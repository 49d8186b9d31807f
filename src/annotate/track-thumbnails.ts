/**
 * The few most confident frames of each face track, kept as small face crops while the video
 * streams by (the frames' pixels are gone once analysed): per track at most `perTrack` crops of
 * size × size RGB, so memory does not grow with video length.
 */
import sharp from 'sharp';
import type { AnalysedFrame } from '../stream/types.ts';
import { TrackKeeper } from './track-keeper.ts';

interface Thumb {
  frame: number;
  pts: number;
  label: string;
  /** Probability of the frame's (raw) label. */
  confidence: number;
  rgb: Uint8Array;
}

export interface Thumbnail {
  frame: number;
  pts: number;
  label: string;
  confidence: number;
  jpeg: Buffer;
}

export class TrackThumbnails {
  private readonly tracks = new Map<number, Thumb[]>();
  /** Bounds the number of tracks held, as the timeline does. */
  private readonly keeper: TrackKeeper;

  constructor(
    readonly perTrack = 3,
    readonly size = 96,
    maxTracks = 12,
  ) {
    this.keeper = new TrackKeeper(maxTracks);
  }

  add(r: AnalysedFrame): void {
    for (const f of r.faces) {
      for (const gone of this.keeper.see(f.id, r.frame.pts)) this.tracks.delete(gone);
      const confidence = Math.max(...f.probs);
      const list = this.tracks.get(f.id) ?? [];
      if (list.length >= this.perTrack && confidence <= (list.at(-1) as Thumb).confidence) continue;
      list.push({
        frame: r.frame.index,
        pts: r.frame.pts,
        label: f.label,
        confidence,
        rgb: this.crop(r.frame, f.box),
      });
      list.sort((a, b) => b.confidence - a.confidence);
      list.length = Math.min(list.length, this.perTrack);
      this.tracks.set(f.id, list);
    }
  }

  /** A square around the box (a little margin), nearest-neighbour sampled: cheap and bounded. */
  private crop(
    frame: AnalysedFrame['frame'],
    box: { x: number; y: number; width: number; height: number },
  ): Uint8Array {
    const n = this.size;
    const side = Math.max(box.width, box.height) * 1.2;
    const x0 = box.x + box.width / 2 - side / 2;
    const y0 = box.y + box.height / 2 - side / 2;
    const out = new Uint8Array(n * n * 3);
    for (let y = 0; y < n; y++) {
      const sy = Math.min(frame.height - 1, Math.max(0, Math.floor(y0 + ((y + 0.5) * side) / n)));
      for (let x = 0; x < n; x++) {
        const sx = Math.min(frame.width - 1, Math.max(0, Math.floor(x0 + ((x + 0.5) * side) / n)));
        const i = (sy * frame.width + sx) * 4;
        const o = (y * n + x) * 3;
        out[o] = frame.data[i] as number;
        out[o + 1] = frame.data[i + 1] as number;
        out[o + 2] = frame.data[i + 2] as number;
      }
    }
    return out;
  }

  /** Per track id, its thumbnails (most confident first) as JPEGs. */
  async jpegs(): Promise<Map<number, Thumbnail[]>> {
    const out = new Map<number, Thumbnail[]>();
    for (const [id, list] of [...this.tracks].sort(([a], [b]) => a - b))
      out.set(
        id,
        await Promise.all(
          list.map(async ({ rgb, ...t }) => ({
            ...t,
            jpeg: await sharp(rgb, { raw: { width: this.size, height: this.size, channels: 3 } })
              .jpeg({ quality: 80 })
              .toBuffer(),
          })),
        ),
      );
    return out;
  }
}
