// tests/samples.test.ts — sample folders: each tests/samples/<kind>/<name>/
// holds input.cap (and optionally options.json); expected files sit beside it.
//   parse/        expected.txt: the AST dump (and diagnostics, if any)
//   diagnostics/  expected.txt: diagnostics exactly as users see them
//   emit/         expected.c + expected.manifest.json: the generated C and manifest
// UPDATE=1 rewrites the expected files from the current output.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from '../compiler/1-parse/parse.js';
import { compile, type CompileOptions } from '../compiler/compile.js';
import { renderDiagnostics } from '../diagnostics/render.js';
import { fixtureHost } from './fixtures/fixture-host.js';
import { dumpProgram } from '../compiler/1-parse/dump-ast.js';
import { repoRoot } from './support/paths.js';

const root = path.join(repoRoot, 'tests', 'samples');
const update = process.env.UPDATE === '1';

function check(file: string, actual: string): void {
  if (update || !fs.existsSync(file)) {
    fs.writeFileSync(file, actual);
    if (!update) assert.fail(`${path.relative(repoRoot, file)} did not exist: written; review it and run again`);
    return;
  }
  assert.equal(actual, fs.readFileSync(file, 'utf8'), `${path.relative(repoRoot, file)} differs (UPDATE=1 to accept)`);
}

function samples(kind: string): string[] {
  const dir = path.join(root, kind);
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((d) => fs.existsSync(path.join(dir, d, 'input.cap')))
        .sort()
    : [];
}

function load(kind: string, name: string) {
  const dir = path.join(root, kind, name);
  const text = fs.readFileSync(path.join(dir, 'input.cap'), 'utf8');
  const optsFile = path.join(dir, 'options.json');
  const options: CompileOptions = fs.existsSync(optsFile) ? JSON.parse(fs.readFileSync(optsFile, 'utf8')) : {};
  return { dir, source: { name: `${name}.cap`, text }, options };
}

test('sample folders exist for every kind', () => {
  for (const k of ['parse', 'diagnostics', 'emit']) assert.ok(samples(k).length > 0, `no ${k} samples`);
});

for (const name of samples('parse')) {
  test(`parse: ${name}`, () => {
    const { dir, source } = load('parse', name);
    const r = parse(source);
    const diags = r.diagnostics.length ? `\n--- diagnostics ---\n${renderDiagnostics(r.diagnostics, source)}\n` : '';
    check(path.join(dir, 'expected.txt'), dumpProgram(r.program) + diags);
  });
}

for (const name of samples('diagnostics')) {
  test(`diagnostics: ${name}`, () => {
    const { dir, source, options } = load('diagnostics', name);
    const r = compile(source, fixtureHost, options);
    assert.ok(r.diagnostics.length > 0, 'a diagnostics sample must produce diagnostics');
    check(path.join(dir, 'expected.txt'), renderDiagnostics(r.diagnostics, source) + '\n');
  });
}

for (const name of samples('emit')) {
  test(`emit: ${name}`, () => {
    const { dir, source, options } = load('emit', name);
    const r = compile(source, fixtureHost, { cFileName: `${name}.bpf.c`, ...options });
    assert.ok(r.ok, renderDiagnostics(r.diagnostics, source));
    check(path.join(dir, 'expected.c'), r.output!.c);
    check(path.join(dir, 'expected.manifest.json'), r.output!.manifestJson);
  });
}
