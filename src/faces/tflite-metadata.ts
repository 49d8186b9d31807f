/**
 * Adds TFLite model metadata (input normalisation) to the BlazeFace models of
 * @mediapipe/face_detection, which MediaPipe Tasks refuses without it.
 *
 * A flatbuffer cannot be edited in place, but every offset in it is relative and points forward, so
 * the original file can be kept intact behind a new header: a new root `Model` table that reuses the
 * old vectors and adds one `Buffer` (holding the metadata flatbuffer, identifier "M001") and one
 * `Metadata` entry named TFLITE_METADATA. The header is padded to 16 bytes so the old buffers keep
 * their alignment.
 */
import * as flatbuffers from 'flatbuffers';

const MODEL_FIELDS = 8; // version, operator_codes, subgraphs, description, buffers, metadata_buffer, metadata, signature_defs
const F_BUFFERS = 4;
const F_METADATA = 6;

interface TableView {
  pos: number;
  field(id: number): number | undefined;
}

function table(view: DataView, pos: number): TableView {
  const vt = pos - view.getInt32(pos, true);
  const vtSize = view.getUint16(vt, true);
  return {
    pos,
    field(id) {
      const at = 4 + 2 * id;
      if (at >= vtSize) return undefined;
      const off = view.getUint16(vt + at, true);
      return off ? pos + off : undefined;
    },
  };
}

const deref = (view: DataView, at: number) => at + view.getUint32(at, true);

/** The metadata flatbuffer: one RGB image input normalised as (x − mean) / std. */
export function buildNormalisationMetadata(
  name: string,
  mean: number,
  std: number,
  outputs: string[],
): Uint8Array {
  const b = new flatbuffers.Builder(512);
  const floats = (v: number) => {
    b.startVector(4, 1, 4);
    b.addFloat32(v);
    return b.endVector();
  };
  const meanVec = floats(mean);
  const stdVec = floats(std);
  b.startObject(2); // NormalizationOptions
  b.addFieldOffset(0, meanVec, 0);
  b.addFieldOffset(1, stdVec, 0);
  const norm = b.endObject();
  b.startObject(2); // ProcessUnit { options_type, options }
  b.addFieldInt8(0, 1, 0); // ProcessUnitOptions.NormalizationOptions
  b.addFieldOffset(1, norm, 0);
  const unit = b.endObject();
  b.startVector(4, 1, 4);
  b.addOffset(unit);
  const unitVec = b.endVector();
  b.startObject(2); // ImageProperties { color_space, default_size }
  b.addFieldInt8(0, 1, 0); // ColorSpaceType.RGB
  const image = b.endObject();
  b.startObject(3); // Content { content_properties_type, content_properties, range }
  b.addFieldInt8(0, 2, 0); // ContentProperties.ImageProperties
  b.addFieldOffset(1, image, 0);
  const content = b.endObject();
  const inputName = b.createString('image');
  b.startObject(7); // TensorMetadata
  b.addFieldOffset(0, inputName, 0);
  b.addFieldOffset(3, content, 0);
  b.addFieldOffset(4, unitVec, 0);
  const input = b.endObject();
  const outputTables = outputs.map((o) => {
    const s = b.createString(o);
    b.startObject(7);
    b.addFieldOffset(0, s, 0);
    return b.endObject();
  });
  const vec = (offsets: number[]) => {
    b.startVector(4, offsets.length, 4);
    for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i] as number);
    return b.endVector();
  };
  const inputs = vec([input]);
  const outs = vec(outputTables);
  b.startObject(9); // SubGraphMetadata
  b.addFieldOffset(2, inputs, 0);
  b.addFieldOffset(3, outs, 0);
  const subgraph = b.endObject();
  const subgraphs = vec([subgraph]);
  const modelName = b.createString(name);
  const parser = b.createString('1.0.0');
  b.startObject(8); // ModelMetadata
  b.addFieldOffset(0, modelName, 0);
  b.addFieldOffset(3, subgraphs, 0);
  b.addFieldOffset(7, parser, 0);
  b.finish(b.endObject(), 'M001');
  return b.asUint8Array();
}

/** True when the model already lists a TFLITE_METADATA entry. */
export function hasTfliteMetadata(model: Uint8Array): boolean {
  const view = new DataView(model.buffer, model.byteOffset, model.byteLength);
  const root = table(view, deref(view, 0));
  const md = root.field(F_METADATA);
  if (md === undefined) return false;
  const vecPos = deref(view, md);
  const n = view.getUint32(vecPos, true);
  for (let i = 0; i < n; i++) {
    const entry = table(view, deref(view, vecPos + 4 + 4 * i));
    const namePos = entry.field(0);
    if (namePos === undefined) continue;
    const s = deref(view, namePos);
    const text = new TextDecoder().decode(model.subarray(s + 4, s + 4 + view.getUint32(s, true)));
    if (text === 'TFLITE_METADATA') return true;
  }
  return false;
}

/** Returns a new .tflite with `metadata` attached as TFLITE_METADATA; the original bytes are kept. */
export function attachTfliteMetadata(model: Uint8Array, metadata: Uint8Array): Uint8Array {
  const view = new DataView(model.buffer, model.byteOffset, model.byteLength);
  if (new TextDecoder().decode(model.subarray(4, 8)) !== 'TFL3')
    throw new Error('not a TFLite model (identifier is not TFL3)');
  const root = table(view, deref(view, 0));

  // Old field targets (absolute positions in the old file) and the version scalar.
  const target: (number | undefined)[] = [];
  for (let f = 1; f < MODEL_FIELDS; f++) {
    const at = root.field(f);
    target[f] = at === undefined ? undefined : deref(view, at);
  }
  const versionAt = root.field(0);
  const version = versionAt === undefined ? 0 : view.getUint32(versionAt, true);
  const oldBuffers = target[F_BUFFERS] === undefined ? [] : vectorTargets(view, target[F_BUFFERS]!);
  const oldMetadata =
    target[F_METADATA] === undefined ? [] : vectorTargets(view, target[F_METADATA]!);

  // Lay the header out front to back; sizes first, then write with the final header length.
  let size = 8; // root offset + identifier
  const alloc = (bytes: number, align = 4) => {
    size = Math.ceil(size / align) * align;
    const pos = size;
    size += bytes;
    return pos;
  };
  const modelVt = alloc(4 + 2 * MODEL_FIELDS);
  const modelTable = alloc(4 + 4 * MODEL_FIELDS);
  const buffersVec = alloc(4 + 4 * (oldBuffers.length + 1));
  const metadataVec = alloc(4 + 4 * (oldMetadata.length + 1));
  const bufferVt = alloc(6 + 2); // vtable of 1 field, padded
  const bufferTable = alloc(8);
  const mdVt = alloc(8);
  const mdTable = alloc(12);
  const nameBytes = new TextEncoder().encode('TFLITE_METADATA');
  const nameStr = alloc(4 + nameBytes.length + 1);
  size = Math.ceil((size + 4) / 16) * 16 - 4; // the data vector's bytes start 16-aligned
  const dataVec = alloc(4 + metadata.length);
  const header = Math.ceil(size / 16) * 16;

  const bytes = new Uint8Array(header + model.byteLength);
  const dv = new DataView(bytes.buffer);
  const uoff = (at: number, to: number) => dv.setUint32(at, to - at, true);
  uoff(0, modelTable);
  bytes.set(new TextEncoder().encode('TFL3'), 4);
  // Model vtable + table: every field in a fixed slot of the table.
  dv.setUint16(modelVt, 4 + 2 * MODEL_FIELDS, true);
  dv.setUint16(modelVt + 2, 4 + 4 * MODEL_FIELDS, true);
  dv.setInt32(modelTable, modelTable - modelVt, true);
  const slot = (f: number) => modelTable + 4 + 4 * f;
  const present = (f: number) => dv.setUint16(modelVt + 4 + 2 * f, 4 + 4 * f, true);
  dv.setUint32(slot(0), version, true);
  present(0);
  for (let f = 1; f < MODEL_FIELDS; f++) {
    if (f === F_BUFFERS) {
      uoff(slot(f), buffersVec);
    } else if (f === F_METADATA) {
      uoff(slot(f), metadataVec);
    } else if (target[f] !== undefined) {
      uoff(slot(f), header + target[f]!);
    } else {
      continue;
    }
    present(f);
  }
  // buffers: the old ones, then ours.
  dv.setUint32(buffersVec, oldBuffers.length + 1, true);
  oldBuffers.forEach((t, i) => uoff(buffersVec + 4 + 4 * i, header + t));
  uoff(buffersVec + 4 + 4 * oldBuffers.length, bufferTable);
  // metadata: the old entries, then ours.
  dv.setUint32(metadataVec, oldMetadata.length + 1, true);
  oldMetadata.forEach((t, i) => uoff(metadataVec + 4 + 4 * i, header + t));
  uoff(metadataVec + 4 + 4 * oldMetadata.length, mdTable);
  // Buffer { data }
  dv.setUint16(bufferVt, 6, true);
  dv.setUint16(bufferVt + 2, 8, true);
  dv.setUint16(bufferVt + 4, 4, true);
  dv.setInt32(bufferTable, bufferTable - bufferVt, true);
  uoff(bufferTable + 4, dataVec);
  // Metadata { name, buffer }
  dv.setUint16(mdVt, 8, true);
  dv.setUint16(mdVt + 2, 12, true);
  dv.setUint16(mdVt + 4, 4, true);
  dv.setUint16(mdVt + 6, 8, true);
  dv.setInt32(mdTable, mdTable - mdVt, true);
  uoff(mdTable + 4, nameStr);
  dv.setUint32(mdTable + 8, oldBuffers.length, true);
  dv.setUint32(nameStr, nameBytes.length, true);
  bytes.set(nameBytes, nameStr + 4);
  dv.setUint32(dataVec, metadata.length, true);
  bytes.set(metadata, dataVec + 4);
  bytes.set(model, header);
  return bytes;
}

function vectorTargets(view: DataView, vec: number): number[] {
  const n = view.getUint32(vec, true);
  return Array.from({ length: n }, (_, i) => deref(view, vec + 4 + 4 * i));
}
