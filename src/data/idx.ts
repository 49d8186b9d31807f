/**
 * Reader for the IDX format (MNIST, Fashion-MNIST): a 4-byte magic (0, 0, type, rank), rank
 * big-endian uint32 dimensions, then the data. Gzipped files are detected by their magic bytes.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';

export interface IdxArray {
  dims: number[];
  /** Unsigned bytes (type 0x08), the only type MNIST-style datasets use. */
  data: Uint8Array;
}

export class IdxFormatError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'IdxFormatError';
  }
}

/** Parses IDX bytes (already decompressed); `file` names the source in errors. */
export function parseIdx(bytes: Uint8Array, file = 'IDX data'): IdxArray {
  if (bytes.length < 4)
    throw new IdxFormatError(file, `is ${bytes.length} bytes, too short for an IDX header`);
  const [z0, z1, type, rank] = bytes as unknown as [number, number, number, number];
  if (z0 !== 0 || z1 !== 0) {
    throw new IdxFormatError(
      file,
      `bad magic ${Array.from(bytes.subarray(0, 4))}: expected 0,0,<type>,<rank> (not an IDX file)`,
    );
  }
  if (type !== 0x08)
    throw new IdxFormatError(
      file,
      `data type 0x${type.toString(16)} is not supported (expected 0x08, unsigned byte)`,
    );
  if (rank < 1 || rank > 4) throw new IdxFormatError(file, `rank ${rank} is outside 1..4`);
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes)
    throw new IdxFormatError(file, `truncated header: ${bytes.length} of ${headerBytes} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = dims.reduce((a, b) => a * b, 1);
  const available = bytes.length - headerBytes;
  if (available < size) {
    throw new IdxFormatError(
      file,
      `truncated: dimensions [${dims}] need ${size} data bytes, found ${available}`,
    );
  }
  if (available > size)
    throw new IdxFormatError(file, `${available - size} unexpected bytes after the data`);
  return { dims, data: bytes.subarray(headerBytes) };
}

/** Reads an IDX file, gzipped or raw. */
export async function readIdx(file: string): Promise<IdxArray> {
  let bytes: Uint8Array = await readFile(file);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      throw new IdxFormatError(
        file,
        `gzip stream is corrupt or truncated (${(err as Error).message})`,
      );
    }
  }
  return parseIdx(bytes, file);
}
