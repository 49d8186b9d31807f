/** Option parsers, shared options and environment lookups of the CLI's commands. */
import { Option, type Command } from 'commander';
import { parseBackendName } from '../engine/backend-name.ts';
import { parseSmoothing } from '../stream/smoothing-spec.ts';
import { DEFAULT_DETECT_EVERY } from '../faces/carry-detections.ts';
import { resolveFfmpeg, type FfmpegBinary } from '../video/ffmpeg-binary.ts';

export const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got '${v}'`);
  return n;
};

export const collect = (v: string, all: string[]) => [...all, v];

/** The ffmpeg the CLI uses: FFMPEG_PATH, else ffmpeg on PATH, else the npm static build. */
export function cliFfmpeg(): FfmpegBinary {
  return resolveFfmpeg({
    ...(process.env.FFMPEG_PATH && { path: process.env.FFMPEG_PATH }),
    ...(process.env.PATH && { pathEnv: process.env.PATH }),
  });
}

/** --bundle, --engine, --backend, --threads: the options of every command that runs a model. */
export function withModelOptions(cmd: Command): Command {
  return cmd
    .option('--bundle <dir>', 'model bundle (default: the embedded default model)')
    .addOption(
      new Option('--engine <engine>', 'inference engine').choices(['onnx', 'tfjs']).default('onnx'),
    )
    .addOption(
      new Option('--backend <name>', 'tfjs backend for --engine tfjs')
        .env('CCTFER_BACKEND')
        .default('auto')
        .argParser(parseBackendName),
    )
    .option('--threads <n>', 'ONNX Runtime threads', positiveInt('--threads'), 1);
}

/** --detector and --detect-every: how faces are found, for the commands that decode video. */
export function withDetectorOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--detector <model>', 'face detector')
        .choices(['full-range', 'short-range'])
        .default('full-range'),
    )
    .option(
      '--detect-every <k>',
      'run the detector on every k-th frame; frames between get the faces moved on with their measured speed (1: detect every frame)',
      (v: string) => {
        const n = positiveInt('--detect-every')(v);
        if (n < 1) throw new Error(`--detect-every must be 1 or more, got '${v}'`);
        return n;
      },
      DEFAULT_DETECT_EVERY,
    );
}

/** --smoothing for offline work (annotate, submit): centred windows by default. */
export function offlineSmoothingOption(): Option {
  return new Option(
    '--smoothing <spec>',
    'gaussian:<sigma frames> | box:<radius frames> (centred, offline) | ema:<ms> | window:<ms> | none',
  )
    .argParser(parseSmoothing)
    .default(parseSmoothing('gaussian:3'), 'gaussian:3');
}
