/** cctfer's public library API. */
export {
  initBackend,
  currentBackend,
  parseBackendName,
  BACKENDS,
  BackendUnavailableError,
} from './engine/backend.ts';
export type { BackendName, BackendRequest, BackendOptions, BackendInfo } from './engine/backend.ts';
export { tf } from './engine/tf.ts';

export { cctLoss } from './cct/loss.ts';
export type { CctLossOptions, CctLossResult } from './cct/loss.ts';
export { rampLambda } from './cct/ramp.ts';
export type { RampOptions } from './cct/ramp.ts';
export { ensemblePredict } from './cct/ensemble.ts';
export type { EnsembleOutput } from './cct/ensemble.ts';
export { CctTrainer } from './cct/trainer.ts';
export type {
  EpochLog,
  StepLog,
  EvaluationReport,
  EpochOptions,
  TrainerState,
} from './cct/trainer.ts';
export { parseTrainerConfig, trainerConfigSchema } from './cct/config.ts';
export type { TrainerConfig, TrainerConfigInput } from './cct/config.ts';
export { GroupAdam } from './cct/adam.ts';
export { saveCheckpoint, loadCheckpoint, CheckpointError } from './cct/checkpoint.ts';
export type { CheckpointManifest } from './cct/checkpoint.ts';

export { createModel, listArchs, getArch, registerArch } from './models/registry.ts';
export type { ArchSpec, CreateModelOptions } from './models/registry.ts';
export type { Network, Param, ParamGroup, ArchConfig } from './models/network.ts';

export { inMemoryData } from './data/dataset.ts';
export type { TrainingData } from './data/dataset.ts';
export {
  augmentBatch,
  flipSome,
  colorJitter,
  affine,
  erase,
  DEFAULT_AUGMENT,
} from './data/augment.ts';
export type { AugmentConfig } from './data/augment.ts';
export { shuffledOrder, balancedOrder } from './data/sampler.ts';

export {
  accuracy,
  macroF1,
  perClassF1,
  confusionMatrix,
  abaw2021Score,
  classificationReport,
} from './metrics/classification.ts';
export type { ClassificationReport, F1Options } from './metrics/classification.ts';

export { Rng } from './util/rng.ts';

export { AFFWILD2_CLASSES, AFFWILD2_CLASSES_WITH_OTHER } from './data/classes.ts';
export { ExpressionAnalyzer } from './models/analyzer.ts';
export { OnnxEnsemble } from './models/onnx-ensemble.ts';
export { analyzeImage } from './analysis/analyze-image.ts';
export { createAnalyzer } from './analysis/create-analyzer.ts';
export type { Analyzer, AnalyzerInput, CreateAnalyzerOptions } from './analysis/create-analyzer.ts';
export type { ImageFace } from './analysis/analyze-image.ts';
export type {
  AnalyzerOptions,
  CropBatch,
  CropPrediction,
  InferenceEngine,
} from './models/analyzer.ts';
export {
  writeBundle,
  readBundleManifest,
  loadBundleMembers,
  BundleError,
  bundleManifestSchema,
} from './models/bundle.ts';
export type { BundleManifest, Preprocessing, WriteBundleOptions } from './models/bundle.ts';
export { exportEnsembleOnnx } from './models/ensemble-export.ts';
export { verifyEnsembleExport } from './models/ensemble-verify.ts';
export { OnnxModel } from './engine/onnx-runtime.ts';
export type { OnnxDevice, OnnxSessionOptions, FloatTensor } from './engine/onnx-runtime.ts';

export { FaceDetector, KEYPOINTS } from './faces/detector.ts';
export type {
  FaceDetection,
  FaceDetectorOptions,
  RgbaImage,
  DetectorModel,
  RunningMode,
} from './faces/detector.ts';
export {
  alignedCrops,
  alignmentTransform,
  fitSimilarity,
  template as alignmentTemplate,
} from './faces/align.ts';
export { squareBoxCrops } from './faces/box-crop.ts';
export { warpRgba } from './faces/warp.ts';
export type { RgbaFrame, InverseAffine } from './faces/warp.ts';
export { decodeFrames, DecodeError } from './video/decode.ts';
export type { Frame, DecodeOptions } from './video/decode.ts';
export { probeVideo, countFrames, VideoInputError } from './video/probe.ts';
export type { VideoInfo } from './video/probe.ts';
export { resolveFfmpeg } from './video/ffmpeg-binary.ts';
export { FaceTracker, leftToRight, iou } from './faces/tracker.ts';
export type { TrackedFace, TrackerOptions } from './faces/tracker.ts';
export { resolveSource } from './video/source.ts';
export type { VideoSource, ResolveOptions } from './video/source.ts';
export { frameSource } from './stream/frame-source.ts';
export type { FrameSource, FrameSourceOptions, SourcePolicy } from './stream/frame-source.ts';
export { LandmarkRefiner } from './faces/landmarks.ts';

// The realtime pipeline, its stages and the server.
export { LivePipeline } from '../pipelines/live.ts';
export type { PipelineEvent, LivePipelineOptions, AddSourceOptions } from '../pipelines/live.ts';
export { startServe } from '../pipelines/serve.ts';
export type { ServeOptions, RunningServer } from '../pipelines/serve.ts';
export {
  detectFaces,
  trackFaces,
  cropFaces,
  classifyFaces,
  BatchingClassifier,
} from './stream/operators.ts';
export { analyseSource } from './stream/analyse-source.ts';
export type { SourceAnalysis } from './stream/analyse-source.ts';
export type { BatchOptions, CropClassifier, FrameDetector } from './stream/operators.ts';
export { smoothFaces, TrackSmoother, parseCausalSmoothing } from './stream/smooth.ts';
export type { CausalSmoothing } from './stream/smooth.ts';
export { smoothCentred } from './stream/smooth-offline.ts';
export type { CentredSmoothing } from './stream/smooth-offline.ts';
export { DetectorWorker } from './stream/detector-worker.ts';
export type { AnalysedFrame, AnalysedFace } from './stream/types.ts';
export { CctferServer } from './server/server.ts';
export type { ServerOptions } from './server/server.ts';
export { PROTOCOL_VERSION, serverMessageSchema, clientMessageSchema } from './server/protocol.ts';
export type { ServerMessage, ClientMessage } from './server/protocol.ts';

// Offline annotation, submissions, training, evaluation.
export { annotateVideos, VideoAnalyser } from '../pipelines/annotate.ts';
export type { AnnotateOptions, AnnotateResult } from '../pipelines/annotate.ts';
export { submit, checkSubmission } from '../pipelines/submit.ts';
export { trainRun, ingestRun } from '../pipelines/train.ts';
export { evaluateBundle } from '../pipelines/eval.ts';
export { readTrainConfig, trainRunSchema } from './train/config.ts';
export { parseAffWild2Annotation, readAffWild2Set } from './data/readers/affwild2.ts';
export { readRafDb, readAffectNet, readFer2013 } from './data/readers/image-datasets.ts';
export { LABEL_MAPS, mapLabel, DatasetError } from './data/readers/label-map.ts';
export { loadPretrained, readPretrained, readSafetensors } from './models/pretrained.ts';
