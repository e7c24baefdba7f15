// tests/e2e/injection.test.ts — nothing from a script reaches the C
// unescaped. A program full of hostile text (quotes, backslashes, `*/`,
// `#include`, `??/` trigraphs, newlines, NULs, bytes that are not UTF-8),
// stored under a path that is itself hostile, is compiled by clang, loaded by
// the kernel, and must print exactly the bytes it spells — compared byte for
// byte, not as decoded text. The generated C is checked for the ways such text
// could escape: a string or comment closed early, a `#line` broken across
// lines, a live trigraph.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runCapc } from '../support/capc.js';
import { requireKernel } from '../support/kernel.js';

const PROGRAM = String.raw`// a comment with */ and #include "x" and ??/
/* block ??/ #define BEGIN */
BEGIN
{
  printf("[%s]\n", "q\"b\\s */ ??/ ??= ??' #include <stdio.h> #define X");
  printf("[%s]\n", "nl\nx\ty\r");
  printf("[%s]\n", "\x01\x7f\x80\xfe\xff\377");
  printf("[%s]\n", "nul\0after");
  printf("100%% \"fmt\" ??/ */ \\\n");
  $s = "café ✓";
  printf("[%s] %d\n", $s, $s == "café ✓");
  if (comm == "x\"*/??/") { printf("never\n"); }
  @m["k\"*/\n"] = count();
  exit();
}
`;

const EXPECTED = Buffer.concat([
  Buffer.from('Attaching 1 probe...\n'),
  Buffer.from('[q"b\\s */ ??/ ??= ??\' #include <stdio.h> #define X]\n'),
  Buffer.from('[nl\nx\ty\r]\n'),
  Buffer.from([0x5b, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0xff, 0x5d, 0x0a]),
  Buffer.from('[nul]\n'), // %s stops at the NUL, as in C and bpftrace
  Buffer.from('100% "fmt" ??/ */ \\\n'),
  Buffer.from('[café ✓] 1\n'),
  Buffer.from('\n\n@m[k"*/\n]: 1\n'),
]);

function hostileDir(): string {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-inj-'));
  // Directories make the `*/` and `??/`: the path reads `we"ird */??/#include <x>\nline\ \x01/`.
  const dir = path.join(base, 'we"ird *', '??', '#include <x>\nline\\ \x01');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

test('hostile strings, formats, comments and paths reach the kernel as exactly the bytes written', async (t) => {
  if (!requireKernel(t)) return;
  const dir = hostileDir();
  try {
    const file = path.join(dir, 'prog.cap');
    fs.writeFileSync(file, PROGRAM);
    const out = path.join(dir, 'out.txt');
    const r = await runCapc(['run', file, '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    const got = fs.readFileSync(out);
    assert.ok(
      got.equals(EXPECTED),
      `bytes differ:\n got ${JSON.stringify(got.toString('latin1'))}\nwant ${JSON.stringify(EXPECTED.toString('latin1'))}`,
    );
  } finally {
    fs.rmSync(path.resolve(dir, '../../..'), { recursive: true, force: true });
  }
});

test('the generated C for hostile text has no early-closed literal or comment, no broken #line, no live trigraph', async (t) => {
  if (!requireKernel(t)) return;
  const dir = hostileDir();
  try {
    const file = path.join(dir, 'prog.cap');
    fs.writeFileSync(file, PROGRAM);
    const r = await runCapc(['emit', file]);
    assert.equal(r.code, 0, r.stderr);
    const c = r.stdout;
    // Every #line names its file in one well-formed literal on one line.
    const lineDirs = c.split('\n').filter((l) => l.startsWith('#'));
    for (const l of lineDirs)
      assert.match(
        l,
        /^#(line \d+ "(?:[^"\\\n]|\\[0-7]{3}|\\["\\?])*"|include "[\w.]+"|define \w+ .*|ifndef \w+|endif)$/,
        `preprocessor line: ${l}`,
      );
    assert.ok(
      lineDirs.some((l) => l.includes('\\"ird */\\?\\?/#include <x>\\012line\\\\ \\001/prog.cap"')),
      'the hostile path, escaped',
    );
    // No trigraph can be formed anywhere, even if a compiler enabled them.
    assert.doesNotMatch(c, /\?\?[=/'()!<>-]/);
    // Walk the C as a lexer would: every comment, string and character literal
    // closes on its own line.
    let i = 0;
    while (i < c.length) {
      if (c.startsWith('/*', i)) {
        const end = c.indexOf('*/', i + 2);
        assert.ok(end > 0, 'unterminated comment');
        assert.ok(!c.slice(i, end).includes('\n'), `a comment spans lines: ${c.slice(i, end)}`);
        i = end + 2;
      } else if (c[i] === '"' || c[i] === "'") {
        const q = c[i];
        let j = i + 1;
        while (c[j] !== q) {
          assert.ok(c[j] !== '\n' && j < c.length, `a string literal spans lines near: ${c.slice(i, i + 60)}`);
          j += c[j] === '\\' ? 2 : 1;
        }
        assert.match(
          c.slice(i + 1, j),
          /^(?:[\x20-\x7e]|\\[0-7]{3})*$/,
          'literals hold printable ASCII and escapes only',
        );
        i = j + 1;
      } else if (c.startsWith('//', i)) {
        assert.fail(
          `capc emits no // comments (a trailing backslash would continue them): ${c.slice(i, c.indexOf('\n', i))}`,
        );
      } else i++;
    }
    // The user's own comments never reach the C.
    assert.doesNotMatch(c, /a comment with|#define BEGIN/);
  } finally {
    fs.rmSync(path.resolve(dir, '../../..'), { recursive: true, force: true });
  }
});

test('a program file that is not UTF-8 is refused at the byte, with the fix', async (t) => {
  if (!requireKernel(t)) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-latin1-'));
  try {
    const file = path.join(dir, 'latin1.cap');
    fs.writeFileSync(
      file,
      Buffer.concat([Buffer.from('BEGIN { printf("caf'), Buffer.from([0xe9]), Buffer.from('\\n"); exit(); }\n')]),
    );
    const r = await runCapc(['run', file]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      new RegExp(
        `^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:1:20: error\\[E0107\\]: .* is not valid UTF-8 here$`,
        'm',
      ),
    );
    assert.match(r.stderr, /\\xHH escapes/);
    assert.equal(r.programIds.length, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
