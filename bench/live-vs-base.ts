/**
 * bench/live-vs-base: bench/live here and in a worktree of an earlier commit, interleaved in ABBA
 * order (base, here, here, base, …) so that load from elsewhere hits both alike; prints the median analysed
 * fps per row and the ratio here/base. Both run the same bundle: the base's own default (the
 * pretrained pair at 36ab0f4), passed here with --bundle.
 *
 *   git worktree add /tmp/base 36ab0f4 && ln -s "$PWD/node_modules" /tmp/base/node_modules
 *   npx tsx bench/live-vs-base.ts --base /tmp/base [--rounds 2] [--seconds 8] [--write live-vs-base]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { median } from './bench-output.ts';

const opts = new Command('live-vs-base')
  .description('bench/live here vs an earlier worktree, interleaved')
  .requiredOption('--base <dir>', 'worktree of the earlier commit (node_modules linked)')
  .option(
    '--bundle <dir>',
    'bundle for this side (the base uses its default)',
    'models/pretrained-pair',
  )
  .option('--rounds <n>', 'runs per side', '2')
  .option('--seconds <s>', 'measured seconds per bench/live row', '8')
  .option('--clients <list>', 'client counts', '1,10,100')
  .option('--detect-every <k>', 'this side: detect every k-th frame (1: as the base does)')
  .option('--write <name>', 'also write bench/results/<name>.md')
  .parse()
  .opts<{
    base: string;
    bundle: string;
    rounds: string;
    seconds: string;
    clients: string;
    detectEvery?: string;
    write?: string;
  }>();

const here = fileURLToPath(new URL('..', import.meta.url));
type Fps = Map<string, number[]>;
const sides: Record<'base' | 'here', Fps> = { base: new Map(), here: new Map() };

function run(side: 'base' | 'here'): void {
  const args = ['tsx', 'bench/live.ts', '--seconds', opts.seconds, '--clients', opts.clients];
  if (side === 'here') args.push('--bundle', opts.bundle);
  if (side === 'here' && opts.detectEvery) args.push('--detect-every', opts.detectEvery);
  const out = execFileSync('npx', args, {
    cwd: side === 'base' ? opts.base : here,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  for (const m of out.matchAll(
    /(lossless|paced \d+ fps|paced\d+)\s+(\d+) clients: ([\d.]+) analysed fps/g,
  )) {
    const key = `${m[1]} | ${m[2]}`;
    const list = sides[side].get(key) ?? [];
    list.push(Number(m[3]));
    sides[side].set(key, list);
  }
  console.error(`${side} run done`);
}

// ABBA order (base, here, here, base, …): a drift over the session, or a head start for whichever
// runs first after a pause, hits both sides alike.
for (let r = 0; r < Number(opts.rounds); r++) {
  const order: ('base' | 'here')[] = r % 2 ? ['here', 'base'] : ['base', 'here'];
  for (const side of order) run(side);
}
const rows = [...sides.base.keys()].map((key) => {
  const b = median(sides.base.get(key) ?? [NaN]);
  const h = median(sides.here.get(key) ?? [NaN]);
  return `| ${key} | ${(sides.base.get(key) ?? []).map((v) => v.toFixed(1)).join(', ')} | ${(sides.here.get(key) ?? []).map((v) => v.toFixed(1)).join(', ')} | ${(h / b).toFixed(2)} |`;
});
const md = [
  `# bench/live here vs ${opts.base} — ${new Date().toISOString().slice(0, 10)}, ${opts.rounds} runs per side in ABBA order, ${opts.seconds} s per row`,
  '',
  `Command: \`npx tsx bench/live-vs-base.ts ${process.argv.slice(2).join(' ')}\`; bundle ${opts.bundle} on both sides; ratio of the medians (here / base).`,
  '',
  '| mode | clients | base fps (runs) | here fps (runs) | ratio |',
  '|---|---|---|---|---|',
  ...rows,
  '',
].join('\n');
console.log(md);
if (opts.write) {
  mkdirSync(`${here}/bench/results`, { recursive: true });
  writeFileSync(`${here}/bench/results/${opts.write}.md`, md);
}
