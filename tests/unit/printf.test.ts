// tests/unit/printf.test.ts — printf formats: parsing in the compiler, and
// formatting in the runtime with C semantics (checked against C's own output
// for a table of cases).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFormat } from '../../compiler/2-analyze/printf-format.js';
import { formatPrintf } from '../../runtime/format/printf.js';
import { ResolvedPart, type PrintfValue } from '../../runtime/events/model.js';

const fmt = (f: string, ...vals: PrintfValue[]) =>
  formatPrintf(parseFormat(Buffer.from(f, 'latin1')).segments, vals).toString('latin1');

test('parsing finds conversions, flags, widths and literal %%', () => {
  const r = parseFormat(Buffer.from('pid %-6d %08x %s %% %lld %5.2s\n'));
  assert.equal(r.argCount, 5);
  assert.deepEqual(r.problems, []);
  const convs = r.segments.filter((s) => 'conv' in s);
  assert.deepEqual(
    convs.map((s) => ('conv' in s ? [s.conv, s.flags, s.width, s.precision] : null)),
    [
      ['d', '-', 6, undefined],
      ['x', '0', 8, undefined],
      ['s', '', undefined, undefined],
      ['d', '', undefined, undefined],
      ['s', '', 5, 2],
    ],
  );
});

test('bpftrace extras %r %rx %rh parse', () => {
  const r = parseFormat(Buffer.from('%r %rx %rh'));
  assert.deepEqual(
    r.segments.filter((s) => 'conv' in s).map((s) => ('conv' in s ? s.conv : '')),
    ['r', 'rx', 'rh'],
  );
});

test('unknown conversions and a trailing % are problems', () => {
  assert.equal(parseFormat(Buffer.from('%y')).problems.length, 1);
  assert.equal(parseFormat(Buffer.from('abc %')).problems.length, 1);
  assert.match(parseFormat(Buffer.from('%q')).problems[0]!.message, /unknown conversion '%q'/);
});

test('integer conversions follow C', () => {
  const cases: [string, PrintfValue[], string][] = [
    ['%d', [-5n], '-5'],
    ['%d', [2n ** 64n - 1n], '-1'],
    ['%lu', [-1n], '18446744073709551615'],
    ['%i', [7n], '7'],
    ['%5d|', [42n], '   42|'],
    ['%-5d|', [42n], '42   |'],
    ['%05d', [42n], '00042'],
    ['%05d', [-42n], '-0042'],
    ['%+d %+d', [3n, -3n], '+3 -3'],
    ['% d', [3n], ' 3'],
    ['%x %X', [255n, 255n], 'ff FF'],
    ['%#x %#o', [255n, 8n], '0xff 010'],
    ['%08x', [0xbeefn], '0000beef'],
    ['%#08x', [0xbeefn], '0x00beef'],
    ['%.3d', [5n], '005'],
    ['%o', [8n], '10'],
    ['%p', [0x7ffd1234n], '0x7ffd1234'],
    ['%c%c', [72n, 105n], 'Hi'],
    ['%3c|', [65n], '  A|'],
    ['%lu %lld %hhd', [1n, 2n, 3n], '1 2 3'],
  ];
  for (const [f, v, want] of cases) assert.equal(fmt(f, ...v), want, f);
});

test('strings stop at NUL; width, left-justify and precision apply', () => {
  const s = Buffer.from('hello\0garbage');
  assert.equal(fmt('[%s]', s), '[hello]');
  assert.equal(fmt('[%8s]', s), '[   hello]');
  assert.equal(fmt('[%-8s]', s), '[hello   ]');
  assert.equal(fmt('[%.3s]', s), '[hel]');
  assert.equal(fmt('[%2s]', s), '[hello]');
});

test('bytes pass through untouched, whatever their encoding', () => {
  const raw = Buffer.from([0xff, 0xfe, 0x41, 0]);
  assert.deepEqual([...formatPrintf(parseFormat(Buffer.from('%s')).segments, [raw])], [0xff, 0xfe, 0x41]);
  assert.deepEqual(
    [...formatPrintf(parseFormat(Buffer.from([0xe2, 0x86, 0x92, 0x25, 0x64])).segments, [1n])],
    [0xe2, 0x86, 0x92, 0x31],
  );
});

test('%r, %rx, %rh print buf() bytes as bpftrace 0.17 does', () => {
  const b = { buf: Buffer.from([0x68, 0x69, 0x01, 0x02, 0x78, 0x7f, 0xff, 0x5c, 0x22, 0x00, 0x7a]) };
  assert.equal(
    fmt('[%r] [%rx] [%rh]', b, b, b),
    '[hi\\x01\\x02x\\x7f\\xff\\"\\x00z] [\\x68\\x69\\x01\\x02\\x78\\x7f\\xff\\x5c\\x22\\x00\\x7a] [68 69 01 02 78 7f ff 5c 22 00 7a]',
  );
});

test('integers are 64-bit arguments read through the length modifier, as C and bpftrace 0.17 read them', () => {
  const seg = parseFormat(Buffer.from('%d %u %x %d %lu')).segments;
  // (uint32)0x80000000, (int8)-1 with %u, (uint16)0xffff with %x, (uint8)200, a 64-bit -1
  assert.equal(
    formatPrintf(seg, [0x80000000n, -1n, 0xffffn, 200n, -1n]).toString(),
    '-2147483648 4294967295 ffff 200 18446744073709551615',
  );
  // Printed by bpftrace 0.17 for 0x1122334455667788, -1 and 255 (tests/differential has the live comparison).
  const big = 0x1122334455667788n;
  const table: [string, string][] = [
    ['%x', '55667788 ffffffff ff'],
    ['%lx', '1122334455667788 ffffffffffffffff ff'],
    ['%llx', '1122334455667788 ffffffffffffffff ff'],
    ['%d', '1432778632 -1 255'],
    ['%ld', '1234605616436508552 -1 255'],
    ['%u', '1432778632 4294967295 255'],
    ['%llu', '1234605616436508552 18446744073709551615 255'],
    ['%hhx', '88 ff ff'],
    ['%hx', '7788 ffff ff'],
    ['%hd', '30600 -1 255'],
    ['%hhd', '-120 -1 -1'],
    ['%hu', '30600 65535 255'],
    ['%hhu', '136 255 255'],
    ['%o', '12531473610 37777777777 377'],
    ['%lo', '104421464212531473610 1777777777777777777777 377'],
    ['%X', '55667788 FFFFFFFF FF'],
    ['%p', '0x1122334455667788 0xffffffffffffffff 0xff'],
    ['%zd', '1234605616436508552 -1 255'],
    ['%.3d', '1432778632 -001 255'],
    ['%05d', '1432778632 -0001 00255'],
  ];
  for (const [f, want] of table) assert.equal(fmt(`${f} ${f} ${f}`, big, -1n, 255n), want, f);
});

test('resolved values print as text with %s', () => {
  assert.equal(fmt('[%s][%-8s]', new ResolvedPart('127.0.0.1'), new ResolvedPart('main')), '[127.0.0.1][main    ]');
});
