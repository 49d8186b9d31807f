/** Server messages built from analysis results: frames (faces via the one face-record module). */
import type { AnalysedFrame } from '../stream/types.ts';
import { faceJson, r4 } from '../stream/face-record.ts';
import type { FrameMessage } from './protocol.ts';

/** A frame message without `clientDropped`, which differs per client. */
export function frameFields(r: AnalysedFrame): Omit<FrameMessage, 'clientDropped'> {
  return {
    type: 'frame',
    source: r.frame.sourceId,
    frame: r.frame.index,
    pts: r4(r.frame.pts),
    width: r.frame.width,
    height: r.frame.height,
    faces: r.faces.map(faceJson),
    dropped: r.dropped,
    t: r.receivedAt,
    latencyMs: r.analysedAt - r.receivedAt,
  };
}
