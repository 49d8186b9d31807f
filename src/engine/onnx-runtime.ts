/**
 * The one module that imports onnxruntime-node. Sessions run on the CPU by default; CUDA and
 * TensorRT execution providers are used when the user installed them (see the README).
 */
import * as ort from 'onnxruntime-node';
import { verbose } from '../util/debug-log.ts';

export type OnnxDevice = 'cpu' | 'cuda' | 'tensorrt';

export interface OnnxSessionOptions {
  /** Intra-op threads (default: 1 — the live pipeline runs one session per worker). */
  threads?: number;
  /** Execution provider (default 'cpu'). */
  device?: OnnxDevice;
}

export interface FloatTensor {
  data: Float32Array;
  dims: number[];
}

const PROVIDERS: Readonly<Record<OnnxDevice, readonly string[]>> = Object.freeze({
  cpu: ['cpu'],
  cuda: ['cuda', 'cpu'],
  tensorrt: ['tensorrt', 'cuda', 'cpu'],
});

export class OnnxModel {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly device: OnnxDevice,
  ) {}

  /** Loads a model from bytes or a file path; errors name the source. */
  static async create(
    model: Uint8Array | string,
    options: OnnxSessionOptions = {},
  ): Promise<OnnxModel> {
    const device = options.device ?? 'cpu';
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: [...PROVIDERS[device]],
      intraOpNumThreads: options.threads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      // ONNX Runtime's own warnings go to stderr natively; only with --verbose / DEBUG=cctfer.
      logSeverityLevel: verbose() ? 1 : 3,
    };
    try {
      const session =
        typeof model === 'string'
          ? await ort.InferenceSession.create(model, sessionOptions)
          : await ort.InferenceSession.create(model, sessionOptions);
      return new OnnxModel(session, device);
    } catch (err) {
      const source = typeof model === 'string' ? model : `${model.byteLength}-byte model`;
      throw new Error(
        `cannot load ONNX model ${source} on ${device}: ${(err as Error).message.split('\n')[0]}`,
      );
    }
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** Runs the model; every declared input must be given (the error names the missing ones). */
  async run(feeds: Record<string, FloatTensor>): Promise<Record<string, FloatTensor>> {
    const missing = this.session.inputNames.filter((n) => !(n in feeds));
    if (missing.length)
      throw new Error(
        `missing model input(s): ${missing.join(', ')} (expected ${this.session.inputNames.join(', ')})`,
      );
    const unknown = Object.keys(feeds).filter((n) => !this.session.inputNames.includes(n));
    if (unknown.length)
      throw new Error(
        `unknown model input(s): ${unknown.join(', ')} (expected ${this.session.inputNames.join(', ')})`,
      );
    const tensors = Object.fromEntries(
      Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor('float32', v.data, v.dims)]),
    );
    const out = await this.session.run(tensors);
    return Object.fromEntries(
      Object.entries(out).map(([k, t]) => [k, { data: t.data as Float32Array, dims: [...t.dims] }]),
    );
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
