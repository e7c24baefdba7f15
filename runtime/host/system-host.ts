// runtime/host/system-host.ts — the compiler's Host interface answered from
// this machine: tracefs for tracepoints, ELF files for symbols and USDT
// notes, ldconfig and /proc for libraries, the kernel's BTF for raw
// tracepoint and function prototypes, /proc/kallsyms for kernel functions
// and symbols, the DWARF of binaries built with -g for uprobe arguments and
// their types. Results are cached for the life of the process. C definitions
// need clang: runtime/build/build.ts answers them (BuildHost), this host
// refuses them. Syscall numbers come from the kernel's UAPI header
// (syscall-numbers.ts).
import type {
  BtfParam,
  CDefinitions,
  CTypeDecl,
  DwarfParam,
  ElfSymbolInfo,
  Host,
  Resolved,
  TracepointFormat,
  UsdtProbe,
} from '../../compiler/index.js';
import { Btf } from './btf.js';
import { DwarfFile } from './dwarf.js';
import { cgroupIdOf } from './cgroups.js';
import { readFunctionSymbols, readSymbol } from '../symbols/elf.js';
import { kernelSymbols } from '../symbols/kallsyms.js';
import { kernelFunctions } from './kallsyms.js';
import { netInterfaces } from './net-interfaces.js';
import { ldconfigEntries, resolveBinary } from './libraries.js';
import { readDynamic, resolveNeeded } from '../symbols/elf-dynamic.js';
import { ifuncImplementationOffsets } from '../symbols/ifunc.js';
import { Tracefs } from './tracefs.js';
import { readUsdtNotes } from './usdt-notes.js';
import { syscallNumbers } from './syscall-numbers.js';

export class SystemHost implements Host {
  readonly tracefs = new Tracefs();
  private readonly symbols = new Map<string, Resolved<string[]>>();
  private readonly usdt = new Map<string, Resolved<UsdtProbe[]>>();
  private readonly ifuncs = new Map<string, string[]>();
  private readonly unresolvedIfuncs = new Map<string, string[]>();
  private btfCache: Btf | null | undefined;
  private readonly dwarfFiles = new Map<string, DwarfFile | null>();

  tracepoint(category: string, name: string): TracepointFormat | undefined {
    return this.tracefs.format(category, name);
  }
  tracepointCategories(): string[] {
    return this.tracefs.categories();
  }
  tracepointNames(category: string): string[] {
    return this.tracefs.tracepoints(category);
  }
  resolveBinary(target: string, pid?: number): Resolved<string> {
    return resolveBinary(target, pid);
  }
  functionSymbols(path: string): Resolved<string[]> {
    let r = this.symbols.get(path);
    if (!r) {
      try {
        const syms = readFunctionSymbols(path);
        r = { ok: true, value: syms.map((s) => s.name) };
        this.ifuncs.set(
          path,
          syms.filter((s) => s.ifunc).map((s) => s.name),
        );
      } catch (e) {
        r = { ok: false, error: `cannot read symbols of ${path}: ${(e as Error).message}`, candidates: [] };
      }
      this.symbols.set(path, r);
    }
    return r;
  }
  /** The IFUNC symbols whose implementation capc cannot find here (E0414); the others are probed where they resolve. */
  ifuncSymbols(path: string): string[] {
    this.functionSymbols(path);
    let r = this.unresolvedIfuncs.get(path);
    if (!r) {
      const all = this.ifuncs.get(path) ?? [];
      const resolved = ifuncImplementationOffsets(path, all);
      r = all.filter((name) => !resolved.has(name));
      this.unresolvedIfuncs.set(path, r);
    }
    return r;
  }
  neededLibraries(path: string): string[] {
    try {
      const d = readDynamic(path);
      const cache = ldconfigEntries();
      return d.needed
        .map((soname) => resolveNeeded(soname, d.runpath, cache, d.machine))
        .filter((p) => p !== undefined);
    } catch {
      return [];
    }
  }
  usdtProbes(path: string): Resolved<UsdtProbe[]> {
    let r = this.usdt.get(path);
    if (!r) {
      try {
        r = { ok: true, value: readUsdtNotes(path) };
      } catch (e) {
        r = { ok: false, error: `cannot read USDT notes of ${path}: ${(e as Error).message}`, candidates: [] };
      }
      this.usdt.set(path, r);
    }
    return r;
  }
  /** The kernel's BTF, or null when it cannot be read. */
  btf(): Btf | null {
    if (this.btfCache === undefined) {
      try {
        this.btfCache = Btf.load();
      } catch {
        this.btfCache = null;
      }
    }
    return this.btfCache;
  }
  rawTracepointNames(): string[] {
    return this.btf()?.rawTracepoints() ?? [];
  }
  rawTracepointArgs(name: string): BtfParam[] | undefined {
    return this.btf()?.rawTracepointArgs(name);
  }
  kernelFunctions(): string[] {
    return kernelFunctions();
  }
  netInterfaces(): string[] {
    return netInterfaces();
  }
  syscallNumbers(): Record<string, number> {
    return syscallNumbers();
  }
  kernelFunctionProto(name: string): { params: BtfParam[]; ret: BtfParam } | undefined {
    return this.btf()?.functionProto(name);
  }
  kernelType(name: string): CTypeDecl | undefined {
    return this.btf()?.kernelType(name);
  }
  kernelConstant(name: string): string | undefined {
    return this.btf()?.kernelConstant(name);
  }
  cDefinitions(_text: string, _names: string[], _includeDirs: string[]): CDefinitions {
    return { ok: false, errors: [{ line: 0, col: 0, message: 'C definitions are read when a program is built' }] };
  }
  /** A binary's DWARF, or null when it has none (not built with -g) or cannot be read. */
  dwarf(path: string): DwarfFile | null {
    let d = this.dwarfFiles.get(path);
    if (d === undefined) {
      try {
        d = new DwarfFile(path);
      } catch {
        d = null;
      }
      this.dwarfFiles.set(path, d);
    }
    return d;
  }
  dwarfFunction(path: string, func: string): DwarfParam[] | undefined {
    return this.dwarf(path)?.functionParams(func);
  }
  dwarfType(path: string, name: string): CTypeDecl | undefined {
    return this.dwarf(path)?.type(name);
  }
  kernelSymbolExists(name: string): boolean {
    return kernelSymbols().has(name);
  }
  elfSymbol(path: string, name: string): ElfSymbolInfo | undefined {
    return elfSymbolOf(path, name);
  }
  cgroupId(path: string): Resolved<string> {
    return cgroupIdOf(path);
  }
}

/** uaddr(): a symbol of an ELF file (undefined when the file or the symbol is not there). */
export function elfSymbolOf(path: string, name: string): ElfSymbolInfo | undefined {
  try {
    const s = readSymbol(path, name);
    return s && { value: s.value.toString(), size: Number(s.size), pie: s.pie };
  } catch {
    return undefined;
  }
}

let shared: SystemHost | undefined;
/** The process's one SystemHost (its caches live as long as the process). */
export function systemHost(): SystemHost {
  shared ??= new SystemHost();
  return shared;
}
