import { Command, Option } from 'commander';
import { readFile } from 'node:fs/promises';
import { initBackend, parseBackendName } from '../engine/backend.ts';
import { getArch, listArchs } from '../models/registry.ts';
import { loadCheckpoint } from '../cct/checkpoint.ts';

const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
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
    .showHelpAfterError();

  program
    .command('backend')
    .description('load the tfjs backend that training would use and print which one it is')
    .addOption(backendOption())
    .action(async (opts: { backend: ReturnType<typeof parseBackendName> }) => {
      const info = await initBackend({ backend: opts.backend });
      console.log(`${info.name}${info.detail ? ` (${info.detail})` : ''}`);
    });

  program
    .command('archs')
    .description('list the registered network architectures and their default configurations')
    .argument('[glob]', 'filter names with * wildcards', '*')
    .action((glob: string) => {
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
      await initBackend({ backend: opts.backend });
      const trainer = await loadCheckpoint(dir);
      const c = trainer.config;
      console.log(
        `checkpoint ${dir}: ${c.members} × ${c.arch}, next epoch ${trainer.epoch} of ${c.maxEpochs}`,
      );
      console.log(JSON.stringify(c, null, 2));
      trainer.dispose();
    });

  return program;
}

try {
  await buildCli().parseAsync(process.argv);
} catch (err) {
  console.error(`cctfer: ${(err as Error).message}`);
  process.exitCode = 1;
}
