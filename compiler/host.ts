// compiler/host.ts — what the compiler may ask about the machine it compiles
// for, as an interface. The runtime implements it from tracefs, ELF files and
// the dynamic linker's cache (runtime/host/); compiler tests use a recorded
// snapshot. The compiler itself never touches files or the kernel.

/** One field of a tracepoint's record, as the kernel's format file describes it. */
export interface TracepointField {
  name: string;
  /** Declared C type text, e.g. `const char *`, `char[16]`, `__data_loc char[]`, `pid_t`. */
  type: string;
  offset: number;
  size: number;
  signed: boolean;
}

export interface TracepointFormat {
  category: string;
  name: string;
  /** Fields after the common_* header. */
  fields: TracepointField[];
}

/** A function parameter from the kernel's BTF (raw tracepoints, fentry/fexit). */
export interface BtfParam {
  name: string;
  /** C type text, e.g. `int`, `const char *`, `struct sock *`. */
  type: string;
  /** Size in bytes of the value (pointers: 8). */
  size: number;
  signed: boolean;
}

/** A USDT probe from a binary's .note.stapsdt section. */
export interface UsdtProbe {
  provider: string;
  name: string;
  /** Number of arguments the probe passes. */
  args: number;
  /** The probe is behind a semaphore (libbpf raises it while attached). */
  semaphore: boolean;
}

/** A symbol of an ELF file (uaddr()). Numbers are decimal strings (answers are recorded as JSON). */
export interface ElfSymbolInfo {
  /** Its address in the file (st_value). */
  value: string;
  size: number;
  /** The file is position-independent (ET_DYN: a PIE or a library): where it is loaded is known only at run time. */
  pie: boolean;
}

export type Resolved<T> = { ok: true; value: T } | { ok: false; error: string; candidates: string[] };

export interface Host {
  /** The format of `category:name`, or undefined if the kernel has no such tracepoint. */
  tracepoint(category: string, name: string): TracepointFormat | undefined;
  tracepointCategories(): string[];
  tracepointNames(category: string): string[];
  /**
   * Resolve a uprobe target: an absolute or relative path, a library short name
   * (`libssl`, `libc`), or a program on PATH. With `pid`, prefer the file that
   * process has mapped.
   */
  resolveBinary(target: string, pid?: number): Resolved<string>;
  /** Names of function symbols in an ELF file (dynamic and static tables). */
  functionSymbols(path: string): Resolved<string[]>;
  /** USDT probes of an ELF file. */
  usdtProbes(path: string): Resolved<UsdtProbe[]>;
  /** Raw tracepoints the kernel has (BTF `btf_trace_NAME`), sorted. */
  rawTracepointNames(): string[];
  /** A raw tracepoint's arguments (without the leading context pointer), or undefined. */
  rawTracepointArgs(name: string): BtfParam[] | undefined;
  /** Kernel functions (text symbols of /proc/kallsyms); empty when unreadable. */
  kernelFunctions(): string[];
  /** A kernel function's parameters and return type from BTF (for fentry/fexit), or undefined. */
  kernelFunctionProto(name: string): { params: BtfParam[]; ret: BtfParam } | undefined;
  /** Whether /proc/kallsyms names `name` (kaddr(); data symbols only with CONFIG_KALLSYMS_ALL). */
  kernelSymbolExists(name: string): boolean;
  /** A defined symbol (data or code) of an ELF file, by name (uaddr()); undefined when it has none. */
  elfSymbol(path: string, name: string): ElfSymbolInfo | undefined;
  /**
   * cgroupid(path): the id of the cgroup whose directory is `path` (decimal), or why there is none: missing,
   * not a cgroup directory, or a path another user could re-point (capc runs as root: root-safe).
   */
  cgroupId(path: string): Resolved<string>;
  /** Network interfaces of the namespace capc runs in (xdp:, tc: probes), sorted. */
  netInterfaces(): string[];
}
