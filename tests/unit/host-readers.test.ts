// tests/unit/host-readers.test.ts — the runtime's readers of machine facts:
// tracefs format files, ELF symbol tables, the dynamic linker cache.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { readFunctionSymbols } from '../../runtime/symbols/elf.js';
import { findFunctionSymbols } from '../../runtime/symbols/elf-symbols.js';
import { parseFormat } from '../../runtime/host/tracefs.js';
import { ldconfigEntries, readLdSoCache, resolveBinary } from '../../runtime/host/libraries.js';
import { Symbolizer } from '../../runtime/symbols/symbolize.js';
import { elfMachine, readDynamic, resolveNeeded } from '../../runtime/symbols/elf-dynamic.js';
import { readUsdtNotes } from '../../runtime/host/usdt-notes.js';
import { buildTarget } from '../support/targets.js';
import { requireSdt } from '../support/kernel.js';

const FORMAT = `name: sys_enter_openat
ID: 782
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:int __syscall_nr;	offset:8;	size:4;	signed:1;
	field:const char * filename;	offset:24;	size:8;	signed:0;
	field:char prev_comm[16];	offset:32;	size:16;	signed:0;
	field:__data_loc char[] name;	offset:48;	size:4;	signed:0;
	field:unsigned long args[6];	offset:56;	size:48;	signed:0;

print fmt: "x"
`;

test('tracefs format files parse into typed fields (common_* dropped)', () => {
  const f = parseFormat('syscalls', 'sys_enter_openat', FORMAT);
  assert.deepEqual(f.fields, [
    { name: '__syscall_nr', type: 'int', offset: 8, size: 4, signed: true },
    { name: 'filename', type: 'const char *', offset: 24, size: 8, signed: false },
    { name: 'prev_comm', type: 'char[16]', offset: 32, size: 16, signed: false },
    { name: 'name', type: '__data_loc char[]', offset: 48, size: 4, signed: false },
    { name: 'args', type: 'unsigned long[6]', offset: 56, size: 48, signed: false },
  ]);
});

test('ELF symbols: the running node binary has main and is read lazily', () => {
  const syms = readFunctionSymbols(process.execPath);
  assert.ok(syms.length > 1000, `${syms.length} symbols`);
  assert.ok(syms.some((s) => s.name === 'main' || s.name.startsWith('_ZN4node')));
});

test('a name with several versions is its default one (@@), as the dynamic linker binds calls to it', () => {
  // glibc: memcpy@GLIBC_2.2.5 is an old plain wrapper, memcpy@@GLIBC_2.14 the IFUNC programs call.
  const libc = ldconfigEntries().find((e) => e.soname === 'libc.so.6' && e.arch.endsWith(',x86-64'))!.path;
  const memcpy = readFunctionSymbols(libc).find((s) => s.name === 'memcpy')!;
  assert.equal(memcpy.ifunc, true);
  assert.deepEqual(findFunctionSymbols(libc, ['memcpy']).found.get('memcpy'), {
    value: memcpy.value,
    size: memcpy.size,
    ifunc: true,
  });
});

test('ELF reader rejects files that are not ELF', () => {
  assert.throws(() => readFunctionSymbols('/etc/hostname'), /not an ELF file/);
});

test('library short names resolve through ldconfig; paths must exist', (t) => {
  if (!fs.existsSync('/sbin/ldconfig') && !fs.existsSync('/usr/sbin/ldconfig')) return t.skip('no ldconfig');
  assert.ok(ldconfigEntries().length > 10);
  const libc = resolveBinary('libc');
  assert.ok(libc.ok && /libc\.so/.test(libc.value), JSON.stringify(libc));
  const missing = resolveBinary('libdefinitelynotthere');
  assert.equal(missing.ok, false);
  assert.equal(resolveBinary('/no/such/file').ok, false);
  const sh = resolveBinary('sh');
  assert.ok(sh.ok, 'programs on PATH resolve');
});

test("the dynamic linker's cache read from /etc/ld.so.cache is what ldconfig -p prints", (t) => {
  const bin = ['/sbin/ldconfig', '/usr/sbin/ldconfig'].find((f) => fs.existsSync(f));
  if (!bin || !fs.existsSync('/etc/ld.so.cache')) return t.skip('no ldconfig or /etc/ld.so.cache');
  const printed = [
    ...execFileSync(bin, ['-p'], { encoding: 'utf8' }).matchAll(/^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)/gm),
  ].map((m) => ({ soname: m[1]!, path: m[3]!, arch: m[2]! }));
  const read = readLdSoCache();
  assert.ok(read, 'this machine has the glibc-ld.so.cache1.1 format');
  assert.ok(printed.length > 10);
  assert.deepEqual(read, printed);
  // Another format (or not a cache at all) is left to ldconfig.
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-ldcache-'));
  fs.writeFileSync(path.join(d, 'old'), 'ld.so-1.7.0\0\0\0\0');
  assert.equal(readLdSoCache(path.join(d, 'old')), undefined);
  fs.writeFileSync(path.join(d, 'short'), Buffer.concat([fs.readFileSync('/etc/ld.so.cache').subarray(0, 100)]));
  assert.equal(readLdSoCache(path.join(d, 'short')), undefined, 'a truncated cache is not read');
});

test('USDT notes: providers, names, argument counts, semaphores', (t) => {
  if (!requireSdt(t)) return;
  const notes = readUsdtNotes(buildTarget('workload'));
  assert.deepEqual(
    notes.map((n) => [n.provider, n.name, n.args, n.semaphore]),
    [
      ['capc', 'tick', 2, true],
      ['capc', 'guarded', 1, true],
    ],
  );
});

test('symbolizer: a uprobe address locates a binary whose process is gone', () => {
  const path = buildTarget('workload');
  const syms = new Map(readFunctionSymbols(path).map((s) => [s.name, s.value]));
  const bias = 0x5555_0000_0000n;
  const s = new Symbolizer();
  // pid 0x7fffffff does not exist: only the probe's address (fn_add entry, after the int3) can help
  const ip = bias + syms.get('fn_add')! + 1n;
  // The module (for ustack(perf)) is the probed binary.
  assert.deepEqual(s.resolve(0x7fffffff, bias + syms.get('leaf')! + 4n, { path, func: 'fn_add', offset: 0 }, ip), {
    name: 'leaf',
    offset: 4n,
    module: path,
  });
  assert.equal(
    s.resolve(0x7fffffff, 0x7f00_0000_1000n, { path, func: 'fn_add', offset: 0 }, ip),
    undefined,
    'outside the binary: unknown',
  );
  assert.equal(s.resolve(0x7fffffff, bias + syms.get('leaf')!), undefined, 'no maps and no probe address: unknown');
});

test("a needed library resolves to one of the program's architecture, as the dynamic linker takes it", () => {
  const self = readDynamic(fs.realpathSync(process.execPath));
  assert.equal(self.machine, 62, 'node here is an x86-64 ELF file (EM_X86_64)');
  assert.ok(self.needed.includes('libc.so.6'));
  const libc = ldconfigEntries().find((e) => e.soname === 'libc.so.6' && e.arch.endsWith(',x86-64'))!.path;
  // A multiarch i386 libc listed first, with the same soname: passed over.
  const cache = [{ soname: 'libc.so.6', path: '/lib/i386-linux-gnu/libc.so.6', arch: 'libc6' }, ...ldconfigEntries()];
  assert.equal(resolveNeeded('libc.so.6', [], cache, 62), libc);
  // A RUNPATH directory holding a 32-bit build of the library: passed over for the cache's.
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-runpath-'));
  const elf32 = Buffer.alloc(52);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]).copy(elf32);
  elf32.writeUInt16LE(3, 0x12); // EM_386
  fs.writeFileSync(path.join(d, 'libc.so.6'), elf32);
  assert.equal(resolveNeeded('libc.so.6', [d], cache, 62), libc);
  // ... and one of the program's machine is taken first, as ld.so does.
  fs.copyFileSync(libc, path.join(d, 'libc.so.6'));
  assert.equal(resolveNeeded('libc.so.6', [d], cache, 62), path.join(d, 'libc.so.6'));
  assert.equal(elfMachine(path.join(d, 'libc.so.6')), 62);
  fs.rmSync(d, { recursive: true, force: true });
  assert.equal(resolveNeeded('libnosuch.so.9', [], cache, 62), undefined);
});
