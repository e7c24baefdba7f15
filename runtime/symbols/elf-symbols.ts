// runtime/symbols/elf-symbols.ts — finds a few named function symbols in an ELF
// file without decoding every name: discovery looks at every executable of
// every process, and node alone has 200,000 symbols (decoding them all took
// over a second here). Each symbol's name is compared in place, as bytes,
// only with the wanted names that start with the same byte.
import fs from 'node:fs';
import { readAt, readSections, type ElfSection } from './elf.js';

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;

export interface NamedSymbol {
  value: bigint;
  size: bigint;
}

/**
 * Defined function symbols among `names` (dynamic table first), and whether
 * the file has any symbol table. When every name in `enough` is found in the
 * dynamic table, the static one (node's is 10 MB) is not read.
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
      // Candidate names by first byte; each symbol's name is compared in place, bytes only.
      const byFirst = new Map<number, Buffer[]>();
      for (const n of names) {
        if (found.has(n)) continue;
        const b = Buffer.from(`${n}\0`, 'latin1');
        byFirst.set(b[0]!, [...(byFirst.get(b[0]!) ?? []), b]);
      }
      if (!byFirst.size) continue;
      const syms = readAt(fd, tab.offset, tab.size);
      for (let o = 0; o + 24 <= syms.length; o += 24) {
        const at = syms.readUInt32LE(o);
        const cands = byFirst.get(strtab[at]!);
        if (!cands) continue;
        const hit = cands.find(
          (b) => at + b.length <= strtab.length && strtab.compare(b, 0, b.length, at, at + b.length) === 0,
        );
        if (!hit) continue;
        const name = hit.toString('latin1', 0, hit.length - 1);
        if (found.has(name)) continue;
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
