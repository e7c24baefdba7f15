// runtime/symbols/func-offset.ts — where a uprobe on a named function goes:
// the file offset of its symbol, resolved here instead of by libbpf. libbpf
// 1.1 (Debian 12) refuses a name that two global symbols carry, as glibc's
// versioned ones do (pthread_create@GLIBC_2.2.5 and pthread_create@@GLIBC_2.34,
// one address), with "Unknown error 4001"; capc's own ELF reader takes the
// first definition (dynamic table first), as the dynamic linker does.
import fs from 'node:fs';
import { readFunctionSymbols, readLoadSegments, type ElfSymbol, type LoadSegment } from './elf.js';

interface FileFunctions {
  id: string;
  symbols: Map<string, ElfSymbol>;
  segments: LoadSegment[];
}

// One read per file and run (a program probes many functions of one library); re-read if the file changes.
const files = new Map<string, FileFunctions>();

function functionsOf(path: string): FileFunctions {
  const st = fs.statSync(path, { bigint: true });
  const id = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
  let f = files.get(path);
  if (!f || f.id !== id) {
    f = {
      id,
      symbols: new Map(readFunctionSymbols(path).map((s) => [s.name, s])),
      segments: readLoadSegments(path),
    };
    files.set(path, f);
  }
  return f;
}

/** The file offset of function `name` in `path` (what a uprobe takes), or why there is none. */
export function functionFileOffset(path: string, name: string): { offset: number } | { error: string } {
  let f: FileFunctions;
  try {
    f = functionsOf(path);
  } catch (e) {
    return { error: `cannot read the symbols of ${path}: ${(e as Error).message}` };
  }
  const sym = f.symbols.get(name);
  if (!sym) return { error: `no function ${name} in ${path}` };
  if (sym.ifunc)
    return {
      error: `${name} is an indirect function (IFUNC) in ${path}: its symbol is the resolver that picks an implementation when the library loads, not the function that runs`,
    };
  const seg = f.segments.find((s) => s.exec && sym.value >= s.vaddr && sym.value < s.vaddr + s.filesz);
  if (!seg) return { error: `${name} in ${path} is not in an executable segment` };
  return { offset: Number(sym.value - seg.vaddr + seg.offset) };
}
