/**
 * The framing of a binary preview message (server → client, protocol 2): a 4-byte big-endian
 * header length, the UTF-8 JSON header (protocol.ts `previewHeaderSchema`), then the JPEG bytes.
 * One message carries picture and frame number together, so a client can draw each frame's boxes
 * over the picture they were found in.
 */
import { previewHeaderSchema, type PreviewHeader } from './protocol.ts';

export function framePreview(header: PreviewHeader, jpeg: Uint8Array): Buffer {
  const head = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.allocUnsafe(4 + head.length + jpeg.length);
  out.writeUInt32BE(head.length, 0);
  head.copy(out, 4);
  out.set(jpeg, 4 + head.length);
  return out;
}

/** Reads a binary preview message; throws a clear error for anything else. */
export function readPreview(bytes: Uint8Array): { header: PreviewHeader; jpeg: Uint8Array } {
  if (bytes.length < 4) throw new Error(`preview message of ${bytes.length} bytes: too short`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getUint32(0);
  if (4 + n > bytes.length)
    throw new Error(`preview header of ${n} bytes does not fit a ${bytes.length}-byte message`);
  const text = new TextDecoder().decode(bytes.subarray(4, 4 + n));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('preview header is not JSON');
  }
  const header = previewHeaderSchema.parse(value);
  return { header, jpeg: bytes.subarray(4 + n) };
}
