import { isAbsolute, relative } from 'node:path';

/**
 * A path as a manifest or summary records it: relative to the working directory, as the recorded
 * command is, so a shipped bundle does not carry the folder layout of the machine that made it.
 */
export function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  if (rel === '') return '.';
  return isAbsolute(rel) ? path : rel;
}
