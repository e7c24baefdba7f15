// runtime/symbols/go-binary.ts — what capc needs to know about a Go program to
// capture its crypto/tls: the Go version it was built with (its build info:
// the register ABI it relies on came with Go 1.17), where its functions are
// (the symbol table, or Go's own function table, pclntab, which stripped
// binaries keep), and where each function returns: Go moves goroutine stacks,
// so a uretprobe (which rewrites a return address on the stack) is unsafe;
// capc puts a uprobe on every RET instruction instead, found by disassembling
// the function with llvm-objdump (or binutils' objdump).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { findTool } from '../files/tools.js';
import { readAt, readLoadSegments, readSections, type ElfSection } from './elf.js';

export interface GoFunction {
  name: string;
  /** Virtual address of the first instruction. */
  addr: bigint;
  /** Bytes of code (to the next function). */
  size: number;
}

export interface GoBinaryInfo {
  /** e.g. go1.19.8; undefined when the build info cannot be read. */
  version?: string;
  /** ELF machine: 62 is x86-64. */
  machine: number;
}

const BUILDINFO_MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');

/** Is this ELF file a Go program (it has Go's build info or function table)? */
export function isGoBinary(sections: ElfSection[]): boolean {
  return sections.some((s) => s.name === '.go.buildinfo' || s.name === '.gopclntab');
}

function uvarint(buf: Buffer, at: number): [number, number] {
  let v = 0;
  let shift = 0;
  for (let i = at; i < buf.length && i < at + 10; i++) {
    const b = buf[i]!;
    v += (b & 0x7f) * 2 ** shift;
    if (!(b & 0x80)) return [v, i + 1];
    shift += 7;
  }
  return [-1, at];
}

/** Virtual address -> file offset, through the PT_LOAD segments. */
function fileOffsetOf(path: string, addr: bigint): number | undefined {
  for (const s of readLoadSegments(path)) {
    if (addr >= s.vaddr && addr < s.vaddr + s.filesz) return Number(addr - s.vaddr + s.offset);
  }
  return undefined;
}

/** The Go version and machine of a Go binary, from its .go.buildinfo section. */
export function goBinaryInfo(path: string): GoBinaryInfo {
  const fd = fs.openSync(path, 'r');
  try {
    const machine = readAt(fd, 0x12, 2).readUInt16LE(0);
    const sections = readSections(fd);
    const floor = pclntabFloor(fd, sections);
    const head = findBuildInfo(fd, sections);
    if (!head) return { machine, version: floor };
    const ptrSize = head[14]!;
    const flags = head[15]!;
    if (flags & 2) {
      // Go 1.18+: the version string follows inline, length-prefixed.
      const [len, at] = uvarint(head, 32);
      if (len <= 0 || at + len > head.length) return { machine, version: floor };
      return { machine, version: head.toString('latin1', at, at + len) };
    }
    // Go 1.13-1.17: pointers to Go strings (data pointer, length) elsewhere in the file.
    if (ptrSize !== 8) return { machine, version: floor };
    const strAddr = head.readBigUInt64LE(16);
    const off = fileOffsetOf(path, strAddr);
    if (off === undefined) return { machine, version: floor };
    const hdr = readAt(fd, off, 16);
    const dataOff = fileOffsetOf(path, hdr.readBigUInt64LE(0));
    const len = Number(hdr.readBigUInt64LE(8));
    if (dataOff === undefined || len <= 0 || len > 64) return { machine, version: floor };
    return { machine, version: readAt(fd, dataOff, len).toString('latin1') };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The build info: in .go.buildinfo, or (binaries linked otherwise) at a
 * 16-byte boundary of the writable data.
 */
function findBuildInfo(fd: number, sections: ElfSection[]): Buffer | undefined {
  const own = sections.find((s) => s.name === '.go.buildinfo');
  if (own && own.size >= 32) {
    const head = readAt(fd, own.offset, Math.min(own.size, 4096));
    if (head.subarray(0, 14).equals(BUILDINFO_MAGIC)) return head;
  }
  for (const s of sections.filter((x) => x.name === '.data' || x.name === '.noptrdata')) {
    if (s.size > 64 << 20) continue;
    const data = readAt(fd, s.offset, s.size);
    for (let at = data.indexOf(BUILDINFO_MAGIC); at >= 0; at = data.indexOf(BUILDINFO_MAGIC, at + 1))
      if (at % 16 === 0) return data.subarray(at, at + 4096);
  }
  return undefined;
}

/**
 * What the function table's layout says about the Go version when the build
 * info does not: 1.18-1.19, 1.20+, or 1.16-1.17 (`go1.X` floors).
 */
function pclntabFloor(fd: number, sections: ElfSection[]): string | undefined {
  const sec = sections.find((s) => s.name === '.gopclntab');
  if (!sec || sec.size < 8) return undefined;
  const magic = readAt(fd, sec.offset, 4).readUInt32LE(0);
  return magic === 0xfffffff1
    ? 'go1.20'
    : magic === 0xfffffff0
      ? 'go1.18'
      : magic === 0xfffffffa
        ? 'go1.16'
        : magic === 0xfffffffb
          ? 'go1.2'
          : undefined;
}

/** [major, minor] of `go1.19.8`, or undefined. */
export function goVersionNumber(v: string | undefined): [number, number] | undefined {
  const m = /^go(\d+)\.(\d+)/.exec(v ?? '');
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/**
 * Functions from Go's own function table (pclntab, Go 1.18 and later), for
 * binaries built with -ldflags=-s (no symbol table). Only `wanted` names are
 * returned.
 */
export function goPclntabFunctions(path: string, wanted: Set<string>): GoFunction[] {
  const fd = fs.openSync(path, 'r');
  try {
    const sec = readSections(fd).find((s) => s.name === '.gopclntab');
    if (!sec) throw new Error('no .gopclntab section');
    const tab = readAt(fd, sec.offset, sec.size);
    const magic = tab.readUInt32LE(0);
    if (magic !== 0xfffffff0 && magic !== 0xfffffff1)
      throw new Error(
        `Go function table of an unsupported layout (magic 0x${magic.toString(16)}; capc reads Go 1.18+)`,
      );
    const ptr = tab[7]!;
    if (ptr !== 8) throw new Error(`pointer size ${ptr}`);
    const word = (i: number) => Number(tab.readBigUInt64LE(8 + i * 8));
    const nfunc = word(0);
    const textStart = BigInt(word(2));
    const funcnameOffset = word(3);
    const pclnOffset = word(7);
    const out: GoFunction[] = [];
    for (let i = 0; i < nfunc; i++) {
      const at = pclnOffset + i * 8;
      const entry = tab.readUInt32LE(at);
      const funcOff = tab.readUInt32LE(at + 4);
      const next = tab.readUInt32LE(at + 8);
      const nameOff = tab.readInt32LE(pclnOffset + funcOff + 4);
      const start = funcnameOffset + nameOff;
      const end = tab.indexOf(0, start);
      const name = tab.toString('latin1', start, end < 0 ? undefined : end);
      if (wanted.has(name)) out.push({ name, addr: textStart + BigInt(entry), size: next - entry });
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

let objdump: string | null | undefined;
/** llvm-objdump (or binutils' objdump), found as root-safely as clang is (files/tools.ts: never from a PATH others can write). */
function findObjdump(): string | null {
  if (objdump !== undefined) return objdump;
  objdump = findTool('llvm-objdump', undefined, ['/usr/lib/llvm-14/bin']) ?? findTool('objdump', undefined) ?? null;
  return objdump;
}

/**
 * Offsets (from the function's start) of every RET instruction in
 * [addr, addr + size) of `path`, by disassembling it. Throws with what was
 * tried when no disassembler works or no RET is found.
 */
export function returnOffsets(path: string, addr: bigint, size: number): number[] {
  const tool = findObjdump();
  if (!tool) throw new Error('no disassembler: install llvm (llvm-objdump) or binutils (objdump)');
  const out = execFileSync(
    tool,
    [
      '-d',
      '--no-show-raw-insn',
      `--start-address=0x${addr.toString(16)}`,
      `--stop-address=0x${(addr + BigInt(size)).toString(16)}`,
      path,
    ],
    { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const offsets: number[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*([0-9a-f]+):\s+(?:rep\s+)?(retq?|ret)\b/.exec(line);
    if (m) offsets.push(Number(BigInt(`0x${m[1]}`) - addr));
  }
  if (!offsets.length) throw new Error(`${tool} found no RET instruction in the function`);
  return offsets;
}

/** File offset of a virtual address (for attaching where there is no symbol). */
export function goFileOffset(path: string, addr: bigint): number | undefined {
  return fileOffsetOf(path, addr);
}
