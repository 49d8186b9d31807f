/** `cctfer eval <bundle> --affwild2 <dir>`: ABAW scores of a bundle on an annotated set, with a smoothing sweep. */
import { Command, Option } from 'commander';
import { join } from 'node:path';
import { DEFAULT_SWEEP, evaluateBundle } from '../../pipelines/eval.ts';
import { AFFWILD2_CLASSES } from '../data/classes.ts';
import { cliFfmpeg } from './options.ts';

const pct = (v: number) => (100 * v).toFixed(1).padStart(5);

export function evalCommand(): Command {
  return new Command('eval')
    .description(
      'score a bundle on Aff-Wild2 annotations: ABAW 2021 score, macro F1, accuracy, per-class F1, confusion; per member and ensemble; smoothing sweep',
    )
    .argument('<bundle>', 'model bundle directory')
    .requiredOption('--affwild2 <dir>', 'Aff-Wild2 root with videos/ and annotations/<set>/')
    .option('--set <name>', 'annotation set folder under annotations/', 'Validation_Set')
    .option('--videos <dir>', 'videos folder (default: <affwild2>/videos)')
    .option('--annotations <dir>', 'annotation folder (default: <affwild2>/annotations/<set>)')
    .option(
      '--sweep <specs>',
      'comma-separated smoothing options to compare',
      DEFAULT_SWEEP.join(','),
    )
    .addOption(
      new Option('--engine <engine>', 'inference engine').choices(['onnx', 'tfjs']).default('onnx'),
    )
    .option('--json', 'print the whole report as JSON', false)
    .action(
      async (
        bundle: string,
        o: {
          affwild2: string;
          set: string;
          videos?: string;
          annotations?: string;
          sweep: string;
          engine: 'onnx' | 'tfjs';
          json: boolean;
        },
      ) => {
        const report = await evaluateBundle({
          bundle,
          videosDir: o.videos ?? join(o.affwild2, 'videos'),
          annotations: o.annotations ?? join(o.affwild2, 'annotations', o.set),
          sweep: o.sweep.split(',').map((s) => s.trim()),
          engine: o.engine,
          ffmpeg: cliFfmpeg(),
          onEntry: (entry, frames) => console.error(`scored ${entry}: ${frames} annotated frames`),
        });
        if (o.json) return console.log(JSON.stringify(report, null, 2));
        for (const s of report.skipped) console.error(`skipped ${s.entry}: ${s.reason}`);
        console.log(`\n${report.entries} entries, ${report.scoredFrames} annotated frames`);
        console.log(
          '\nsmoothing      ABAW21  macroF1  accuracy   ' +
            AFFWILD2_CLASSES.map((c) => c.slice(0, 5).padStart(5)).join(' '),
        );
        for (const { smoothing, report: r } of report.ensemble)
          console.log(
            `${smoothing.padEnd(13)} ${pct(r.abaw2021)}   ${pct(r.macroF1)}    ${pct(r.accuracy)}   ${r.perClassF1.map(pct).join(' ')}`,
          );
        report.members.forEach((r, j) =>
          console.log(
            `member ${j + 1} (raw) ${pct(r.abaw2021)}   ${pct(r.macroF1)}    ${pct(r.accuracy)}   ${r.perClassF1.map(pct).join(' ')}`,
          ),
        );
        const best = report.ensemble.reduce((a, b) =>
          b.report.abaw2021 > a.report.abaw2021 ? b : a,
        );
        console.log(
          `\nbest smoothing: ${best.smoothing} (ABAW 2021 score ${best.report.abaw2021.toFixed(4)}); confusion (rows truth, columns predicted):`,
        );
        for (const row of best.report.confusion)
          console.log('  ' + row.map((v) => String(v).padStart(6)).join(''));
      },
    );
}
