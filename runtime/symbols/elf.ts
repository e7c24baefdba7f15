// runtime/symbols/elf.ts — reads function symbols from ELF64 little-endian files
// (executables and shared libraries): the dynamic and the static symbol
// tables. Reads only the headers and tables it needs, so a 100 MB binary
// (node) costs a few reads, not a full load.
import fs from 'node:fs';

export interface ElfSymbol {
  name: string;
  value: bigint;
  size: bigint;
  /** STT_FUNC or STT_GNU_IFUNC */
  ifunc: boolean;
}

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;

export function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, done, length - done, offset + done);
    if (n === 0) throw new Error('unexpected end of file');
    done += n;
  }
  return buf;
}

export function isElf(path: string): boolean {
  try {
    const fd = fs.openSync(path, 'r');
    try {
      return readAt(fd, 0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** Defined function symbols, deduplicated by name (dynamic table first). */
export function readFunctionSymbols(path: string): ElfSymbol[] {
  const fd = fs.openSync(path, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (size < 64 || !readAt(fd, 0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])))
      throw new Error('not an ELF file');
    const eh = readAt(fd, 0, 64);
    if (eh[4] !== 2 || eh[5] !== 1) throw new Error('only 64-bit little-endian ELF files are supported');
    const shoff = Number(eh.readBigUInt64LE(0x28));
    const shentsize = eh.readUInt16LE(0x3a);
    const shnum = eh.readUInt16LE(0x3c);
    if (!shoff || !shnum) return [];
    const sh = readAt(fd, shoff, shentsize * shnum);
    const sections = Array.from({ length: shnum }, (_, i) => {
      const o = i * shentsize;
      return {
        type: sh.readUInt32LE(o + 4),
        offset: Number(sh.readBigUInt64LE(o + 0x18)),
        size: Number(sh.readBigUInt64LE(o + 0x20)),
        link: sh.readUInt32LE(o + 0x28),
        entsize: Number(sh.readBigUInt64LE(o + 0x38)),
      };
    });
    const out = new Map<string, ElfSymbol>();
    for (const kind of [SHT_DYNSYM, SHT_SYMTAB]) {
      for (const s of sections.filter((x) => x.type === kind)) {
        const strsec = sections[s.link];
        if (!strsec || !s.entsize) continue;
        const strtab = readAt(fd, strsec.offset, strsec.size);
        const syms = readAt(fd, s.offset, s.size);
        const versions = kind === SHT_DYNSYM ? readVersions(fd, sections) : undefined;
        const hidden = new Set<string>();
        for (let o = 0; o + 24 <= syms.length; o += 24) {
          const info = syms[o + 4]!;
          const type = info & 0xf;
          const shndx = syms.readUInt16LE(o + 6);
          if ((type !== STT_FUNC && type !== STT_GNU_IFUNC) || shndx === 0) continue;
          const nameOff = syms.readUInt32LE(o);
          const end = strtab.indexOf(0, nameOff);
          const name = strtab.toString('latin1', nameOff, end < 0 ? undefined : end);
          if (!name) continue;
          const isHidden = versionHidden(versions, o / 24);
          if (out.has(name) && (isHidden || !hidden.has(name))) continue;
          if (isHidden) hidden.add(name);
          else hidden.delete(name);
          out.set(name, {
            name,
            value: syms.readBigUInt64LE(o + 8),
            size: syms.readBigUInt64LE(o + 16),
            ifunc: type === STT_GNU_IFUNC,
          });
        }
      }
    }
    return [...out.values()];
  } finally {
    fs.closeSync(fd);
  }
}

const SHT_GNU_VERSYM = 0x6fffffff;
/** In .gnu.version: the symbol is a non-default version (name@VER, not name@@VER). */
const VERSYM_HIDDEN = 0x8000;

/** The dynamic symbols' version indexes (.gnu.version), one u16 per .dynsym entry; undefined when unversioned. */
export function readVersions(
  fd: number,
  sections: { type: number; offset: number; size: number }[],
): Buffer | undefined {
  const v = sections.find((x) => x.type === SHT_GNU_VERSYM);
  return v ? readAt(fd, v.offset, v.size) : undefined;
}

/**
 * Whether .dynsym entry `index` is a non-default version of its name (glibc's memcpy@GLIBC_2.2.5 beside
 * memcpy@@GLIBC_2.14): the dynamic linker binds a program's calls to the default one, so readers prefer it.
 */
export function versionHidden(versions: Buffer | undefined, index: number): boolean {
  return !!versions && 2 * index + 2 <= versions.length && (versions.readUInt16LE(2 * index) & VERSYM_HIDDEN) !== 0;
}

export interface ElfSection {
  name: string;
  type: number;
  addr: bigint;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

/** Section headers of an ELF64 little-endian file, with names; the caller owns `fd`. */
export function readSections(fd: number): ElfSection[] {
  const eh = readAt(fd, 0, 64);
  if (!eh.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) throw new Error('not an ELF file');
  if (eh[4] !== 2 || eh[5] !== 1) throw new Error('only 64-bit little-endian ELF files are supported');
  const shoff = Number(eh.readBigUInt64LE(0x28));
  const shentsize = eh.readUInt16LE(0x3a);
  const shnum = eh.readUInt16LE(0x3c);
  const shstrndx = eh.readUInt16LE(0x3e);
  if (!shoff || !shnum) return [];
  const sh = readAt(fd, shoff, shentsize * shnum);
  const raw = Array.from({ length: shnum }, (_, i) => {
    const o = i * shentsize;
    return {
      nameOff: sh.readUInt32LE(o),
      type: sh.readUInt32LE(o + 4),
      addr: sh.readBigUInt64LE(o + 0x10),
      offset: Number(sh.readBigUInt64LE(o + 0x18)),
      size: Number(sh.readBigUInt64LE(o + 0x20)),
      link: sh.readUInt32LE(o + 0x28),
      entsize: Number(sh.readBigUInt64LE(o + 0x38)),
    };
  });
  const strs = raw[shstrndx] ? readAt(fd, raw[shstrndx]!.offset, raw[shstrndx]!.size) : Buffer.alloc(0);
  return raw.map((r) => {
    const end = strs.indexOf(0, r.nameOff);
    return { ...r, name: strs.toString('latin1', r.nameOff, end < 0 ? undefined : end) };
  });
}

export interface LoadSegment {
  offset: bigint;
  vaddr: bigint;
  filesz: bigint;
  memsz: bigint;
  exec: boolean;
}

/** PT_LOAD program headers: how file offsets map to virtual addresses. */
export function readLoadSegments(path: string): LoadSegment[] {
  const fd = fs.openSync(path, 'r');
  try {
    const eh = readAt(fd, 0, 64);
    if (!eh.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])) || eh[4] !== 2) return [];
    const phoff = Number(eh.readBigUInt64LE(0x20));
    const phentsize = eh.readUInt16LE(0x36);
    const phnum = eh.readUInt16LE(0x38);
    const ph = readAt(fd, phoff, phentsize * phnum);
    const out: LoadSegment[] = [];
    for (let i = 0; i < phnum; i++) {
      const o = i * phentsize;
      if (ph.readUInt32LE(o) !== 1 /* PT_LOAD */) continue;
      out.push({
        exec: (ph.readUInt32LE(o + 4) & 1) === 1,
        offset: ph.readBigUInt64LE(o + 8),
        vaddr: ph.readBigUInt64LE(o + 16),
        filesz: ph.readBigUInt64LE(o + 32),
        memsz: ph.readBigUInt64LE(o + 40),
      });
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

/** A defined symbol of any type (data or code) for uaddr(): its address in the file, its size, and whether the file is position-independent. */
export function readSymbol(path: string, name: string): { value: bigint; size: bigint; pie: boolean } | undefined {
  const fd = fs.openSync(path, 'r');
  try {
    const eh = readAt(fd, 0, 64);
    if (!eh.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])) || eh[4] !== 2 || eh[5] !== 1)
      return undefined;
    const pie = eh.readUInt16LE(16) === 3; // ET_DYN: a PIE or a shared library
    const sections = readSections(fd);
    for (const kind of [SHT_DYNSYM, SHT_SYMTAB]) {
      for (const s of sections.filter((x) => x.type === kind)) {
        const strsec = sections[s.link];
        if (!strsec || !s.entsize) continue;
        const strtab = readAt(fd, strsec.offset, strsec.size);
        const syms = readAt(fd, s.offset, s.size);
        for (let o = 0; o + 24 <= syms.length; o += 24) {
          if (syms.readUInt16LE(o + 6) === 0) continue; // undefined here (imported)
          const nameOff = syms.readUInt32LE(o);
          const end = strtab.indexOf(0, nameOff);
          if (strtab.toString('latin1', nameOff, end < 0 ? undefined : end) !== name) continue;
          return { value: syms.readBigUInt64LE(o + 8), size: syms.readBigUInt64LE(o + 16), pie };
        }
      }
    }
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}
