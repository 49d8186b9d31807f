import { Command, Option } from 'commander';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../package-paths.ts';
import { parseBackendName } from '../engine/backend-name.ts';
import { CROP_MODES, type CropMode } from '../models/crop-modes.ts';
import { setVerbose } from '../util/debug-log.ts';
import { serveCommand } from './serve-command.ts';
import { annotateCommand } from './annotate-command.ts';
import { submitCommand } from './submit-command.ts';
import { trainCommand } from './train-command.ts';
import { evalCommand } from './eval-command.ts';
import { queueCommand, workerCommand } from './queue-commands.ts';

const pkg = JSON.parse(await readFile(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
  version: string;
};

const backendOption = () =>
  new Option('--backend <name>', 'tfjs backend: auto | tensorflow | wasm | cpu')
    .env('CCTFER_BACKEND')
    .default('auto')
    .argParser(parseBackendName);

export function buildCli(): Command {
  const program = new Command('cctfer')
    .description(
      'Realtime facial-expression analysis with Consensual Collaborative Training (CCT) ensembles',
    )
    .version(pkg.version)
    .showHelpAfterError()
    // Options belong to the command they follow (`eval fer … --json` is fer's --json).
    .enablePositionalOptions();

  program
    .command('backend')
    .description('load the tfjs backend that training would use and print which one it is')
    .addOption(backendOption())
    .action(async (opts: { backend: ReturnType<typeof parseBackendName> }) => {
      const { initBackend } = await import('../engine/backend.ts');
      const info = await initBackend({ backend: opts.backend });
      console.log(`${info.name}${info.detail ? ` (${info.detail})` : ''}`);
    });

  program
    .command('archs')
    .description('list the registered network architectures and their default configurations')
    .argument('[glob]', 'filter names with * wildcards', '*')
    .action(async (glob: string) => {
      const { getArch, listArchs } = await import('../models/registry.ts');
      for (const name of listArchs(glob)) {
        const a = getArch(name);
        const d = a.defaults;
        console.log(
          `${name.padEnd(12)} ${d.inputSize}x${d.inputSize}x${d.inChannels}, ${d.numClasses} classes — ${a.description}`,
        );
      }
    });

  program
    .command('checkpoint-info')
    .description('validate a training checkpoint and print its configuration and progress')
    .argument('<dir>', 'checkpoint directory')
    .addOption(backendOption())
    .action(async (dir: string, opts: { backend: ReturnType<typeof parseBackendName> }) => {
      const { initBackend } = await import('../engine/backend.ts');
      const { loadCheckpoint } = await import('../cct/checkpoint.ts');
      await initBackend({ backend: opts.backend });
      const trainer = await loadCheckpoint(dir);
      const c = trainer.config;
      console.log(
        `checkpoint ${dir}: ${c.members} × ${c.arch}, next epoch ${trainer.epoch} of ${c.maxEpochs}`,
      );
      console.log(JSON.stringify(c, null, 2));
      trainer.dispose();
    });

  const model = program.command('model').description('model bundles: inspect, export');

  model
    .command('info')
    .description('validate a model bundle and print its manifest')
    .argument('<bundle>', 'bundle directory')
    .option('--json', 'print the whole manifest as JSON', false)
    .action(async (dir: string, opts: { json: boolean }) => {
      const { readBundleManifest } = await import('../models/bundle.ts');
      const m = await readBundleManifest(dir);
      if (opts.json) {
        console.log(JSON.stringify(m, null, 2));
        return;
      }
      console.log(`${m.name} — ${m.description || 'no description'}`);
      console.log(`classes (${m.classes.length}): ${m.classes.join(', ')}`);
      m.members.forEach((mem, j) => {
        const p = mem.preprocessing;
        console.log(
          `member ${j}: ${mem.arch} ${p.inputSize}×${p.inputSize} ${p.color}, ${p.crop} crop, mean [${p.mean.join(', ')}] std [${p.std.join(', ')}]`,
        );
      });
      console.log(
        `onnx: ${m.onnx.file}, inputs ${m.onnx.inputs.map((x) => `'${x.mode}' ${x.size}×${x.size}×3`).join(', ')} (NHWC RGB in [0,1]); verified against tfjs: ${m.onnx.verified.logitsRelError.toExponential(1)} max relative logit error`,
      );
      const p = m.provenance;
      console.log(`provenance: ${p.source}; created ${p.createdAt}`);
      console.log(`licence / terms: ${p.licence}`);
      if (p.data) console.log(`training data: ${p.data}`);
      if (p.labels) console.log(`training labels: ${p.labels}`);
      if (p.command) console.log(`trained by: ${p.command}`);
      if (p.notes) console.log(`notes: ${p.notes}`);
      if (m.metrics)
        console.log(
          `metrics: ${Object.entries(m.metrics)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
        );
    });

  model
    .command('export')
    .description(
      'turn a training checkpoint into a model bundle (members + verified ONNX ensemble)',
    )
    .argument('<checkpoint>', 'checkpoint directory')
    .argument('<bundle>', 'bundle directory to write')
    .option('--name <name>', 'bundle name (default: the bundle directory name)')
    .option(
      '--classes <list>',
      'comma-separated class names (default: Aff-Wild2 order for 7 classes)',
    )
    .option('--crop <mode>', 'crop the members were trained on: aligned | box | fer', 'aligned')
    .option(
      '--provenance <json>',
      "training data, labels, licence terms, command and metrics to record (a run's provenance.json)",
    )
    .addOption(backendOption())
    .action(
      async (
        ckpt: string,
        dir: string,
        opts: {
          name?: string;
          classes?: string;
          crop: string;
          provenance?: string;
          backend: ReturnType<typeof parseBackendName>;
        },
      ) => {
        const { initBackend } = await import('../engine/backend.ts');
        const { loadCheckpoint } = await import('../cct/checkpoint.ts');
        const { exportTrainerBundle, readTrainProvenance } = await import('../train/export.ts');
        await initBackend({ backend: opts.backend });
        const trainer = await loadCheckpoint(ckpt);
        try {
          const classes = opts.classes?.split(',').map((c) => c.trim());
          if (classes && classes.length !== trainer.config.numClasses)
            throw new Error(
              `--classes lists ${classes.length} names but the checkpoint has ${trainer.config.numClasses} classes`,
            );
          if (!(CROP_MODES as readonly string[]).includes(opts.crop))
            throw new Error(`--crop must be one of ${CROP_MODES.join(', ')}, got '${opts.crop}'`);
          const m = await exportTrainerBundle(trainer, dir, {
            name: opts.name ?? dir.split('/').filter(Boolean).pop() ?? 'bundle',
            crop: opts.crop as CropMode,
            source: `cctfer training checkpoint ${ckpt} (epoch ${trainer.epoch})`,
            ...(classes && { classes }),
            ...(opts.provenance && { provenance: await readTrainProvenance(opts.provenance) }),
          });
          console.log(
            `wrote ${dir}: ${m.members.length} × ${m.members[0]!.arch}, ONNX verified (max relative logit error ${m.onnx.verified.logitsRelError.toExponential(1)})`,
          );
        } finally {
          trainer.dispose();
        }
      },
    );

  program.addCommand(serveCommand());
  program.addCommand(annotateCommand());
  program.addCommand(submitCommand());
  program.addCommand(trainCommand());
  program.addCommand(evalCommand());
  program.addCommand(workerCommand());
  program.addCommand(queueCommand());

  // --verbose on every command: MediaPipe's and ONNX Runtime's own log lines, on stderr. Through
  // the environment, so worker threads started later see it too.
  const addVerbose = (c: Command) => {
    c.option('--verbose', "show the engines' own log lines (also DEBUG=cctfer)");
    c.commands.forEach(addVerbose);
  };
  program.commands.forEach(addVerbose);
  program.hook('preAction', (_program, action) => {
    if (action.opts<{ verbose?: boolean }>().verbose) {
      process.env.DEBUG = [process.env.DEBUG, 'cctfer'].filter(Boolean).join(',');
      setVerbose(true);
    }
  });

  return program;
}

try {
  await buildCli().parseAsync(process.argv);
} catch (err) {
  console.error(`cctfer: ${(err as Error).message}`);
  // Exit now: a half-started command (worker threads, ONNX Runtime) must not keep the process up.
  process.exit(1);
}
