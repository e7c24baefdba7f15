// tests/unit/print-c.test.ts — the C printer: nothing from a script can break
// out of a string literal or a comment, parentheses follow C precedence, and
// #line directives map every code line to its .cap line exactly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bin, call, id, num, type CProgram } from '../../compiler/3-lower/c-ir.js';
import { cString, printExpr, printProgram, safeComment } from '../../compiler/4-emit/print-c.js';

test('string literals escape quotes, backslashes, ?, control and high bytes', () => {
  const b = (s: string | number[]) => (typeof s === 'string' ? new TextEncoder().encode(s) : Uint8Array.from(s));
  assert.equal(cString(b('a"b\\c')), '"a\\"b\\\\c"');
  assert.equal(cString(b('??/')), '"\\?\\?/"');
  assert.equal(cString(b('x\n*/y')), '"x\\012*/y"');
  assert.equal(cString(b([0, 0xff, 0x41])), '"\\000\\377A"');
  assert.equal(cString(b('#include <x>')), '"#include <x>"');
});

test('comments cannot close early or span lines', () => {
  assert.equal(safeComment('a */ b\nc'), 'a * / b c');
  assert.equal(safeComment('é'), '?');
});

test('expressions get only the parentheses C needs, plus clarity ones', () => {
  assert.equal(printExpr(bin('*', bin('+', id('a'), id('b')), id('c'))), '(a + b) * c');
  assert.equal(printExpr(bin('+', id('a'), bin('*', id('b'), id('c')))), 'a + b * c');
  assert.equal(printExpr(bin('-', id('a'), bin('-', id('b'), id('c')))), 'a - (b - c)');
  assert.equal(printExpr(bin('||', bin('&&', id('a'), id('b')), id('c'))), '(a && b) || c');
  assert.equal(printExpr(bin('&', id('a'), bin('==', id('b'), id('c')))), 'a & (b == c)');
  assert.equal(printExpr(bin('=', id('x'), bin('+', id('x'), num(1)))), 'x = x + 1');
  assert.equal(printExpr(call('f', id('a'), bin('+', id('b'), num(1)))), 'f(a, b + 1)');
  assert.equal(printExpr(num(-5)), '-5');
  assert.equal(printExpr(num(2n ** 63n, true)), '0x8000000000000000ULL');
});

test('#line directives map each code line to its .cap line, scaffolding to itself', () => {
  const p: CProgram = {
    sourceName: 'x.cap',
    includes: ['capc.bpf.h'],
    defines: [],
    lateIncludes: [],
    structs: [],
    maps: [],
    globals: [],
    functions: [
      {
        section: 'raw_tp',
        name: 'f',
        params: 'void *ctx',
        src: 1,
        body: [
          { k: 'expr', e: call('a'), src: 3 },
          { k: 'expr', e: call('b'), src: 3 },
          { k: 'if', c: id('c'), then: [{ k: 'expr', e: call('d'), src: 5 }], src: 4 },
          { k: 'return', e: num(0) },
        ],
      },
    ],
  };
  const lines = printProgram(p, { cFileName: 'x.bpf.c', lineDirectives: true }).split('\n');
  // Simulate the preprocessor: compute which file:line clang assigns to every line.
  let file = 'x.bpf.c';
  let line = 1;
  const where = new Map<string, string>();
  for (const l of lines) {
    const m = /^#line (\d+) "(.*)"$/.exec(l);
    if (m) {
      line = Number(m[1]);
      file = m[2]!;
      continue;
    }
    where.set(l.trim(), `${file}:${line}`);
    line++;
  }
  assert.equal(where.get('a();'), 'x.cap:3');
  assert.equal(where.get('b();'), 'x.cap:3');
  assert.equal(where.get('if (c) {'), 'x.cap:4');
  assert.equal(where.get('d();'), 'x.cap:5');
  assert.equal(where.get('return 0;'), 'x.cap:1');
  const license = lines.findIndex((l) => l.startsWith('char LICENSE'));
  assert.equal(where.get('char LICENSE[] SEC("license") = "GPL";'), `x.bpf.c:${license + 1}`);
});
