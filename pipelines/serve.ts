/**
 * `cctfer serve`: the live pipeline (pipelines/live.ts) fed by video sources, behind the WebSocket
 * server. Cores: face detection runs in one worker thread, ONNX inference in ONNX Runtime's own
 * thread pool (`threads`), decoding in one ffmpeg process per source; the main thread only moves
 * messages, tracks, crops and smooths.
 */
import { LivePipeline } from './live.ts';
import { access } from 'node:fs/promises';
import { CctferServer, checkServerOptions, type ServerOptions } from '../src/server/server.ts';
import type { DetectorWorker } from '../src/stream/detector-worker.ts';
import type { InferenceEngine } from '../src/models/analyzer.ts';
import { startServices } from './start-services.ts';
import { decodeFrames } from '../src/video/decode.ts';
import { resolveSource } from '../src/video/source.ts';
import { uniqueSourceNames } from '../src/video/source-names.ts';
import type { FfmpegBinary } from '../src/video/ffmpeg-binary.ts';
import type { DetectorModel } from '../src/faces/detector.ts';
import { DEFAULT_DETECT_EVERY } from '../src/faces/carry-detections.ts';
import type { CausalSmoothing } from '../src/stream/smooth.ts';
import type { SourceInfo } from '../src/server/protocol.ts';

import { DEFAULT_BUNDLE, WEB_ROOT } from '../src/package-paths.ts';

export { DEFAULT_BUNDLE, WEB_ROOT };

export interface ServeOptions extends Pick<
  ServerOptions,
  | 'host'
  | 'port'
  | 'token'
  | 'auth'
  | 'allowedOrigins'
  | 'allowedHosts'
  | 'rate'
  | 'maxMessageBytes'
  | 'maxImageBytes'
  | 'clientQueue'
  | 'heartbeatMs'
  | 'statsIntervalMs'
  | 'log'
> {
  /** Files, URLs, `webcam[:/dev/videoN]`, …; none: clients push their own frames. */
  sources: string[];
  bundle?: string;
  engine?: InferenceEngine;
  /** ONNX Runtime threads (default 1: the other core decodes and detects). */
  threads?: number;
  detector?: DetectorModel;
  /** Detect on every k-th frame of each source (default DEFAULT_DETECT_EVERY). */
  detectEvery?: number;
  /** 'native' (default): files play at their frame rate, like a camera; 'none': as fast as possible, lossless. */
  pace?: 'native' | 'none';
  loop?: boolean;
  /** Analyse at most this many frames a second per source. */
  fps?: number;
  /** Scale frames so the longer side is at most this (default 1280). */
  maxSize?: number;
  smoothing?: CausalSmoothing;
  ffmpeg?: FfmpegBinary;
  /** Serve the web page (default true). */
  web?: boolean;
  /** Start files and URLs at once instead of at their first subscriber (default false). */
  startImmediately?: boolean;
  /** For yt-dlp lookups (the CLI passes PATH). */
  pathEnv?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  server: CctferServer;
  pipeline: LivePipeline;
  close(): Promise<void>;
}

export async function startServe(options: ServeOptions): Promise<RunningServer> {
  // Everything that can be refused is refused before the model and the detector are loaded.
  checkServerOptions(options);
  const resolved = await Promise.all(
    options.sources.map((s) =>
      resolveSource(s, { ...(options.pathEnv !== undefined && { pathEnv: options.pathEnv }) }),
    ),
  );
  for (const [i, src] of resolved.entries())
    if (!src.live && !/^[a-z][\w+.-]*:\/\//i.test(src.input) && src.format !== 'image2')
      await access(src.input).catch(() => {
        throw new Error(`source ${options.sources[i]}: no such file`);
      });
  const bundle = options.bundle ?? DEFAULT_BUNDLE;
  const services = await startServices({
    bundle,
    ...(options.engine && { engine: options.engine }),
    ...(options.threads && { threads: options.threads }),
    ...(options.detector && { detector: options.detector }),
  });
  const analyzer = services.analyzer;
  const detector = services.worker as DetectorWorker;
  const pipeline = new LivePipeline({
    classifier: analyzer,
    detector,
    detectEvery: options.detectEvery ?? DEFAULT_DETECT_EVERY,
    ...(options.smoothing && { smoothing: options.smoothing }),
  });
  const ids = uniqueSourceNames(options.sources);
  const infos: SourceInfo[] = [];
  let onSubscribe: (source: string) => void = () => {};
  const pace = options.pace ?? 'native';
  resolved.forEach((src, i) =>
    infos.push({
      id: ids[i] as string,
      kind: src.live ? 'webcam' : /^https?:/i.test(src.input) ? 'url' : 'file',
      live: src.live || (!src.live && pace === 'native'),
    }),
  );
  const server = new CctferServer({
    ...options,
    pipeline,
    model: {
      name: analyzer.manifest.name,
      members: analyzer.manifest.members.length,
      engine: analyzer.engine,
    },
    sources: infos,
    onSubscribe: (s) => onSubscribe(s),
    ...(options.web !== false && { webRoot: WEB_ROOT }),
  });
  let listening: { url: string; port: number };
  try {
    listening = await server.listen();
  } catch (err) {
    // Nothing may keep the process alive after a failed start (the detector worker would).
    await server.close().catch(() => {});
    await detector.close();
    await analyzer.dispose();
    throw err;
  }
  const { url, port } = listening;
  const pending = new Map<string, () => void>();
  const start = (id: string) => {
    const go = pending.get(id);
    pending.delete(id);
    go?.();
  };
  resolved.forEach((src, i) => {
    const id = ids[i] as string;
    const realtime = !src.live && pace === 'native';
    const begin = () => {
      const frames = decodeFrames(src.input, {
        sourceId: id,
        maxSize: options.maxSize ?? 1280,
        realtime,
        loop: !src.live && (options.loop ?? false),
        ...(src.format && { format: src.format }),
        ...(options.fps && { fps: options.fps }),
        ...(options.ffmpeg && { ffmpeg: options.ffmpeg }),
      });
      pipeline.addSource(id, frames, { policy: src.live || realtime ? 'drop-oldest' : 'pull' });
    };
    // Cameras run from the start; files and URLs start when someone first subscribes to them.
    if (src.live || options.startImmediately) begin();
    else pending.set(id, begin);
  });
  onSubscribe = (s) => (s === '*' ? [...pending.keys()].forEach(start) : start(s));
  return {
    url,
    port,
    server,
    pipeline,
    async close() {
      await server.close();
      await pipeline.stop();
      await detector.close();
      await analyzer.dispose();
    },
  };
}
