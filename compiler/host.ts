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
  /** The parameter's type, as the type model reads it (records by name: kernelType answers them). */
  ctype?: CTypeRef;
}

// ---- C types, as every source of types describes them ---------------------
// Script definitions (clang), the kernel's BTF and a binary's DWARF all
// answer in these shapes; compiler/2-analyze/type-table.ts turns them into
// the type model. Records are named, and refer to other records by name, so
// a source answers one record at a time (task_struct reaches thousands).

/** A C type. Typedefs and qualifiers are resolved by the source; `name` keeps a typedef's or int's C spelling. */
export type CTypeRef =
  | {
      k: 'int';
      bytes: 1 | 2 | 4 | 8;
      signed: boolean;
      name?: string;
      /** plain `char`: arrays of it are strings */ char?: boolean;
    }
  | { k: 'bool' }
  | { k: 'enum'; name: string; bytes: 1 | 2 | 4 | 8; signed: boolean }
  | { k: 'void' }
  | { k: 'ptr'; to: CTypeRef }
  /** count 0: a flexible array member (`char data[]`). */
  | { k: 'array'; elem: CTypeRef; count: number }
  | { k: 'record'; union: boolean; name: string }
  /** A function (the target of a function pointer). */
  | { k: 'func' }
  /** A type capc cannot hold (float, a vector...), with its size. */
  | { k: 'other'; name: string; bytes: number };

export interface CField {
  /** '' for an anonymous struct or union member (its fields are reached through it, as C does). */
  name: string;
  /** Byte offset in the record. */
  offset: number;
  type: CTypeRef;
  /** Bitfields: the bit offset inside the `type`-sized unit at `offset` (little-endian), and the width. */
  bitOffset?: number;
  bitSize?: number;
}

export interface CRecord {
  union: boolean;
  /** The tag; anonymous records get `(anon N)` names the source makes unique. */
  name: string;
  size: number;
  fields: CField[];
}

/** What a name resolves to in one source: a record, an enum, or a typedef's target. */
export type CTypeDecl =
  | { k: 'record'; record: CRecord }
  | { k: 'enum'; name: string; bytes: 1 | 2 | 4 | 8; signed: boolean; values: { name: string; value: string }[] }
  | { k: 'typedef'; name: string; type: CTypeRef };

/** The types and macros of the C definitions in a script (#include, #define, struct ...). */
export type CDefinitions =
  | {
      ok: true;
      /** Records by `struct NAME` / `union NAME`, enums by `enum NAME`, typedefs by NAME. */
      types: Record<string, CTypeDecl>;
      /** Enum constants: name → value (decimal text). */
      constants: Record<string, string>;
      /** Object-like macros the script names, fully expanded by clang's preprocessor. */
      macros: Record<string, string>;
      /** Function-like macros the script names (capc cannot expand them). */
      functionMacros: string[];
    }
  | { ok: false; errors: { line: number; col: number; message: string }[] };

/** One parameter of a function, from DWARF. */
export interface DwarfParam {
  name: string;
  type: CTypeRef;
  /** The type as the DWARF spells it, qualifiers and typedefs kept (`const int*`, `point_t*`), as bpftrace -lv prints it. */
  text?: string;
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
  /**
   * Names of the file's STT_GNU_IFUNC symbols whose implementation cannot be found on this machine (empty when
   * there are none or it cannot be read): each names the resolver that picks an implementation once per process,
   * not a function a uprobe can usefully probe (E0414). The runtime places a probe on an IFUNC it can resolve at
   * the implementation the resolver picks, so those are not listed.
   */
  ifuncSymbols(path: string): string[];
  /**
   * The shared libraries an ELF file needs (DT_NEEDED, in order), as the paths where the dynamic
   * linker finds them (its RUNPATH, then ldconfig's cache); empty when it needs none or cannot be read.
   */
  neededLibraries(path: string): string[];
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
  /**
   * A kernel type from BTF: `struct NAME`, `union NAME`, `enum NAME` or a
   * typedef NAME; undefined when the kernel has none (or no BTF).
   */
  kernelType(name: string): CTypeDecl | undefined;
  /** The value of a kernel enum constant (`TCP_ESTABLISHED`) from BTF, as decimal text. */
  kernelConstant(name: string): string | undefined;
  /**
   * The C definitions of a script, laid out by clang: `text` is the C as the
   * script wrote it (with #line markers naming the script's lines), `names`
   * the identifiers the script uses that may be macros or enum constants,
   * `includeDirs` the directories searched for #include before the system's
   * (bpftrace's -I DIR).
   */
  cDefinitions(text: string, names: string[], includeDirs: string[]): CDefinitions;
  /** A function's parameters from a binary's DWARF (built with -g), or undefined. */
  dwarfFunction(path: string, func: string): DwarfParam[] | undefined;
  /** A type by name (`struct NAME`, `union NAME`, `enum NAME`, typedef) from a binary's DWARF. */
  dwarfType(path: string, name: string): CTypeDecl | undefined;
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
  /**
   * The 64-bit system call numbers of this machine, keyed by the name of their
   * syscalls:* tracepoints (`openat` for sys_enter_openat, `newstat` for
   * sys_enter_newstat): what a syscall tracepoint attached as a raw tracepoint
   * dispatches on. Empty when the host cannot tell.
   */
  syscallNumbers(): Record<string, number>;
}
