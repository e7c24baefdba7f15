// runtime/symbols/func-offset.ts — where a uprobe on a named function goes:
// the file offset of its symbol, resolved here instead of by libbpf. libbpf
// 1.1 (Debian 12) refuses a name that two global symbols carry, as glibc's
// versioned ones do (pthread_create@GLIBC_2.2.5 and pthread_create@@GLIBC_2.34,
// one address), with "Unknown error 4001"; capc takes the first definition
// (dynamic table first), as the dynamic linker does. An indirect function
// (IFUNC) goes where its resolver sends calls on this machine (ifunc.ts).
import fs from 'node:fs';
import { readLoadSegments } from './elf.js';
import { findFunctionSymbols } from './elf-symbols.js';
import { ifuncImplementationOffset } from './ifunc.js';

type Placed = { offset: number } | { error: string };

/**
 * Answers by file identity (device, inode, size, mtime) and name, not by
 * path: TLS discovery reaches one library through every process's
 * /proc/PID/root. Only answers are kept, never a file's symbol table (node's
 * has 200,000 names: keeping it cost ~40 MB and made a long capture's heap
 * grow); the oldest of more than MAX_ANSWERS is forgotten.
 */
const answers = new Map<string, Placed>();
const MAX_ANSWERS = 4096;

/** The file offset of function `name` in `path` (what a uprobe takes), or why there is none. */
export function functionFileOffset(path: string, name: string): Placed {
  let key: string;
  try {
    const st = fs.statSync(path, { bigint: true });
    key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}\0${name}`;
  } catch (e) {
    return { error: `cannot read ${path}: ${(e as Error).message}` };
  }
  let a = answers.get(key);
  if (!a) {
    a = place(path, name);
    if (answers.size >= MAX_ANSWERS) answers.delete(answers.keys().next().value!);
    answers.set(key, a);
  }
  return a;
}

function place(path: string, name: string): Placed {
  let sym;
  try {
    sym = findFunctionSymbols(path, [name], undefined, [name]).found.get(name);
  } catch (e) {
    return { error: `cannot read the symbols of ${path}: ${(e as Error).message}` };
  }
  if (!sym) return { error: `no function ${name} in ${path}` };
  if (sym.ifunc) {
    // Its symbol is the resolver: probe the implementation it picks here (runtime/symbols/ifunc.ts).
    const offset = ifuncImplementationOffset(path, name);
    if (offset !== undefined) return { offset };
    return {
      error: `${name} is an indirect function (IFUNC) in ${path}: its symbol is the resolver that picks an implementation when the library loads, not the function that runs, and capc finds the implementation only in a library its own process has loaded`,
    };
  }
  const seg = readLoadSegments(path).find((s) => s.exec && sym.value >= s.vaddr && sym.value < s.vaddr + s.filesz);
  if (!seg) return { error: `${name} in ${path} is not in an executable segment` };
  return { offset: Number(sym.value - seg.vaddr + seg.offset) };
}
