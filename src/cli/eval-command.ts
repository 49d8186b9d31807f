/** `cctfer eval <bundle> --affwild2 <dir>`: ABAW scores of a bundle on an annotated set, with a smoothing sweep. */
import { Command, Option } from 'commander';
import { join } from 'node:path';
import { DEFAULT_SWEEP } from '../stream/smoothing-spec.ts';
import { AFFWILD2_CLASSES } from '../data/classes.ts';
import { cliFfmpeg, withModelOptions } from './options.ts';
import { FER_SPLITS, type FerSplit } from '../data/readers/fer-splits.ts';
import type { parseBackendName } from '../engine/backend-name.ts';
import type { ClassificationReport } from '../metrics/classification.ts';

const pct = (v: number) => (100 * v).toFixed(1).padStart(5);

export function evalCommand(): Command {
  const cmd = new Command('eval')
    .description(
      'score a bundle on Aff-Wild2 annotations: ABAW 2021 score, macro F1, accuracy, per-class F1, confusion; per member and ensemble; smoothing sweep',
    )
    .argument('<bundle>', 'model bundle directory')
    .option(
      '--affwild2 <dir>',
      'Aff-Wild2 root with videos/ and annotations/<set>/ (required; `eval fer` scores FER2013)',
    )
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
          affwild2?: string;
          set: string;
          videos?: string;
          annotations?: string;
          sweep: string;
          engine: 'onnx' | 'tfjs';
          json: boolean;
        },
      ) => {
        const root =
          o.affwild2 ??
          cmd.error(
            "error: required option '--affwild2 <dir>' not specified (or use `cctfer eval fer`)",
          );
        const { evaluateBundle } = await import('../../pipelines/eval.ts');
        const report = await evaluateBundle({
          bundle,
          videosDir: o.videos ?? join(root, 'videos'),
          annotations: o.annotations ?? join(root, 'annotations', o.set),
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
  // `eval fer … --json` is the subcommand's --json, not eval's own.
  cmd.enablePositionalOptions().addCommand(evalFerCommand());
  return cmd;
}

function evalFerCommand(): Command {
  return withModelOptions(
    new Command('fer')
      .description(
        'score a bundle on a FER2013 split (48×48 faces, no detection): accuracy and macro F1 against the FER+ majority and the original labels, per member and ensemble; confusion; accuracy vs consensus coverage',
      )
      .argument(
        '<data...>',
        'a FER folder (images-idx3-ubyte.gz + labels.csv), or fer2013.csv and fer2013new.csv',
      )
      .addOption(
        new Option('--split <name>', 'which split to score')
          .choices([...FER_SPLITS])
          .default('PublicTest'),
      )
      .option('--json', 'print the whole report as JSON', false),
  ).action(
    async (
      data: string[],
      o: {
        split: FerSplit;
        json: boolean;
        bundle?: string;
        engine: 'onnx' | 'tfjs';
        backend: ReturnType<typeof parseBackendName>;
        threads: number;
      },
    ) => {
      const { initBackend } = await import('../engine/backend.ts');
      const { readFer } = await import('../data/readers/ferplus.ts');
      const { evaluateFer } = await import('../../pipelines/eval-fer.ts');
      if (o.engine === 'tfjs') await initBackend({ backend: o.backend });
      const fer = await readFer(data);
      const report = await evaluateFer(fer, {
        split: o.split,
        engine: o.engine,
        threads: o.threads,
        ...(o.bundle && { bundle: o.bundle }),
      });
      if (o.json) return console.log(JSON.stringify(report, null, 2));
      console.log(
        `${report.bundleName} (${report.bundle}) on ${report.source}, ${report.split}: ${report.faces} faces`,
      );
      for (const r of report.reports) {
        console.log(
          `\nagainst ${r.against} (${r.ensemble.count} faces)     accuracy  macroF1   ` +
            AFFWILD2_CLASSES.map((c) => c.slice(0, 5).padStart(5)).join(' '),
        );
        const row = (name: string, c: ClassificationReport) =>
          console.log(
            `  ${name.padEnd(30)} ${pct(c.accuracy)}    ${pct(c.macroF1)}   ${c.perClassF1.map(pct).join(' ')}`,
          );
        row('ensemble', r.ensemble);
        r.members.forEach((m, j) => row(`member ${j + 1}`, m));
        console.log('  ensemble confusion (rows truth, columns predicted):');
        for (const line of r.ensemble.confusion)
          console.log('    ' + line.map((v) => String(v).padStart(6)).join(''));
        console.log(
          '  accuracy of the most-consensual X%: ' +
            r.coverage.map((c) => `${Math.round(c.coverage * 100)}% ${pct(c.accuracy)}`).join(' |'),
        );
      }
    },
  );
}
