/**
 * Face detection with MediaPipe's BlazeFace (tasks-vision FaceDetector, CPU delegate) in Node.
 * Models come from @mediapipe/face_detection, patched with the TFLite metadata tasks-vision needs.
 * Shaped like MediaPipe Tasks: an async factory, options with documented defaults, one method per
 * running mode, results as plain data, an idempotent close().
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  installMediaPipeShim,
  MEDIAPIPE_LOG,
  nodeCanvas,
  NodeImageData,
  primeModuleFactory,
} from './mediapipe-node.ts';
import {
  attachTfliteMetadata,
  buildNormalisationMetadata,
  hasTfliteMetadata,
} from './tflite-metadata.ts';

export type DetectorModel = 'short-range' | 'full-range';
export type RunningMode = 'IMAGE' | 'VIDEO';

export interface FaceDetectorOptions {
  /** 'full-range' (default: finds small and far faces, ~12 ms/frame at 640×480) or 'short-range' (~4 ms, faces within ~2 m). */
  model?: DetectorModel;
  /** Minimum detection score (default 0.5). */
  minConfidence?: number;
  /** Non-maximum-suppression IoU threshold (default 0.3). */
  minSuppressionThreshold?: number;
  /** 'IMAGE' (default) for independent images, 'VIDEO' for frames with increasing timestamps. */
  runningMode?: RunningMode;
}

/** Keypoints in MediaPipe's order, in pixels. */
export const KEYPOINTS = [
  'rightEye',
  'leftEye',
  'noseTip',
  'mouthCenter',
  'rightEar',
  'leftEar',
] as const;

export interface FaceDetection {
  /** Pixels, top-left origin. */
  box: { x: number; y: number; width: number; height: number };
  score: number;
  /** [x, y] in pixels for each of KEYPOINTS. */
  keypoints: [number, number][];
}

export interface RgbaImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

interface TasksDetector {
  detect(image: unknown): TasksResult;
  detectForVideo(image: unknown, timestampMs: number): TasksResult;
  close(): void;
}
interface TasksResult {
  detections: {
    boundingBox?: { originX: number; originY: number; width: number; height: number };
    categories: { score: number }[];
    keypoints: { x: number; y: number }[];
  }[];
}

const modelBytes = new Map<DetectorModel, Promise<Uint8Array>>();

/** The BlazeFace model with normalisation metadata (mean 127.5, std 127.5) attached. */
export function loadDetectorModel(model: DetectorModel): Promise<Uint8Array> {
  let bytes = modelBytes.get(model);
  if (!bytes) {
    bytes = (async () => {
      const dir = dirname(
        createRequire(import.meta.url).resolve('@mediapipe/face_detection/package.json'),
      );
      const raw = new Uint8Array(
        await readFile(join(dir, `face_detection_${model.replace('-', '_')}.tflite`)),
      );
      if (hasTfliteMetadata(raw)) return raw;
      return attachTfliteMetadata(
        raw,
        buildNormalisationMetadata(`face_detection_${model}`, 127.5, 127.5, [
          'regressors',
          'classificators',
        ]),
      );
    })();
    modelBytes.set(model, bytes);
  }
  return bytes;
}

/** Runs `fn` with MediaPipe's console chatter filtered out; other output passes through. */
function quietly<T>(fn: () => T): T {
  const methods = ['log', 'info', 'warn', 'error'] as const;
  const saved = methods.map((m) => console[m]);
  methods.forEach((m, i) => {
    console[m] = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && MEDIAPIPE_LOG.test(args[0])) return;
      (saved[i] as (...a: unknown[]) => void)(...args);
    };
  });
  const restore = () => methods.forEach((m, i) => (console[m] = saved[i] as never));
  try {
    const out = fn();
    if (out instanceof Promise) return out.finally(restore) as T;
    restore();
    return out;
  } catch (err) {
    restore();
    throw err;
  }
}

export class FaceDetector {
  private closed = false;
  private lastTimestamp = -Infinity;

  private constructor(
    private readonly task: TasksDetector,
    readonly options: Required<FaceDetectorOptions>,
  ) {}

  static async create(options: FaceDetectorOptions = {}): Promise<FaceDetector> {
    const full: Required<FaceDetectorOptions> = {
      model: options.model ?? 'full-range',
      minConfidence: options.minConfidence ?? 0.5,
      minSuppressionThreshold: options.minSuppressionThreshold ?? 0.3,
      runningMode: options.runningMode ?? 'IMAGE',
    };
    const wasmDir = await installMediaPipeShim();
    const vision = await import('@mediapipe/tasks-vision');
    const fileset = await vision.FilesetResolver.forVisionTasks(wasmDir, true);
    const modelAssetBuffer = await loadDetectorModel(full.model);
    primeModuleFactory();
    const task = (await quietly(() =>
      vision.FaceDetector.createFromOptions(fileset, {
        baseOptions: { modelAssetBuffer, delegate: 'CPU' },
        runningMode: full.runningMode,
        minDetectionConfidence: full.minConfidence,
        minSuppressionThreshold: full.minSuppressionThreshold,
        canvas: nodeCanvas() as never,
      }),
    )) as unknown as TasksDetector;
    return new FaceDetector(task, full);
  }

  private toResult(r: TasksResult, width: number, height: number): FaceDetection[] {
    return r.detections.map((d) => ({
      box: {
        x: d.boundingBox?.originX ?? 0,
        y: d.boundingBox?.originY ?? 0,
        width: d.boundingBox?.width ?? 0,
        height: d.boundingBox?.height ?? 0,
      },
      score: d.categories[0]?.score ?? 0,
      keypoints: d.keypoints.map((k) => [k.x * width, k.y * height] as [number, number]),
    }));
  }

  private check(mode: RunningMode, method: string): void {
    if (this.closed) throw new Error('FaceDetector is closed');
    if (this.options.runningMode !== mode) {
      throw new Error(
        `${method}() needs runningMode '${mode}'; this detector was created with '${this.options.runningMode}'`,
      );
    }
  }

  private image(img: RgbaImage): NodeImageData {
    if (img.data.length !== img.width * img.height * 4) {
      throw new RangeError(
        `image data holds ${img.data.length} bytes; ${img.width}×${img.height} RGBA needs ${img.width * img.height * 4}`,
      );
    }
    const data =
      img.data instanceof Uint8ClampedArray
        ? img.data
        : new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.byteLength);
    return new NodeImageData(data, img.width, img.height);
  }

  /** Detects faces in one image (runningMode 'IMAGE'). */
  detect(img: RgbaImage): FaceDetection[] {
    this.check('IMAGE', 'detect');
    const image = this.image(img);
    return this.toResult(
      quietly(() => this.task.detect(image)),
      img.width,
      img.height,
    );
  }

  /** Detects faces in a video frame (runningMode 'VIDEO'); timestamps must increase. */
  detectForVideo(img: RgbaImage, timestampMs: number): FaceDetection[] {
    this.check('VIDEO', 'detectForVideo');
    if (!(timestampMs > this.lastTimestamp)) {
      throw new RangeError(
        `timestamps must increase: got ${timestampMs} ms after ${this.lastTimestamp} ms`,
      );
    }
    this.lastTimestamp = timestampMs;
    return this.toResult(
      this.task.detectForVideo(this.image(img), timestampMs),
      img.width,
      img.height,
    );
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.task.close();
  }
}
