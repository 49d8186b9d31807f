/** Decodes a client-pushed camera frame (one JPEG or PNG) to RGBA with sharp. */
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

/** Rejects anything but JPEG/PNG up front, and scales frames down to at most `maxSize` a side. */
export async function decodePushedImage(bytes: Uint8Array, maxSize = 1280): Promise<DecodedImage> {
  if (!imageFormat(bytes))
    throw new ImageError(
      'binary messages must be one JPEG or PNG image (no JPEG/PNG signature found)',
    );
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: 4096 * 4096, failOn: 'error' })
      .resize({ width: maxSize, height: maxSize, fit: 'inside', withoutEnlargement: true })
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    // A fresh, whole buffer: the detection worker takes it by transfer.
    return { width: info.width, height: info.height, data: new Uint8Array(data) };
  } catch (err) {
    throw new ImageError(`the image could not be decoded: ${(err as Error).message}`);
  }
}
