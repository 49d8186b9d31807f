/** `cctfer train --config <file>`: CCT on Aff-Wild2 read directly, or on FER2013 + FER+; see pipelines/train.ts. */
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { parseBackendName } from '../engine/backend-name.ts';
import { cliFfmpeg } from './options.ts';

export function trainCommand(): Command {
  return new Command('train')
    .description(
      'train a CCT ensemble on Aff-Wild2 (videos + annotation files) or FER2013 + FER+ votes, checkpointing every epoch; resumes where it stopped',
    )
    .requiredOption(
      '-c, --config <file>',
      'run configuration (JSON): data paths, trainer hyper-parameters, output folder',
    )
    .addOption(
      new Option('--backend <name>', 'tfjs backend: auto | tensorflow | wasm | cpu')
        .env('CCTFER_BACKEND')
        .default('auto')
        .argParser(parseBackendName),
    )
    .addOption(
      new Option(
        '--member-workers <mode>',
        "one member per worker thread (own wasm heap and core; needed for ResNet-18 at 224²): auto = the config's memberWorkers (default: on for wasm with ≥ 2 members)",
      )
        .choices(['auto', 'on', 'off'])
        .default('auto'),
    )
    .option('--quiet', 'no progress bars', false)
    .option(
      '--export-only',
      'train no further: export the best epoch so far (to stop a run early; run again without it to continue)',
      false,
    )
    .addHelpText(
      'after',
      `
Example config (every trainer field has a default: the paper's, except iterationsPerEpoch, a full pass; see README "Training on Aff-Wild2"):
  { "data": { "videos": "aff-wild2/videos", "train": "aff-wild2/annotations/Train_Set",
              "val": "aff-wild2/annotations/Validation_Set", "cache": "cache/aw2-112" },
    "trainer": { "arch": "resnet18", "members": 3, "batchSize": 64, "maxEpochs": 31 },
    "out": "runs/cct-r18" }
FER2013 + FER+ (the embedded default's recipe: models/recipes/default.json):
  { "data": { "fer": ["../shared/data/fer2013"], "labels": "ferplus-votes", "crop": "fer" },
    "trainer": { "arch": "fer-cnn-s", "members": 3, "batchSize": 64, "maxEpochs": 10 },
    "out": "runs/default" }`,
    )
    .action(
      async (opts: {
        config: string;
        backend: ReturnType<typeof parseBackendName>;
        memberWorkers: 'auto' | 'on' | 'off';
        quiet: boolean;
        exportOnly: boolean;
      }) => {
        const { readTrainConfig } = await import('../train/config.ts');
        const { trainRun } = await import('../../pipelines/train.ts');
        const { initBackend } = await import('../engine/backend.ts');
        const config = await readTrainConfig(opts.config);
        const run =
          opts.memberWorkers === 'auto'
            ? config
            : { ...config, memberWorkers: opts.memberWorkers === 'on' };
        await initBackend({ backend: opts.backend, log: (l) => console.error(`backend: ${l}`) });
        const show = !opts.quiet && process.stderr.isTTY;
        const bar = new cliProgress.SingleBar(
          {
            format: '{what} |{bar}| {value}/{total} | {info} | ETA {eta_formatted}',
            hideCursor: true,
            etaBuffer: 20,
          },
          cliProgress.Presets.shades_classic,
        );
        let active = '';
        const progress = (what: string, done: number, total: number, info: string) => {
          if (!show) return;
          if (active !== what) {
            if (active) bar.stop();
            bar.start(total, done, { what, info });
            active = what;
          } else bar.update(done, { info });
        };
        const say = (line: string) => {
          if (show && active) {
            bar.stop();
            active = '';
          }
          console.error(line);
        };
        const result = await trainRun(run, {
          command: `cctfer train --config ${opts.config}`,
          exportOnly: opts.exportOnly,
          ffmpeg: cliFfmpeg(),
          log: say,
          onIngestProgress: (entry, done, total) =>
            progress(`ingest ${entry}`, done, total, 'frames'),
          onIngest: (set, r) =>
            say(
              r.status === 'failed'
                ? `✗ ${set} ${r.entry}: ${r.error}`
                : `${r.status === 'cached' ? '=' : '✓'} ${set} ${r.entry}: ${r.cache?.count} crops (${r.cache?.skipped.unlabelled} unlabelled, ${r.cache?.skipped.noFace} without a face)${r.cache?.note ? `; ${r.cache.note}` : ''}`,
            ),
          onStep: (epoch, step, done, total) =>
            progress(`epoch ${epoch + 1}`, done, total, `loss ${step.total.toFixed(3)}`),
          onEpoch: (l) =>
            say(
              `epoch ${l.epoch + 1}: loss ${l.meanTotal.toFixed(4)} (CE ${l.meanSup.toFixed(4)}, KL ${l.meanCons.toFixed(4)}), λ ${l.lambda.toFixed(3)}, ${l.imagesPerSecond.toFixed(1)} img/s (batch preparation ${l.inputSeconds.toFixed(1)} of ${l.seconds.toFixed(1)} s); val ABAW ${l.val.ensemble.abaw2021.toFixed(4)} F1 ${l.val.ensemble.macroF1.toFixed(4)} acc ${l.val.ensemble.accuracy.toFixed(4)} (members ${l.val.members.map((m) => m.abaw2021.toFixed(3)).join(' / ')})`,
            ),
        });
        if (active) bar.stop();
        console.log(
          `best validation ABAW 2021 score ${result.best.toFixed(4)}; bundle: ${result.bundle}`,
        );
      },
    );
}
