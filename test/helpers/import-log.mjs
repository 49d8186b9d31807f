// Records every module URL the process resolves into the file named by $IMPORT_LOG, so a test can
// check what a command loaded (e.g. that `--help` loads no inference engine).
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
      import { appendFileSync } from 'node:fs';
      export async function resolve(specifier, context, next) {
        const r = await next(specifier, context);
        appendFileSync(process.env.IMPORT_LOG, r.url + '\\n');
        return r;
      }
    `),
);
