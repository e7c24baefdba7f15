// tests/unit/import-rules.test.ts — the dependency rules, checked on every
// import of every source file (static, dynamic, type-only and re-exports):
//   diagnostics/ ← grammar/ ← compiler/ ← runtime/, and nothing upward;
//   the runtime reaches the compiler only through compiler/index.ts;
//   only runtime/ffi/ imports koffi; only runtime/ui/ imports ink or react
//   (and only it holds .tsx files, whose JSX imports react);
//   runtime folders follow the layer order written in runtime/README.md;
//   compiler/3-lower has no import cycle (the lowerers that recurse into each
//   other meet through FnBuilder's Lowerers, not through imports).
// Each rule is also run on a made-up forbidden edge, so a rule that can no
// longer fail is caught too.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { repoRoot } from '../support/paths.js';

interface Edge {
  /** Importing file, relative to the repository root. */
  from: string;
  /** The specifier as written. */
  spec: string;
  /** Relative specifiers: the imported file, relative to the repository root (.js mapped back to .ts/.tsx). */
  to?: string;
}

const SOURCE_ROOTS = ['diagnostics', 'grammar', 'compiler', 'runtime', 'stdlib'];

function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(path.join(repoRoot, dir), { withFileTypes: true })) {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (/\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name)) out.push(rel);
    }
  };
  for (const r of SOURCE_ROOTS) walk(r);
  return out.sort();
}

function edgesOf(file: string): Edge[] {
  const info = ts.preProcessFile(fs.readFileSync(path.join(repoRoot, file), 'utf8'), true, true);
  return info.importedFiles.map(({ fileName: spec }) => {
    if (!spec.startsWith('.')) return { from: file, spec };
    const abs = path.resolve(path.dirname(path.join(repoRoot, file)), spec);
    const base = abs.replace(/\.js$/, '');
    const found = ['.ts', '.tsx', ''].map((x) => base + x).find((p) => fs.existsSync(p)) ?? abs;
    return { from: file, spec, to: path.relative(repoRoot, found) };
  });
}

/** The runtime's layers, lowest first, as runtime/README.md lists them (`N. \`folder/\`` or root files). */
function runtimeLayers(): string[][] {
  const text = fs.readFileSync(path.join(repoRoot, 'runtime', 'README.md'), 'utf8');
  const layers: string[][] = [];
  for (const line of text.split('\n')) {
    const m = /^\d+\. (.*?) —/.exec(line);
    if (m) layers.push([...m[1]!.matchAll(/`([^`]+)`/g)].map((x) => x[1]!.replace(/\/$/, '')));
  }
  return layers;
}

const top = (p: string) => p.split(path.sep)[0]!;
const under = (p: string, dir: string) => p === dir || p.startsWith(dir + path.sep);
const pkg = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);

/** What a file outside its own top folder may import from, by top folder. */
const MAY_IMPORT: Record<string, (to: string) => boolean> = {
  diagnostics: () => false,
  stdlib: () => false,
  grammar: (to) => under(to, 'diagnostics'),
  compiler: (to) => ['diagnostics', 'grammar', 'stdlib'].includes(top(to)),
  runtime: (to) => under(to, 'diagnostics') || to === path.join('compiler', 'index.ts'),
};

function violations(edges: Edge[], layers: string[][]): string[] {
  const bad: string[] = [];
  const say = (e: Edge, why: string) => bad.push(`${e.from} imports ${e.spec}: ${why}`);
  const layerOf = (file: string): number => {
    const name = path.relative('runtime', file).split(path.sep)[0]!;
    return layers.findIndex((l) => l.includes(name));
  };
  for (const e of edges) {
    const from = top(e.from);
    if (e.from.endsWith('.tsx') && !under(e.from, path.join('runtime', 'ui')))
      say(e, 'JSX (and so react) only in runtime/ui/');
    if (!e.to) {
      const p = pkg(e.spec);
      if (p === 'koffi' && !under(e.from, path.join('runtime', 'ffi'))) say(e, 'only runtime/ffi/ binds koffi');
      if ((p === 'ink' || p.startsWith('ink-') || p === 'react') && !under(e.from, path.join('runtime', 'ui')))
        say(e, 'only runtime/ui/ imports ink and react');
      continue;
    }
    const to = top(e.to);
    if (to !== from && !MAY_IMPORT[from]?.(e.to))
      say(
        e,
        from === 'runtime'
          ? 'the runtime imports only compiler/index.ts and diagnostics/'
          : `${from}/ may not import ${to}/`,
      );
    if (from === 'runtime' && to === 'runtime') {
      const a = layerOf(e.from);
      const b = layerOf(e.to);
      if (a < 0) say(e, `${e.from}'s folder is not in runtime/README.md's layer list`);
      else if (b > a) say(e, `a lower layer may not import a higher one (runtime/README.md)`);
    }
  }
  return bad;
}

/** Import cycles among the files of one folder (strongly connected components larger than one file). */
function cycles(edges: Edge[], dir: string): string[][] {
  const inDir = (p: string) => path.dirname(p) === dir;
  const graph = new Map<string, string[]>();
  for (const e of edges)
    if (inDir(e.from)) {
      if (!graph.has(e.from)) graph.set(e.from, []);
      if (e.to && inDir(e.to)) graph.get(e.from)!.push(e.to);
    }
  // Tarjan's algorithm.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.map((f) => path.basename(f)).sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

const edges = sourceFiles().flatMap(edgesOf);
const layers = runtimeLayers();

test('every import follows the dependency rules', () => {
  assert.ok(edges.length > 300, `only ${edges.length} imports found: the scan is broken`);
  assert.ok(layers.length > 10, 'runtime/README.md lists no layers');
  assert.deepEqual(violations(edges, layers), []);
});

test('every runtime folder is in the layer list', () => {
  const folders = new Set(
    sourceFiles()
      .filter((f) => top(f) === 'runtime')
      .map((f) => path.relative('runtime', f).split(path.sep)[0]!),
  );
  const listed = new Set(layers.flat());
  assert.deepEqual(
    [...folders].filter((f) => !listed.has(f)),
    [],
  );
});

test('compiler/3-lower has no import cycle', () => {
  assert.deepEqual(cycles(edges, path.join('compiler', '3-lower')), []);
});

test('each rule rejects a made-up forbidden edge', () => {
  const j = path.join;
  const made: [Edge, RegExp][] = [
    [
      { from: j('compiler', 'compile.ts'), spec: '../runtime/errors.js', to: j('runtime', 'errors.ts') },
      /compiler\/ may not import runtime/,
    ],
    [
      { from: j('runtime', 'cli', 'run.ts'), spec: '../../compiler/manifest.js', to: j('compiler', 'manifest.ts') },
      /only compiler\/index.ts/,
    ],
    [
      { from: j('runtime', 'cli', 'run.ts'), spec: '../../grammar/ast.js', to: j('grammar', 'ast.ts') },
      /only compiler\/index.ts/,
    ],
    [{ from: j('runtime', 'bpf', 'object.ts'), spec: 'koffi' }, /koffi/],
    [{ from: j('runtime', 'output', 'text.ts'), spec: 'ink' }, /ink and react/],
    [{ from: j('runtime', 'output', 'text.ts'), spec: 'react/jsx-runtime' }, /ink and react/],
    [
      { from: j('runtime', 'output', 'View.tsx'), spec: '../events/model.js', to: j('runtime', 'events', 'model.ts') },
      /JSX/,
    ],
    [
      { from: j('grammar', 'parser.ts'), spec: '../compiler/index.js', to: j('compiler', 'index.ts') },
      /grammar\/ may not import compiler/,
    ],
    [
      { from: j('diagnostics', 'render.ts'), spec: '../grammar/ast.js', to: j('grammar', 'ast.ts') },
      /diagnostics\/ may not/,
    ],
    [
      {
        from: j('runtime', 'events', 'decode.ts'),
        spec: '../format/printf.js',
        to: j('runtime', 'format', 'printf.ts'),
      },
      /lower layer/,
    ],
    [
      { from: j('runtime', 'nowhere', 'x.ts'), spec: '../errors.js', to: j('runtime', 'errors.ts') },
      /not in runtime\/README.md/,
    ],
  ];
  for (const [edge, why] of made) {
    const v = violations([edge], layers);
    assert.equal(v.length, 1, `${edge.from} -> ${edge.spec}: ${v.join('; ') || 'not flagged'}`);
    assert.match(v[0]!, why);
  }
  const ring = [
    { from: j('compiler', '3-lower', 'a.ts'), spec: './b.js', to: j('compiler', '3-lower', 'b.ts') },
    { from: j('compiler', '3-lower', 'b.ts'), spec: './a.js', to: j('compiler', '3-lower', 'a.ts') },
  ];
  assert.deepEqual(cycles(ring, j('compiler', '3-lower')), [['a.ts', 'b.ts']]);
});
