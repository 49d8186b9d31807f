/**
 * How FER2013's original labels map onto the FER+ annotators' majority, per original class: of the
 * rows of a split with both (an original label and a strict FER+ plurality among the 7 classes),
 * the share of each FER+ majority class. Explains why a model trained on FER+ and one trained on
 * FER2013's labels disagree where they do (README, the default model's comparison).
 *
 *   npx tsx scripts/fer-label-agreement.ts [--data ../shared/data/fer2013] [--split Training]
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import {
  ferplusMajority,
  readFer,
  FER_SPLITS,
  type FerSplit,
} from '../src/data/readers/ferplus.ts';
import { AFFWILD2_CLASSES } from '../src/data/classes.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const opts = new Command('fer-label-agreement')
  .description("FER2013's original labels against the FER+ majority, per original class")
  .option('--data <path...>', 'FER folder, or fer2013.csv fer2013new.csv', [
    join(here, '../../shared/data/fer2013'),
  ])
  .option('--split <split>', `one of ${FER_SPLITS.join(', ')}`, 'Training')
  .parse()
  .opts<{ data: string[]; split: string }>();
if (!(FER_SPLITS as readonly string[]).includes(opts.split))
  throw new Error(`--split: expected one of ${FER_SPLITS.join(', ')}, got '${opts.split}'`);

const data = await readFer(opts.data);
const k = AFFWILD2_CLASSES.length;
const counts = Array.from({ length: k }, () => new Array<number>(k).fill(0));
for (const r of data.rows) {
  if (r.usage !== (opts.split as FerSplit) || r.fer2013 === null) continue;
  const majority = ferplusMajority(r.votes);
  if (majority !== null) (counts[r.fer2013] as number[])[majority]! += 1;
}
const pct = (n: number, of: number) => (of ? ((100 * n) / of).toFixed(1) : '–');
console.log(`${data.source}, ${opts.split}: original label → FER+ majority (% of the row)\n`);
console.log(`| original | rows | ${AFFWILD2_CLASSES.join(' | ')} |`);
console.log(`| --- | --- | ${AFFWILD2_CLASSES.map(() => '---').join(' | ')} |`);
counts.forEach((row, c) => {
  const n = row.reduce((a, b) => a + b, 0);
  console.log(`| ${AFFWILD2_CLASSES[c]} | ${n} | ${row.map((v) => pct(v, n)).join(' | ')} |`);
});
