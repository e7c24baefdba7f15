// runtime/tls/elf-symbols.ts — finds a few named function symbols in an ELF
// file without decoding every name: discovery looks at every executable of
// every process, and node alone has 200,000 symbols (reading them all took
// over a second here). Each wanted name is found in the string tables first
// (as bytes), so the symbol tables are scanned comparing integers only.
import fs from 'node:fs';
import { readAt, readSections, type ElfSection } from '../host/elf.js';

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;

export interface NamedSymbol {
  value: bigint;
  size: bigint;
}

/** Offsets in `strtab` where `name` starts as a whole NUL-terminated string. */
function offsetsOf(strtab: Buffer, name: string): number[] {
  const needle = Buffer.from(`${name}\0`, 'latin1');
  const out: number[] = [];
  for (let at = strtab.indexOf(needle); at >= 0; at = strtab.indexOf(needle, at + 1))
    if (at === 0 || strtab[at - 1] === 0) out.push(at);
  return out;
}

/** Defined function symbols among `names` (dynamic table first), and whether the file has any symbol table. */
export function findFunctionSymbols(
  file: string,
  names: string[],
  sections?: ElfSection[],
): { found: Map<string, NamedSymbol>; hasSymbols: boolean } {
  const fd = fs.openSync(file, 'r');
  try {
    const secs = sections ?? readSections(fd);
    const found = new Map<string, NamedSymbol>();
    const tables = [SHT_DYNSYM, SHT_SYMTAB].flatMap((t) => secs.filter((s) => s.type === t));
    for (const tab of tables) {
      const strsec = secs[tab.link];
      if (!strsec || !tab.entsize) continue;
      const strtab = readAt(fd, strsec.offset, strsec.size);
      const wanted = new Map<number, string>();
      for (const n of names) if (!found.has(n)) for (const o of offsetsOf(strtab, n)) wanted.set(o, n);
      if (!wanted.size) continue;
      const syms = readAt(fd, tab.offset, tab.size);
      for (let o = 0; o + 24 <= syms.length; o += 24) {
        const name = wanted.get(syms.readUInt32LE(o));
        if (name === undefined || found.has(name)) continue;
        const type = syms[o + 4]! & 0xf;
        if ((type !== STT_FUNC && type !== STT_GNU_IFUNC) || syms.readUInt16LE(o + 6) === 0) continue;
        found.set(name, { value: syms.readBigUInt64LE(o + 8), size: syms.readBigUInt64LE(o + 16) });
      }
    }
    return { found, hasSymbols: tables.length > 0 };
  } finally {
    fs.closeSync(fd);
  }
}
