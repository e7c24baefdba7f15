// runtime/symbols/elf-symbols.ts — finds a few named function symbols in an ELF
// file without decoding every name: discovery looks at every executable of
// every process, and node alone has 200,000 symbols (decoding them all took
// over a second here). Each defined function's name is compared in place, as
// bytes, only with the wanted names that start with the same byte.
import fs from 'node:fs';
import { readAt, readSections, readVersions, versionHidden, type ElfSection } from './elf.js';

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;

export interface NamedSymbol {
  value: bigint;
  size: bigint;
  /** STT_GNU_IFUNC: the symbol is the resolver that picks an implementation at load time. */
  ifunc: boolean;
}

/**
 * Defined function symbols among `names` (dynamic table first), and whether
 * the file has any symbol table. When every name in `enough` is found in the
 * dynamic table, the static one (node's is 10 MB) is not read. A name the
 * dynamic table defines in several versions is its default version
 * (`name@@VER`), the one the dynamic linker binds a program's calls to: glibc's
 * memcpy@GLIBC_2.2.5 is an old wrapper no program built since 2011 calls, at
 * another address than memcpy@@GLIBC_2.14.
 */
export function findFunctionSymbols(
  file: string,
  names: string[],
  sections?: ElfSection[],
  enough: string[] = [],
): { found: Map<string, NamedSymbol>; hasSymbols: boolean } {
  const fd = fs.openSync(file, 'r');
  try {
    const secs = sections ?? readSections(fd);
    const found = new Map<string, NamedSymbol>();
    const tables = [SHT_DYNSYM, SHT_SYMTAB].flatMap((t) => secs.filter((s) => s.type === t));
    for (const tab of tables) {
      if (tab.type === SHT_SYMTAB && enough.length && enough.every((n) => found.has(n))) break;
      const strsec = secs[tab.link];
      if (!strsec || !tab.entsize) continue;
      const strtab = readAt(fd, strsec.offset, strsec.size);
      // Candidate names by first byte; a defined function's name is compared in place, byte by
      // byte in JavaScript (Buffer.compare per candidate cost ~1 µs each: ~20 ms for libssl).
      const byFirst: ({ name: string; bytes: Buffer }[] | undefined)[] = new Array(256);
      let any = false;
      for (const name of names) {
        if (found.has(name)) continue;
        const bytes = Buffer.from(`${name}\0`, 'latin1');
        (byFirst[bytes[0]!] ??= []).push({ name, bytes });
        any = true;
      }
      if (!any) continue;
      const syms = readAt(fd, tab.offset, tab.size);
      const versions = tab.type === SHT_DYNSYM ? readVersions(fd, secs) : undefined;
      /** Names found so far only in a non-default version: a default one found later replaces them. */
      const hidden = new Set<string>();
      for (let o = 0; o + 24 <= syms.length; o += 24) {
        const type = syms[o + 4]! & 0xf;
        if ((type !== STT_FUNC && type !== STT_GNU_IFUNC) || syms.readUInt16LE(o + 6) === 0) continue;
        const at = syms.readUInt32LE(o);
        const cands = byFirst[strtab[at]!];
        if (!cands) continue;
        const hit = cands.find((c) => sameBytes(strtab, at, c.bytes));
        if (!hit) continue;
        const isHidden = versionHidden(versions, o / 24);
        if (found.has(hit.name) && (isHidden || !hidden.has(hit.name))) continue;
        if (isHidden) hidden.add(hit.name);
        else hidden.delete(hit.name);
        found.set(hit.name, {
          value: syms.readBigUInt64LE(o + 8),
          size: syms.readBigUInt64LE(o + 16),
          ifunc: type === STT_GNU_IFUNC,
        });
      }
    }
    return { found, hasSymbols: tables.length > 0 };
  } finally {
    fs.closeSync(fd);
  }
}

/** Does `buf` hold the bytes of `b` (a name and its NUL) at `at`? */
function sameBytes(buf: Buffer, at: number, b: Buffer): boolean {
  if (at + b.length > buf.length) return false;
  for (let i = 0; i < b.length; i++) if (buf[at + i] !== b[i]) return false;
  return true;
}
