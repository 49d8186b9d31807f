/**
 * The layers, as the analysis-core redesign left them: no import cycles, the server free of
 * pipelines/, models free of faces/ and stream/, and ONNX inference free of tfjs and the
 * architectures. Imports are read with TypeScript's own parser. Cycles and layer rules count
 * type-only imports; what a module loads at run time does not.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.ts'))
    .map((d) => relative(root, join(d.parentPath, d.name)));
}

interface Edge {
  path: string;
  /** `import(…)`: loaded on demand. */
  dynamic: boolean;
  /** Erased at run time. */
  typeOnly: boolean;
}

/** A file's imports (static, dynamic, type-only), as repository-relative paths. */
function importsOf(file: string): Edge[] {
  const source = ts.createSourceFile(
    file,
    readFileSync(join(root, file), 'utf8'),
    ts.ScriptTarget.Latest,
  );
  const out: Edge[] = [];
  const add = (spec: string, dynamic: boolean, typeOnly = false) => {
    if (spec.startsWith('.'))
      out.push({ path: relative(root, resolve(root, dirname(file), spec)), dynamic, typeOnly });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      const named = node.importClause?.namedBindings;
      const allTypes =
        named && ts.isNamedImports(named) && !node.importClause?.name && named.elements.length > 0
          ? named.elements.every((e) => e.isTypeOnly)
          : false;
      add(
        (node.moduleSpecifier as ts.StringLiteral).text,
        false,
        Boolean(node.importClause?.isTypeOnly) || allTypes,
      );
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const named = node.exportClause;
      const allTypes =
        named && ts.isNamedExports(named) && named.elements.length > 0
          ? named.elements.every((e) => e.isTypeOnly)
          : false;
      add((node.moduleSpecifier as ts.StringLiteral).text, false, node.isTypeOnly || allTypes);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    )
      add(node.arguments[0].text, true);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

const all = [...files('src'), ...files('pipelines')];
const graph = new Map(all.map((f) => [f, importsOf(f)]));

/** Everything a file loads when it is imported (dynamic imports excluded: they load on demand). */
function closure(start: string): Set<string> {
  const seen = new Set<string>();
  const stack = [start];
  while (stack.length) {
    const f = stack.pop() as string;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const i of graph.get(f) ?? []) if (!i.dynamic && !i.typeOnly) stack.push(i.path);
  }
  return seen;
}

describe('layers', () => {
  it('reads the imports (a known edge is found)', () => {
    assert.ok(
      graph.get('pipelines/serve.ts')?.some((i) => i.path === 'src/server/server.ts'),
      'pipelines/serve.ts imports the server',
    );
  });

  it('has no import cycles (type-only imports included: they are structure too)', () => {
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...path.slice(path.indexOf(f)), f].join(' → '));
        return;
      }
      state.set(f, 'open');
      for (const i of graph.get(f) ?? []) if (!i.dynamic) visit(i.path, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of all) visit(f, []);
    assert.deepEqual(cycles, []);
  });

  const imports = (from: string, to: RegExp) =>
    all
      .filter((f) => f.startsWith(from))
      .flatMap((f) =>
        (graph.get(f) ?? []).filter((i) => to.test(i.path)).map((i) => `${f} → ${i.path}`),
      );

  it('the server depends on its own interface, not on pipelines/', () => {
    assert.deepEqual(imports('src/server/', /^pipelines\//), []);
  });

  it('models import no faces/, stream/, server/ or pipelines/ code', () => {
    assert.deepEqual(imports('src/models/', /^(src\/(faces|stream|server)|pipelines)\//), []);
  });

  it('ONNX inference loads neither tfjs nor any architecture', () => {
    const loaded = [...closure('src/models/onnx-ensemble.ts')];
    const heavy = loaded.filter((f) =>
      /engine\/tf\.ts|registry|resnet18|fer-cnn|mini-xception|faceapi-expression|tiny-cnn|mlp\.ts/.test(
        f,
      ),
    );
    assert.deepEqual(heavy, []);
    assert.ok(loaded.includes('src/engine/onnx-runtime.ts'));
  });
});
