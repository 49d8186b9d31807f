/**
 * Model bundles: one directory with `manifest.json`, one weights file per member and `ensemble.onnx`.
 * The manifest mirrors timm's pretrained configs: architecture, classes, each member's own
 * preprocessing, provenance and licence. Everything is validated at load (errors name the field or
 * file) and written atomically (temporary directory + rename).
 */
import { writeDirAtomic } from '../util/atomic.ts';
import { tf } from '../engine/tf.ts';
import { exportEnsembleOnnx, type EnsembleMember } from './ensemble-export.ts';
import { verifyEnsembleExport, type ExportCheck } from './ensemble-verify.ts';
import type { Network } from './network.ts';
import { cropInputs } from './crop-modes.ts';
import { createModel, listArchs } from './registry.ts';
import {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  BundleError,
  bundleManifestSchema,
  MANIFEST,
  ONNX_FILE,
  digest,
  readChecked,
  type BundleManifest,
} from './bundle-manifest.ts';

export * from './bundle-manifest.ts';

export interface WriteBundleOptions {
  name: string;
  description?: string;
  classes: readonly string[];
  provenance: Omit<BundleManifest['provenance'], 'createdAt'>;
  metrics?: Record<string, number>;
}

/** Writes members + verified ONNX export + manifest to `dir`, atomically. */
export async function writeBundle(
  dir: string,
  members: EnsembleMember[],
  options: WriteBundleOptions,
): Promise<BundleManifest> {
  if (members.length === 0) throw new Error('a bundle needs at least one member');
  const onnxBytes = exportEnsembleOnnx(members);
  const check: ExportCheck = await verifyEnsembleExport(members, onnxBytes);
  const files = new Map<string, Uint8Array>([[ONNX_FILE, onnxBytes]]);
  const memberEntries = members.map(({ net, pre }, j) => {
    const tensors: { name: string; shape: number[]; offset: number }[] = [];
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (const p of net.params) {
      const values = Float32Array.from(p.variable.dataSync() as Float32Array);
      tensors.push({ name: p.name, shape: p.variable.shape, offset });
      chunks.push(new Uint8Array(values.buffer));
      offset += values.byteLength;
    }
    const bytes = Buffer.concat(chunks);
    const file = `member${j}.bin`;
    files.set(file, bytes);
    return {
      arch: net.arch,
      config: { ...net.config },
      weights: { file, sha256: digest(bytes), tensors },
      preprocessing: { ...pre },
    };
  });
  const manifest = bundleManifestSchema.parse({
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    name: options.name,
    description: options.description ?? '',
    classes: [...options.classes],
    members: memberEntries,
    onnx: {
      file: ONNX_FILE,
      sha256: digest(onnxBytes),
      inputs: cropInputs(members.map((m) => m.pre)),
      verified: { logitsRelError: check.logitsRelError, samples: check.samples },
    },
    provenance: { ...options.provenance, createdAt: new Date().toISOString() },
    ...(options.metrics && { metrics: options.metrics }),
  });
  files.set(MANIFEST, new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`));
  await writeDirAtomic(dir, files);
  return manifest;
}

/** Builds the member networks (tfjs) from their weight files; nothing is half-loaded on error. */
export async function loadBundleMembers(
  dir: string,
  manifest: BundleManifest,
): Promise<EnsembleMember[]> {
  for (const [j, m] of manifest.members.entries()) {
    if (!listArchs().includes(m.arch)) {
      throw new BundleError(
        dir,
        `member ${j} has unknown architecture '${m.arch}' (known: ${listArchs().join(', ')})`,
      );
    }
  }
  const buffers = await Promise.all(
    manifest.members.map((m) => readChecked(dir, m.weights.file, m.weights.sha256)),
  );
  const nets: Network[] = [];
  try {
    manifest.members.forEach((m, j) => {
      const net = createModel(m.arch, { ...m.config });
      nets.push(net);
      const bytes = buffers[j] as Buffer;
      const byName = new Map(m.weights.tensors.map((t) => [t.name, t]));
      const values = net.params.map((p) => {
        const t = byName.get(p.name);
        if (!t) throw new BundleError(dir, `member ${j} weights lack tensor '${p.name}'`);
        if (t.shape.join(',') !== p.variable.shape.join(',')) {
          throw new BundleError(
            dir,
            `member ${j} tensor '${p.name}' has shape [${t.shape}], ${m.arch} needs [${p.variable.shape}]`,
          );
        }
        const end = t.offset + p.variable.size * 4;
        if (end > bytes.byteLength)
          throw new BundleError(
            dir,
            `member ${j} tensor '${p.name}' lies outside ${m.weights.file}`,
          );
        return new Float32Array(
          bytes.buffer.slice(bytes.byteOffset + t.offset, bytes.byteOffset + end),
        );
      });
      net.params.forEach((p, i) =>
        p.variable.assign(tf.tensor(values[i] as Float32Array, p.variable.shape)),
      );
    });
    return nets.map((net, j) => ({ net, pre: manifest.members[j]!.preprocessing }));
  } catch (err) {
    for (const n of nets) n.dispose();
    throw err;
  }
}
