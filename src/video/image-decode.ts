/** Decodes one JPEG or PNG (a still image, or a client-pushed camera frame) to RGBA with sharp. */
import sharp from 'sharp';

export interface DecodedImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export class ImageError extends Error {}

export function imageFormat(bytes: Uint8Array): 'jpeg' | 'png' | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47)
    return 'png';
  return undefined;
}

/**
 * Rejects anything but JPEG/PNG up front; with `maxSize`, scales the image down to at most that a
 * side (pushed frames: 1280), else keeps its size (box coordinates stay the image's own).
 */
export async function decodeImage(
  bytes: Uint8Array,
  o: { maxSize?: number; maxPixels?: number } = {},
): Promise<DecodedImage> {
  const { maxSize, maxPixels = 8192 * 8192 } = o;
  if (!imageFormat(bytes))
    throw new ImageError('expected one JPEG or PNG image (no JPEG/PNG signature found)');
  try {
    let image = sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error' });
    if (maxSize)
      image = image.resize({
        width: maxSize,
        height: maxSize,
        fit: 'inside',
        withoutEnlargement: true,
      });
    const { data, info } = await image.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    // A fresh, whole buffer: the detection worker takes it by transfer.
    return { width: info.width, height: info.height, data: new Uint8Array(data) };
  } catch (err) {
    throw new ImageError(`the image could not be decoded: ${(err as Error).message}`);
  }
}

/** A client-pushed camera frame: at most 1280 px a side. */
export function decodePushedImage(bytes: Uint8Array): Promise<DecodedImage> {
  return decodeImage(bytes, { maxSize: 1280, maxPixels: 4096 * 4096 });
}
