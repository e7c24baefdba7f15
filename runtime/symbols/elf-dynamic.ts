// runtime/symbols/elf-dynamic.ts — an ELF file's dynamic section: the
// libraries it needs (DT_NEEDED) and its RUNPATH, and where the dynamic linker
// finds each of them. TLS discovery follows them to the TLS library a program
// will load; the compiler's host asks which library defines a function a stub
// library only names (W0103).
import fs from 'node:fs';
import path from 'node:path';
import { readAt, readSections } from './elf.js';

export interface DynamicSection {
  needed: string[];
  runpath: string[];
  /** The file's e_machine (EM_X86_64 is 62): the libraries it needs must be of the same. */
  machine: number;
}

/** DT_NEEDED entries and the DT_RUNPATH/DT_RPATH directories ($ORIGIN resolved) of an ELF file. */
export function readDynamic(file: string): DynamicSection {
  const fd = fs.openSync(file, 'r');
  try {
    const secs = readSections(fd); // 64-bit little-endian files only (it throws on others)
    const machine = readAt(fd, 0x12, 2).readUInt16LE(0);
    const dyn = secs.find((s) => s.name === '.dynamic');
    const dynstr = secs.find((s) => s.name === '.dynstr');
    if (!dyn || !dynstr) return { needed: [], runpath: [], machine };
    const d = readAt(fd, dyn.offset, dyn.size);
    const str = readAt(fd, dynstr.offset, dynstr.size);
    const at = (o: number) => {
      const start = Number(d.readBigUInt64LE(o + 8));
      const end = str.indexOf(0, start);
      return str.toString('latin1', start, end < 0 ? undefined : end);
    };
    const needed: string[] = [];
    const runpath: string[] = [];
    for (let o = 0; o + 16 <= d.length; o += 16) {
      const tag = Number(d.readBigInt64LE(o));
      if (tag === 0) break;
      if (tag === 1 /* DT_NEEDED */) needed.push(at(o));
      if (tag === 29 /* DT_RUNPATH */ || tag === 15 /* DT_RPATH */)
        runpath.push(
          ...at(o)
            .split(':')
            .map((p) => p.replace(/\$(\{ORIGIN\}|ORIGIN)/g, path.dirname(file))),
        );
    }
    return { needed, runpath, machine };
  } finally {
    fs.closeSync(fd);
  }
}

/** The names ldconfig gives the 64-bit machines in its cache entries' flags (runtime/host/libraries.ts). */
const LD_ARCH: Record<number, string> = { 62: 'x86-64', 183: 'AArch64', 43: 'SPARC 64-bit', 50: 'IA-64' };
/** Debian's multiarch directories by machine. */
const MULTIARCH: Record<number, string> = { 62: 'x86_64-linux-gnu', 183: 'aarch64-linux-gnu' };

/** The e_machine of a 64-bit little-endian ELF file (EM_X86_64 is 62); undefined for anything else. */
export function elfMachine(file: string): number | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const h = readAt(fd, 0, 20);
    return h.readUInt32BE(0) === 0x7f454c46 && h[4] === 2 && h[5] === 1 ? h.readUInt16LE(0x12) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Where the dynamic linker would find `soname` for a program of `machine` with `runpath` (approximately: no
 * LD_LIBRARY_PATH). As ld.so does, a library of another architecture (a multiarch i386 libc beside the x86-64
 * one, with the same soname in the cache) is passed over.
 */
export function resolveNeeded(
  soname: string,
  runpath: string[],
  ldcache: { soname: string; path: string; arch: string }[],
  machine: number,
): string | undefined {
  const ok = (p: string) => fs.existsSync(p) && elfMachine(p) === machine;
  for (const dir of runpath) if (ok(path.join(dir, soname))) return path.join(dir, soname);
  const arch = LD_ARCH[machine];
  const hit = ldcache.find((e) => e.soname === soname && (arch ? e.arch.endsWith(`,${arch}`) : ok(e.path)));
  if (hit) return hit.path;
  const multiarch = MULTIARCH[machine];
  const dirs = [
    ...(multiarch ? [`/lib/${multiarch}`, `/usr/lib/${multiarch}`] : []),
    '/lib64',
    '/usr/lib64',
    '/lib',
    '/usr/lib',
  ];
  for (const dir of dirs) if (ok(path.join(dir, soname))) return path.join(dir, soname);
  return undefined;
}
