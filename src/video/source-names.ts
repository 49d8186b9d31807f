/**
 * Names for inputs: short source ids (serve, records) — a file's name without its extension, a
 * URL's host and file name, `webcam` for cameras, repeated names `-2`, `-3`, … — and the
 * collision-free output keys of annotate (the name plus a hash of the full input).
 */
import { createHash } from 'node:crypto';
import { basename, extname, resolve } from 'node:path';

export function sourceName(spec: string): string {
  let name: string;
  if (spec.startsWith('webcam')) name = 'webcam';
  else if (/^[a-z]+:\/\//i.test(spec)) {
    const url = new URL(spec);
    const file = basename(url.pathname, extname(url.pathname));
    name = file ? `${url.hostname}-${file}` : url.hostname;
  } else name = basename(spec, extname(spec));
  // Letters and digits of any script stay (ünïcødé_表情); separators and the like become '_'.
  return name.replace(/[^\p{L}\p{N}\p{M}_.-]+/gu, '_').replace(/^\.+/, '_') || 'video';
}

/**
 * The output folder name of an input: its name and 8 hex digits of the SHA-256 of the absolute
 * path (or the URL), so that day1/clip.mp4 and day2/clip.mp4 never share a folder, and the same
 * input always finds its own. One function for every command that writes per-video outputs.
 */
export function outputKey(spec: string): string {
  const full = /^[a-z][\w+.-]*:/i.test(spec) ? spec : resolve(spec);
  return `${sourceName(spec)}-${createHash('sha256').update(full).digest('hex').slice(0, 8)}`;
}

export function uniqueSourceNames(specs: readonly string[]): string[] {
  const used = new Map<string, number>();
  return specs.map((spec) => {
    const name = sourceName(spec);
    const n = (used.get(name) ?? 0) + 1;
    used.set(name, n);
    return n > 1 ? `${name}-${n}` : name;
  });
}
