/**
 * `cctfer eval`: a bundle scored on an Aff-Wild2 annotation set — the ABAW 2021 score
 * (0.67·F1 + 0.33·Acc), macro F1, accuracy, per-class F1 and confusion, per member and for the
 * ensemble — with a sweep over offline smoothing windows (which window helps, measured). Videos are
 * analysed once (VideoAnalyser: the serving stages run losslessly), unsmoothed; each smoothing
 * option is applied to those same predictions. Frames where the entry's face was not found take the
 * nearest frame's prediction, as in submissions; `-1` frames are not scored.
 */
import { VideoAnalyser, parseSmoothing } from './annotate.ts';
import { DEFAULT_SWEEP } from '../src/stream/smoothing-spec.ts';
import { readAffWild2Set } from '../src/data/readers/affwild2.ts';
import { findVideo } from '../src/video/find-video.ts';
import { decodeFrames } from '../src/video/decode.ts';
import { smoothOffline, type VideoAnalysis } from '../src/annotate/records.ts';
import { entryLabels, parseEntry } from '../src/annotate/submission.ts';
import { classificationReport, type ClassificationReport } from '../src/metrics/classification.ts';
import type { FfmpegBinary } from '../src/video/ffmpeg-binary.ts';
import type { InferenceEngine } from '../src/models/analyzer.ts';

export { DEFAULT_SWEEP };

export interface EvalOptions {
  bundle: string;
  videosDir: string;
  annotations: string;
  sweep?: string[];
  engine?: InferenceEngine;
  ffmpeg?: FfmpegBinary;
  onEntry?: (entry: string, frames: number) => void;
}

export interface EvalReport {
  entries: number;
  scoredFrames: number;
  /** Per smoothing option: the ensemble's report. */
  ensemble: { smoothing: string; report: ClassificationReport }[];
  /** Each member, unsmoothed. */
  members: ClassificationReport[];
  skipped: { entry: string; reason: string }[];
}

export async function evaluateBundle(o: EvalOptions): Promise<EvalReport> {
  const sweep = o.sweep ?? DEFAULT_SWEEP;
  const choices = sweep.map((s) => ({ spec: s, choice: parseSmoothing(s) }));
  const annotations = await readAffWild2Set(o.annotations);
  const analyser = await VideoAnalyser.create({
    bundle: o.bundle,
    engine: o.engine ?? 'onnx',
    smoothing: parseSmoothing('none'),
    // Scored frame by frame against the annotations: every frame detected.
    detectEvery: 1,
  });
  const truth: number[] = [];
  const preds = choices.map(() => [] as number[]);
  let memberPreds: number[][] = [];
  const skipped: EvalReport['skipped'] = [];
  let cached: { file: string; video: VideoAnalysis } | undefined;
  try {
    for (const a of annotations) {
      const entry = parseEntry(a.entry);
      let file: string;
      try {
        file = await findVideo(o.videosDir, entry);
      } catch (err) {
        skipped.push({ entry: a.entry, reason: (err as Error).message });
        continue;
      }
      if (cached?.file !== file) {
        const video = await analyser.analyse(
          a.video,
          file,
          decodeFrames(file, { sourceId: a.video, ...(o.ffmpeg && { ffmpeg: o.ffmpeg }) }),
        );
        cached = { file, video };
      }
      const video = cached.video;
      if (Math.abs(video.frames.length - a.labels.length) > 1) {
        skipped.push({
          entry: a.entry,
          reason: `${a.labels.length} label lines but ${video.frames.length} decoded frames`,
        });
        continue;
      }
      const n = Math.min(video.frames.length, a.labels.length);
      const scored = Array.from({ length: n }, (_, i) => i).filter(
        (i) => (a.labels[i] as number) >= 0,
      );
      for (const i of scored) truth.push(a.labels[i] as number);
      choices.forEach(({ choice }, k) => {
        const v = choice.offline ? smoothOffline(video, choice.offline) : video;
        const { labels } = entryLabels(v, entry);
        for (const i of scored) preds[k]!.push(labels[i] as number);
      });
      // Members, unsmoothed: the entry's face per frame, nearest-filled like the ensemble.
      const members = video.frames[0]?.faces[0]?.memberProbs?.length ?? 0;
      if (memberPreds.length === 0) memberPreds = Array.from({ length: members }, () => []);
      for (let j = 0; j < members; j++) {
        const asMember: VideoAnalysis = {
          ...video,
          frames: video.frames.map((f) => ({
            ...f,
            faces: f.faces.map((face) => ({
              ...face,
              smoothed: face.memberProbs?.[j] ?? face.probs,
            })),
          })),
        };
        const { labels } = entryLabels(asMember, entry);
        for (const i of scored) memberPreds[j]!.push(labels[i] as number);
      }
      o.onEntry?.(a.entry, scored.length);
    }
  } finally {
    await analyser.close();
  }
  if (truth.length === 0) throw new Error(`${o.annotations}: no annotated frame could be scored`);
  const k = 7;
  return {
    entries: annotations.length - skipped.length,
    scoredFrames: truth.length,
    ensemble: choices.map(({ spec }, i) => ({
      smoothing: spec,
      report: classificationReport(truth, preds[i]!, k),
    })),
    members: memberPreds.map((p) => classificationReport(truth, p, k)),
    skipped,
  };
}
