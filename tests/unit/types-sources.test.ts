// tests/unit/types-sources.test.ts — the type model (compiler/2-analyze/
// types.ts) and its three sources, each against an independent witness:
// the script's C laid out by clang (runtime/build/c-definitions.ts) and a
// binary's DWARF (runtime/host/dwarf.ts) against offsetof/sizeof and bitfield
// positions printed by a C program compiled from the same definitions; the
// kernel's BTF (runtime/host/btf.ts) against `bpftool btf dump`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import type { CField, CTypeDecl } from '../../compiler/index.js';
import {
  alignOf,
  arithResult,
  inSpace,
  pointerTo,
  sameShape,
  sizeOf,
  tupleLayout,
  typeName,
  type Type,
} from '../../compiler/2-analyze/types.js';
import { readCDefinitions } from '../../runtime/build/c-definitions.js';
import { Btf } from '../../runtime/host/btf.js';
import { DwarfFile } from '../../runtime/host/dwarf.js';
import { requireTool } from '../support/kernel.js';

const I32: Type = { k: 'int', bytes: 4, signed: true };
const U8: Type = { k: 'int', bytes: 1, signed: false };
const U64: Type = { k: 'int', bytes: 8, signed: false };
const POINT: Type = { k: 'record', key: 'c:struct point', name: 'struct point', size: 8, align: 4 };

test('type model: sizes, alignment and tuple layout follow C natural alignment', () => {
  const grid: Type = { k: 'array', elem: { k: 'array', elem: I32, count: 3 }, count: 2 };
  assert.equal(sizeOf(grid), 24);
  assert.equal(alignOf(grid), 4);
  assert.equal(typeName(grid), 'int32[2][3]');
  assert.equal(typeName({ k: 'array', elem: U8, count: 0 }), 'uint8[]');
  // (u8, i64, u8, point): 0, 8, 16, 20; size 32 (aligned to 8).
  assert.deepEqual(tupleLayout([U8, { k: 'int', bytes: 8, signed: true }, U8, POINT]), {
    offsets: [0, 8, 16, 20],
    size: 32,
  });
  assert.deepEqual(tupleLayout([U8, U8]), { offsets: [0, 1], size: 2 });
  assert.equal(sizeOf({ k: 'tuple', elems: [I32, { k: 'str', size: 5 }] }), 12);
  assert.equal(
    typeName({ k: 'tuple', elems: [I32, { k: 'tuple', elems: [U8, POINT] }] }),
    '(int32, (uint8, struct point))',
  );
});

test('type model: pointers carry their address space and pointee', () => {
  const p = pointerTo(POINT, 'user');
  assert.equal(sizeOf(p), 8);
  assert.equal(typeName(p), 'struct point * (user)');
  assert.equal(typeName(pointerTo(pointerTo(I32, 'kernel'), 'kernel')), 'int32 **');
  // A record's fields are read from where the record was: its pointers point there too.
  const inUser = inSpace({ k: 'array', elem: pointerTo(POINT, 'kernel'), count: 2 }, 'user');
  assert.equal(inUser.k === 'array' && inUser.elem.k === 'int' && inUser.elem.space, 'user');
  assert.equal(
    inSpace(POINT, 'kernel').k === 'record' && (inSpace(POINT, 'kernel') as { space?: string }).space,
    'kernel',
  );
  // 'packet' is an address space like the others (packet probes build on it).
  assert.equal(pointerTo(U8, 'packet').space, 'packet');
});

test('type model: shapes compare records by identity, arrays and tuples element by element', () => {
  const other: Type = { ...POINT, key: 'btf:struct point' };
  assert.ok(sameShape(POINT, { ...POINT }));
  assert.ok(!sameShape(POINT, other));
  assert.ok(sameShape({ k: 'array', elem: POINT, count: 3 }, { k: 'array', elem: POINT, count: 3 }));
  assert.ok(!sameShape({ k: 'array', elem: POINT, count: 3 }, { k: 'array', elem: POINT, count: 2 }));
  assert.ok(!sameShape({ k: 'tuple', elems: [I32, POINT] }, { k: 'tuple', elems: [I32, other] }));
  // Arithmetic is 64-bit; unsigned if a non-literal operand is.
  assert.deepEqual(arithResult(I32, U64), { k: 'int', bytes: 8, signed: false });
  assert.deepEqual(arithResult(I32, { ...U64, literal: true }), { k: 'int', bytes: 8, signed: true });
});

// ---- the script's C and DWARF against offsetof -----------------------------

/** Definitions with what a C ABI makes hard: padding, bitfields across units, unions, packing, alignment, anonymous members, flexible arrays. */
const DEFS = `#include <stdint.h>
struct inner { char c; long long v; };
struct tricky {
  char a;
  int b;
  short s[3];
  struct inner in;
  unsigned int f1 : 3, f2 : 7, f3 : 22;
  unsigned long long wide : 40;
  unsigned char tail : 4;
  union { int i; char bytes[6]; } u;
  struct { short lo, hi; };
  int grid[2][3];
  void *p;
  int flex[];
};
struct __attribute__((packed)) packed { char a; int b; short c; };
struct aligned { char a; int b __attribute__((aligned(16))); };
typedef struct inner inner_t;
`;

/** Fields to check: [record, field path, bitfield?]. */
const FIELDS: [string, string, boolean][] = [
  ['tricky', 'a', false],
  ['tricky', 'b', false],
  ['tricky', 's', false],
  ['tricky', 'in', false],
  ['tricky', 'f1', true],
  ['tricky', 'f2', true],
  ['tricky', 'f3', true],
  ['tricky', 'wide', true],
  ['tricky', 'tail', true],
  ['tricky', 'u', false],
  ['tricky', 'lo', false],
  ['tricky', 'hi', false],
  ['tricky', 'grid', false],
  ['tricky', 'p', false],
  ['tricky', 'flex', false],
  ['inner', 'v', false],
  ['packed', 'b', false],
  ['packed', 'c', false],
  ['aligned', 'b', false],
];

interface Witness {
  sizes: Record<string, number>;
  /** `record.field` → byte offset, or for bitfields the first bit set when the field is all ones (from bit 0 of the record) and its width. */
  fields: Record<string, { offset?: number; bit?: number; width?: number }>;
}

/** What a C program compiled from DEFS says: sizeof, offsetof, and bitfields found by setting them to all ones. */
function witness(dir: string): Witness {
  const lines = [
    DEFS,
    '#include <stdio.h>\n#include <stddef.h>\n#include <string.h>',
    'static int first_bit(const unsigned char *p, int n, int *width) { int first = -1, w = 0; for (int i = 0; i < n * 8; i++) if (p[i / 8] >> (i % 8) & 1) { if (first < 0) first = i; w++; } *width = w; return first; }',
    'int main(void) {',
    ...['tricky', 'inner', 'packed', 'aligned'].map((r) => `printf("size ${r} %zu\\n", sizeof(struct ${r}));`),
  ];
  for (const [r, f, bits] of FIELDS) {
    if (!bits) lines.push(`printf("field ${r}.${f} %zu\\n", offsetof(struct ${r}, ${f}));`);
    else
      lines.push(
        `{ struct ${r} x; int w; memset(&x, 0, sizeof x); x.${f} = -1; int b = first_bit((unsigned char *)&x, sizeof x, &w); printf("bits ${r}.${f} %d %d\\n", b, w); }`,
      );
  }
  lines.push('return 0; }');
  const src = path.join(dir, 'witness.c');
  fs.writeFileSync(src, lines.join('\n'));
  const exe = path.join(dir, 'witness');
  execFileSync('cc', ['-O0', '-g', '-fno-eliminate-unused-debug-types', '-o', exe, src], { stdio: 'pipe' });
  const out: Witness = { sizes: {}, fields: {} };
  for (const l of execFileSync(exe, { encoding: 'utf8' }).trim().split('\n')) {
    const [kind, name, a, b] = l.split(' ');
    if (kind === 'size') out.sizes[name!] = Number(a);
    else if (kind === 'field') out.fields[name!] = { offset: Number(a) };
    else out.fields[name!] = { bit: Number(a), width: Number(b) };
  }
  return out;
}

/** A field by name in a record, looking through anonymous members as C does; its offset from the record's start. */
function findField(
  decl: (name: string) => CTypeDecl | undefined,
  record: string,
  field: string,
): { f: CField; base: number } | undefined {
  const d = decl(record);
  if (d?.k !== 'record') return undefined;
  for (const f of d.record.fields) {
    if (f.name === field) return { f, base: 0 };
    if (f.name === '' && f.type.k === 'record') {
      const inner = findField(decl, `${f.type.union ? 'union' : 'struct'} ${f.type.name}`, field);
      if (inner) return { f: inner.f, base: f.offset + inner.base };
    }
  }
  return undefined;
}

function compareWithWitness(decl: (name: string) => CTypeDecl | undefined, w: Witness, source: string): void {
  for (const r of Object.keys(w.sizes)) {
    const d = decl(`struct ${r}`);
    assert.equal(d?.k === 'record' && d.record.size, w.sizes[r], `${source}: sizeof(struct ${r})`);
  }
  for (const [r, f, bits] of FIELDS) {
    const found = findField(decl, `struct ${r}`, f);
    assert.ok(found, `${source}: struct ${r} has ${f}`);
    const want = w.fields[`${r}.${f}`]!;
    if (!bits) assert.equal(found.base + found.f.offset, want.offset, `${source}: offsetof(struct ${r}, ${f})`);
    else {
      const bit = (found.base + found.f.offset) * 8 + (found.f.bitOffset ?? 0);
      assert.deepEqual([bit, found.f.bitSize], [want.bit, want.width], `${source}: bits of ${r}.${f}`);
    }
  }
}

function clangOrSkip(t: TestContext): boolean {
  return requireTool(t, 'clang') && requireTool(t, 'cc');
}

test("the script's C laid out by clang matches offsetof, bitfields and sizeof of a compiled program", (t) => {
  if (!clangOrSkip(t)) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-types-'));
  try {
    const w = witness(dir);
    const defs = readCDefinitions(`#line 1 "capc-script"\n${DEFS}`, []);
    assert.ok(defs.ok, JSON.stringify(defs));
    compareWithWitness((n) => defs.types[n], w, 'clang');
    const typedef = defs.types['inner_t'];
    assert.deepEqual(typedef, { k: 'typedef', name: 'inner_t', type: { k: 'record', union: false, name: 'inner' } });
    // The flexible member is an array of unknown length, the 2-D array an array of arrays.
    const flex = findField((n) => defs.types[n], 'struct tricky', 'flex')!.f;
    assert.deepEqual(flex.type, { k: 'array', elem: { k: 'int', bytes: 4, signed: true, name: 'int' }, count: 0 });
    const grid = findField((n) => defs.types[n], 'struct tricky', 'grid')!.f;
    assert.equal(
      grid.type.k === 'array' && grid.type.count === 2 && grid.type.elem.k === 'array' && grid.type.elem.count,
      3,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a binary's DWARF matches offsetof, bitfields and sizeof, and names its functions' parameters", (t) => {
  if (!clangOrSkip(t)) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-types-'));
  try {
    const w = witness(dir);
    const dwarf = new DwarfFile(path.join(dir, 'witness'));
    try {
      compareWithWitness((n) => dwarf.type(n), w, 'DWARF');
      assert.deepEqual(
        dwarf.functionParams('first_bit')?.map((p) => [p.name, p.text]),
        [
          ['p', 'const unsigned char*'],
          ['n', 'int'],
          ['width', 'int*'],
        ],
      );
      assert.equal(dwarf.functionParams('no_such_function'), undefined);
    } finally {
      dwarf.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('clang errors come back at the script line and column', (t) => {
  if (!clangOrSkip(t)) return;
  const defs = readCDefinitions(
    '#line 1 "capc-script"\nstruct ok { int a; };\n#line 7 "capc-script"\nstruct bad { int a; no_such_t b; };\n',
    [],
  );
  assert.ok(!defs.ok);
  assert.equal(defs.errors[0]?.line, 7);
  assert.equal(defs.errors[0]?.col, 21);
  assert.match(defs.errors[0]!.message, /unknown type name 'no_such_t'/);
});

// ---- BTF against bpftool --------------------------------------------------

/** `bpftool btf dump` of one struct: its size and each member's name, bit offset and bitfield size. */
function bpftoolStruct(name: string): { size: number; members: [string, number, number][] } {
  const out = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux'], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const at = out.indexOf(`] STRUCT '${name}' size=`);
  assert.ok(at >= 0, `bpftool has struct ${name}`);
  const lines = out.slice(at).split('\n');
  const size = Number(/size=(\d+)/.exec(lines[0]!)![1]);
  const members: [string, number, number][] = [];
  for (const l of lines.slice(1)) {
    const m = /^\t'([^']*)' type_id=\d+ bits_offset=(\d+)(?: bitfield_size=(\d+))?$/.exec(l);
    if (!m) break;
    members.push([m[1] === '(anon)' ? '' : m[1]!, Number(m[2]), Number(m[3] ?? 0)]);
  }
  return { size, members };
}

test("the kernel's BTF matches bpftool's dump: sizes, member offsets and bitfields", (t) => {
  if (!requireTool(t, 'bpftool') || !fs.existsSync('/sys/kernel/btf/vmlinux')) {
    if (process.env.CAPC_REQUIRE_KERNEL === '1') assert.fail('no bpftool or /sys/kernel/btf/vmlinux');
    return;
  }
  const btf = Btf.load();
  for (const name of ['task_struct', 'sock_common', 'sk_buff', 'list_head', 'file']) {
    const want = bpftoolStruct(name);
    const got = btf.kernelType(`struct ${name}`);
    assert.ok(got?.k === 'record', `struct ${name} from BTF`);
    assert.equal(got.record.size, want.size, `sizeof(struct ${name})`);
    assert.deepEqual(
      got.record.fields.map((f) => [f.name, f.offset * 8 + (f.bitOffset ?? 0), f.bitSize ?? 0]),
      want.members,
      `members of struct ${name}`,
    );
  }
  assert.equal(
    btf
      .rawTracepointArgs('sched_switch')
      ?.map((p) => p.name)
      .join(','),
    'preempt,prev,next,prev_state',
  );
});

test('C definitions: -I directories are searched before the system headers, and --include lines have their own errors', (t) => {
  if (!requireTool(t, 'clang')) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-inc-'));
  try {
    fs.writeFileSync(path.join(dir, 'capc-own.h'), '#define OWN_VAL 7\nstruct own { char a; long b; };\n');
    const text = '#line 1 "capc-include"\n#include "capc-own.h"\n';
    const found = readCDefinitions(text, ['OWN_VAL'], [dir]);
    assert.ok(found.ok, JSON.stringify(found));
    assert.equal(found.macros.OWN_VAL ?? found.constants.OWN_VAL, '7');
    const own = found.types['struct own'];
    assert.ok(own?.k === 'record' && own.record.size === 16, JSON.stringify(own));
    // Without the directory: clang's "file not found", said as --include's, at no script line.
    const missing = readCDefinitions(text, ['OWN_VAL'], []);
    assert.ok(!missing.ok);
    assert.deepEqual(missing.errors, [{ line: 0, col: 0, message: "--include: 'capc-own.h' file not found" }]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
