// tests/unit/literals.test.ts — string escapes, integer literals, probe-spec
// splitting and the raw-offset map used to point into string literals.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeString, parseIntLiteral, rawOffsets, splitProbeSpec } from '../../grammar/literals.js';

const span = { start: 0, end: 0, line: 1, col: 1, endLine: 1, endCol: 1 };
const dec = (raw: string) => Buffer.from(decodeString(raw).bytes).toString('latin1');

test('C escapes decode to the bytes C gives', () => {
  assert.equal(dec('"a\\tb\\nc"'), 'a\tb\nc');
  assert.equal(dec('"\\\\ \\" \\\' \\0"'), '\\ " \' \0');
  assert.equal(dec('"\\x41\\x4a\\x7"'), 'AJ\x07');
  assert.equal(dec('"\\101\\7\\0123"'), 'A\x07\n3');
  assert.equal(dec('"\\a\\b\\f\\v\\e\\r"'), '\x07\b\f\v\x1b\r');
});

test('non-ASCII source text is encoded as UTF-8', () => {
  assert.deepEqual([...decodeString('"é→"').bytes], [0xc3, 0xa9, 0xe2, 0x86, 0x92]);
  assert.deepEqual([...decodeString('"😀"').bytes], [0xf0, 0x9f, 0x98, 0x80]);
});

test('bad escapes are reported with their offset, not dropped', () => {
  const r = decodeString('"a\\qb\\x"');
  assert.equal(r.problems.length, 2);
  assert.match(r.problems[0]!.message, /unknown escape sequence \\q/);
  assert.equal(r.problems[0]!.offset, 2);
  assert.match(r.problems[1]!.message, /\\x needs one or two hex digits/);
});

test('integer literals: bases (octal with a leading 0), separators, exponents, size suffixes', () => {
  const cases: [string, bigint | undefined][] = [
    ['0', 0n],
    ['42', 42n],
    ['0x2a', 42n],
    ['0X2A', 42n],
    ['0b101', 5n],
    ['1_000_000', 1000000n],
    ['1e6', 1000000n],
    ['2E3', 2000n],
    ['4K', 4096n],
    ['8M', 8n * 1024n * 1024n],
    ['1G', 1024n ** 3n],
    ['0xffffffffffffffff', 2n ** 64n - 1n],
    ['0100', 64n],
    ['0_17', 15n],
    ['08', undefined],
    ['0x', undefined],
    ['12abc', undefined],
  ];
  for (const [text, want] of cases) assert.equal(parseIntLiteral(text), want, text);
});

test('probe specs split on colons, quoted parts keep theirs', () => {
  const parts = (t: string) => splitProbeSpec(t, span).map((p) => p.text);
  assert.deepEqual(parts('tracepoint:syscalls:sys_enter_openat'), ['tracepoint', 'syscalls', 'sys_enter_openat']);
  assert.deepEqual(parts('u:"/opt/my:app/bin":f'), ['u', '/opt/my:app/bin', 'f']);
  assert.deepEqual(parts('BEGIN'), ['BEGIN']);
  assert.deepEqual(parts('uprobe:/x:ns::f'), ['uprobe', '/x', 'ns', '', 'f']);
  const s = splitProbeSpec('t:sched:x', span);
  assert.deepEqual(
    s.map((p) => [p.span.col, p.span.endCol]),
    [
      [1, 2],
      [3, 8],
      [9, 10],
    ],
  );
});

test('raw offsets map decoded bytes back to source characters', () => {
  // "a\nb" : a at 1, \n at 2..3, b at 4, end at 5
  assert.deepEqual(rawOffsets('"a\\nb"'), [1, 2, 4, 5]);
  assert.deepEqual(rawOffsets('"\\x41z"'), [1, 5, 6]);
  assert.deepEqual(rawOffsets('"é"'), [1, 1, 2]);
});
