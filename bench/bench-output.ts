/** What the benches share: the compiled CLI they time, their command line, and where results go. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { astronautClip, THREE_FACES_FILTER } from '../scripts/astronaut-clip.ts';

const benchDir = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** The compiled CLI (dist/), what npm users run; benches time it, not the tsx sources. */
export function compiledCli(): string {
  const cli = benchDir('../dist/src/cli/main.js');
  if (!existsSync(cli)) throw new Error('no dist/: run `npm run build` first');
  return cli;
}

/** `npx tsx bench/<name>.ts <the arguments given>`, for the results' "Command:" line. */
export function commandLine(name: string): string {
  const args = process.argv.slice(2);
  return `npx tsx bench/${name}.ts${args.length ? ` ${args.join(' ')}` : ''}`;
}

/**
 * The generated three-faces clip (the astronaut three times, drifting; 270 frames at 25 fps) the
 * speed benches share, made once into bench/.cache/.
 */
export function threeFacesClip(): string {
  const path = benchDir('./.cache/three-faces.mp4');
  if (!existsSync(path)) {
    mkdirSync(benchDir('./.cache'), { recursive: true });
    astronautClip(path, THREE_FACES_FILTER, { seconds: 10.8, fps: 25 });
  }
  return path;
}

/** The median; of an even count, the mean of the middle two. */
export function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Prints a result table; with `--write <name>`, also saves it as bench/results/<name>.md. */
export function printResults(md: string, write: string | undefined): void {
  console.log(md);
  if (!write) return;
  mkdirSync(benchDir('./results'), { recursive: true });
  writeFileSync(benchDir(`./results/${write}.md`), md);
  console.log(`wrote bench/results/${write}.md`);
}
