/** Finds the video file of an Aff-Wild2 entry: `X_left` / `X_right` → `X.<ext>` (or `X_left.<ext>` if that exists). */
import { readdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';

export const VIDEO_EXTENSIONS = /\.(mp4|m4v|mov|mkv|webm|avi|mpg|mpeg|ts|flv|wmv)$/i;

export async function findVideo(
  videosDir: string,
  entry: { name: string; video: string },
): Promise<string> {
  const files = await readdir(videosDir).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`${videosDir}: cannot read the videos folder (${err.code ?? err.message})`);
  });
  for (const stem of [entry.name, entry.video]) {
    const hit = files.find((f) => VIDEO_EXTENSIONS.test(f) && basename(f, extname(f)) === stem);
    if (hit) return join(videosDir, hit);
  }
  throw new Error(`${entry.name}: no video named ${entry.video}.<ext> in ${videosDir}`);
}
