/**
 * The package as a user gets it: `npm pack`, installed into a fresh project (no tsx, no TypeScript
 * sources), used from plain JavaScript, type-checked by a strict TypeScript consumer, and run as
 * a command. The install line is the README's, with the tarball in place of the registry name.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildIsFresh } from '../src/util/fresh-build.ts';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

describe('the npm package', () => {
  it(
    'installs from its tarball and works from JavaScript, TypeScript and the command line',
    { timeout: 600_000 },
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'cctfer-package-'));
      try {
        // `npm pack` builds dist/ (prepare) unless the build is already newer than every source,
        // as it is right after `npm install` (CI, a fresh clone).
        const packed = await exec(
          'npm',
          [
            'pack',
            '--silent',
            '--pack-destination',
            dir,
            ...(buildIsFresh(root) ? ['--ignore-scripts'] : []),
          ],
          { cwd: root, maxBuffer: 1 << 26 },
        );
        const tarball = join(dir, packed.stdout.trim().split('\n').at(-1) as string);
        const project = join(dir, 'consumer');
        await exec('mkdir', ['-p', project]);
        await writeFile(
          join(project, 'package.json'),
          JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
        );
        // The README's install line: ONNXRUNTIME_NODE_INSTALL=skip npm install cctfer
        await exec('npm', ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline'], {
          cwd: project,
          env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
          maxBuffer: 1 << 26,
        });
        const installed = join(project, 'node_modules', 'cctfer');
        assert.ok(!existsSync(join(project, 'node_modules', 'tsx')), 'tsx is not installed');
        const shipped = await readdir(installed, { recursive: true });
        assert.deepEqual(
          shipped.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')),
          [],
          'no TypeScript sources in the package',
        );

        // Plain JavaScript through the entry point.
        const photo = fileURLToPath(new URL('../fixtures/astronaut.png', import.meta.url));
        await writeFile(
          join(project, 'analyse.mjs'),
          [
            "import { createAnalyzer } from 'cctfer';",
            'const analyzer = await createAnalyzer();',
            `const faces = await analyzer.analyze(${JSON.stringify(photo)});`,
            'console.log(JSON.stringify(faces.map((f) => f.label)));',
            'await analyzer.close();',
          ].join('\n'),
        );
        const js = await exec(process.execPath, ['analyse.mjs'], { cwd: project });
        assert.equal(js.stdout.trim(), '["Happiness"]', 'only the program output on stdout');

        // A strict TypeScript consumer (tsc --init's defaults: strict, NodeNext, skipLibCheck).
        await writeFile(
          join(project, 'tsconfig.json'),
          JSON.stringify({
            compilerOptions: {
              module: 'nodenext',
              target: 'es2022',
              strict: true,
              noEmit: true,
              skipLibCheck: true,
              types: [],
            },
            include: ['example.ts'],
          }),
        );
        await writeFile(
          join(project, 'example.ts'),
          [
            "import { createAnalyzer, type ImageFace } from 'cctfer';",
            "import { CctferClient } from 'cctfer/client';",
            'const analyzer = await createAnalyzer({ detector: "short-range" });',
            "const faces: ImageFace[] = await analyzer.analyze('photo.jpg');",
            'const best: string | undefined = faces[0]?.label;',
            "const client = new CctferClient('ws://127.0.0.1:8080/ws', { token: 'x' });",
            "client.on('frame', (m) => console.log(m.source, m.faces.length, best));",
            'await analyzer.close();',
          ].join('\n'),
        );
        const typed = await exec(process.execPath, [tsc, '-p', project]).catch(
          (e: { stdout: string }) => e,
        );
        assert.equal(typed.stdout.trim(), '', 'tsc reports no errors');

        // The command, without npx's help: the bin link, then npx.
        const version = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
          version: string;
        };
        const bin = await exec(join(project, 'node_modules', '.bin', 'cctfer'), ['--version'], {
          cwd: project,
        });
        assert.equal(bin.stdout.trim(), version.version);
        const npx = await exec('npx', ['--no-install', 'cctfer', '--version'], { cwd: project });
        assert.equal(npx.stdout.trim(), version.version);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
