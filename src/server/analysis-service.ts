/**
 * What the server needs from the analysis behind it, declared here so the server depends on this
 * small interface and not on pipelines/ (LivePipeline implements it).
 */
import type { Observable } from 'rxjs';
import type { AnalysedFrame } from '../stream/types.ts';
import type { SourceStats } from '../stream/stats.ts';
import type { Channel } from '../stream/channel.ts';
import type { Frame } from '../video/decode.ts';

export type AnalysisEvent =
  | { type: 'frame'; result: AnalysedFrame }
  | {
      type: 'end';
      source: string;
      frames: number;
      dropped: number;
      reason: 'eof' | 'error' | 'closed';
    }
  | { type: 'error'; source: string; message: string };

export interface AnalysisService {
  /** Frame results in order per source; `end` after a source's last result. Never errors. */
  readonly events$: Observable<AnalysisEvent>;
  readonly classes: readonly string[];
  stats(): SourceStats[];
  /** A source fed by a client's pushed frames (latest wins). */
  addPushSource(id: string): Channel<Frame>;
  closeSource(id: string): void;
  /** Forgets an ended source so its id can be used again. */
  forget(id: string): void;
}
