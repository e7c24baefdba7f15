// runtime/symbols/elf-dynamic.ts — an ELF file's dynamic section: the
// libraries it needs (DT_NEEDED) and its RUNPATH, and where the dynamic linker
// finds each of them. TLS discovery follows them to the TLS library a program
// will load; the compiler's host asks which library defines a function a stub
// library only names (W0103).
import fs from 'node:fs';
import path from 'node:path';
import { readAt, readSections } from './elf.js';

/** DT_NEEDED entries and the DT_RUNPATH/DT_RPATH directories ($ORIGIN resolved) of an ELF file. */
export function readDynamic(file: string): { needed: string[]; runpath: string[] } {
  const fd = fs.openSync(file, 'r');
  try {
    const secs = readSections(fd);
    const dyn = secs.find((s) => s.name === '.dynamic');
    const dynstr = secs.find((s) => s.name === '.dynstr');
    if (!dyn || !dynstr) return { needed: [], runpath: [] };
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
    return { needed, runpath };
  } finally {
    fs.closeSync(fd);
  }
}

/** Where the dynamic linker would find `soname` for a program with `runpath` (approximately: no LD_LIBRARY_PATH). */
export function resolveNeeded(
  soname: string,
  runpath: string[],
  ldcache: { soname: string; path: string }[],
): string | undefined {
  for (const dir of runpath) if (fs.existsSync(path.join(dir, soname))) return path.join(dir, soname);
  const hit = ldcache.find((e) => e.soname === soname);
  if (hit) return hit.path;
  for (const dir of ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib64', '/usr/lib64', '/lib', '/usr/lib'])
    if (fs.existsSync(path.join(dir, soname))) return path.join(dir, soname);
  return undefined;
}
