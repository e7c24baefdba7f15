// tests/unit/limits.test.ts — size and nesting limits (E0108, E0109) turn what
// used to be a stack overflow or an out-of-memory compile into a diagnostic at
// the place it happens; and diagnostics never carry a script's control
// characters to the terminal.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from '../../compiler/1-parse/parse.js';
import { renderDiagnostic, escapeControls } from '../../diagnostics/render.js';

const src = (text: string) => ({ name: 't.cap', text });

test('a 150-deep parenthesised expression is E0109 at the bracket past the limit', () => {
  const text = `BEGIN { $x = ${'('.repeat(150)}1${')'.repeat(150)}; }`;
  const r = parse(src(text));
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.span?.col]),
    [['E0109', 'BEGIN { $x = '.length + 64]],
  );
});

test('deep prefix operators, if-nesting, ternaries and long operator chains are E0109, never a crash', () => {
  for (const text of [
    `BEGIN { $x = ${'!'.repeat(5000)}1; }`,
    `BEGIN { ${'if (1) { '.repeat(2000)}$x = 1;${'}'.repeat(2000)} }`,
    `BEGIN { $x = ${'1 ? '.repeat(2000)}1${' : 2'.repeat(2000)}; }`,
    `BEGIN { $x = ${Array(20000).fill('1').join(' + ')}; }`,
    `BEGIN { @m[1] = 1; $x = ${'@m['.repeat(500)}1${']'.repeat(500)}; }`,
  ]) {
    const r = parse(src(text));
    assert.deepEqual(
      r.diagnostics.map((d) => d.code),
      ['E0109'],
      text.slice(0, 40),
    );
  }
});

test('nesting within the limits parses', () => {
  const r = parse(src(`BEGIN { $x = ${'('.repeat(60)}1${')'.repeat(60)}; $y = ${Array(200).fill('1').join(' + ')}; }`));
  assert.deepEqual(r.diagnostics, []);
});

test('programs over 20,000 lines or 1 MiB are E0108 before lexing', () => {
  const long = parse(src('BEGIN { exit(); }\n' + '// c\n'.repeat(20_000)));
  assert.deepEqual(
    long.diagnostics.map((d) => [d.code, d.span?.line]),
    [['E0108', 20_001]],
  );
  const big = parse(src(`BEGIN { printf("${'x'.repeat(1 << 20)}"); }`));
  assert.deepEqual(
    big.diagnostics.map((d) => d.code),
    ['E0108'],
  );
});

test('control characters in the source line and the message are escaped, and the caret still points at the token', () => {
  const text = 'BEGIN { printf("\x1b[2J"); $a\x07 = 1; }';
  const r = parse(src(text));
  const d = r.diagnostics.find((x) => x.code === 'E0102')!;
  const out = renderDiagnostic(d, src(text));
  assert.doesNotMatch(out, /[\x00-\x08\x0b-\x1f\x7f]/);
  const [, line, caret] = out.split('\n');
  const at = caret!.indexOf('^');
  assert.equal(line!.slice(at, at + 4), '\\x07', out);
  assert.equal(escapeControls('a\u202eb\x9bc\td'), 'a\\u202eb\\x9bc\td');
});
