/**
 * Short names for inputs, used as source ids (serve) and output folder names (annotate): a file's
 * name without its extension, a URL's host and file name, `webcam` for cameras; repeated names get
 * `-2`, `-3`, ….
 */
import { basename, extname } from 'node:path';

export function sourceName(spec: string): string {
  let name: string;
  if (spec.startsWith('webcam')) name = 'webcam';
  else if (/^[a-z]+:\/\//i.test(spec)) {
    const url = new URL(spec);
    const file = basename(url.pathname, extname(url.pathname));
    name = file ? `${url.hostname}-${file}` : url.hostname;
  } else name = basename(spec, extname(spec));
  return name.replace(/[^\w.-]+/g, '_') || 'video';
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
