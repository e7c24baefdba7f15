// tests/unit/source-decoding.test.ts — program files are UTF-8: valid text is
// taken as is (U+FFFD written by the user included); the first malformed
// sequence is located exactly so the parser can point at it (E0107).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from '../../compiler/1-parse/parse.js';
import { decodeSource } from '../../runtime/cli/common.js';

const at = (...parts: (string | number[])[]) =>
  decodeSource('f.cap', Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p)))))
    .invalidUtf8At;

test('valid UTF-8, including a literal U+FFFD, is not flagged', () => {
  assert.equal(at('BEGIN { printf("café ✓ 😀 \uFFFD"); }'), undefined);
});

test('the first malformed sequence is found at its character offset', () => {
  assert.equal(at('ab', [0xe9], 'cd'), 2); // Latin-1 é
  assert.equal(at('é', [0xff]), 1); // offsets count characters, not bytes
  assert.equal(at('x', [0xc0, 0xaf]), 1); // overlong '/'
  assert.equal(at('x', [0xed, 0xa0, 0x80]), 1); // UTF-16 surrogate
  assert.equal(at('x', [0xf4, 0x90, 0x80, 0x80]), 1); // past U+10FFFF
  assert.equal(at('xy', [0xe2, 0x9c]), 2); // cut short at the end of the file
  assert.equal(at('x', [0xe2, 0x41, 0x41]), 1); // continuation byte missing
});

test('the parser reports E0107 with a span at the bad byte', () => {
  const src = decodeSource(
    'f.cap',
    Buffer.concat([Buffer.from('BEGIN {\n  printf("caf'), Buffer.from([0xe9]), Buffer.from('"); }\n')]),
  );
  const d = parse(src).diagnostics.find((x) => x.code === 'E0107');
  assert.ok(d);
  assert.equal(d.span?.line, 2);
  assert.equal(d.span?.col, 14);
});
