/** What an architecture provides: its own module depends on this, not on the registry that lists it. */
import type { OnnxGraphBuilder } from '../engine/onnx-graph.ts';
import type { Rng } from '../util/rng.ts';
import type { ArchConfig, Network } from './network.ts';

/** An architecture: its default configuration as data, and a builder. */
export interface ArchSpec {
  name: string;
  description: string;
  defaults: Readonly<ArchConfig>;
  /** `tag` makes tfjs variable names unique per member. */
  build(config: ArchConfig, rng: Rng, tag: string): Network;
  /** Emits the network into an ONNX graph: `x` is the normalised NCHW input; returns the logits' name. */
  exportOnnx(g: OnnxGraphBuilder, net: Network, x: string): string;
}
