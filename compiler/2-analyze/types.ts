// compiler/2-analyze/types.ts — the type system of .cap values.
// Integers are 64-bit in arithmetic (as in bpftrace) but remember their
// declared width and sign; a pointer is an integer that also knows which
// address space it points into, which decides the helper used to read it.
// Strings are fixed-capacity, NUL-terminated byte arrays. Values userspace
// resolves (addresses, symbols, stacks) have their own types: the kernel
// records raw data, capc formats it when printing.

export type AddressSpace = 'user' | 'kernel';

/** How a stack prints: bpftrace's `symbol+offset` per line, or perf's `address symbol+offset (module)`. */
export type StackMode = 'bpftrace' | 'perf';

export type Type =
  | { k: 'int'; bytes: 1 | 2 | 4 | 8; signed: boolean; space?: AddressSpace; literal?: boolean }
  | { k: 'str'; size: number }
  | { k: 'args' }
  | { k: 'agg'; fn: AggFn }
  /** buf(p, n): up to `size` raw bytes and their length; printed with %r, %rx, %rh. */
  | { k: 'buf'; size: number }
  /** ntop(): an IPv4/IPv6 address, printed as text. */
  | { k: 'inet' }
  /** usym(addr): a user address, printed as its symbol. */
  | { k: 'usym' }
  /** ustack / ustack(n) / ustack(perf, n): a user stack of at most `frames` frames. */
  | { k: 'ustack'; frames: number; mode?: StackMode }
  /** kstack / kstack(n) / kstack(perf, n): a kernel stack, symbolised from /proc/kallsyms. */
  | { k: 'kstack'; frames: number; mode?: StackMode }
  /** ksym(addr): a kernel address, printed as its symbol. */
  | { k: 'ksym' }
  /** macaddr(p): six bytes, printed as AA:BB:CC:DD:EE:FF. */
  | { k: 'macaddr' }
  /** strftime(fmt, ns): nanoseconds since boot, printed as wall-clock time with `format`. */
  | { k: 'strftime'; format: string }
  /** cgroup_path(id[, filter]): a cgroup id, printed as its paths in the cgroup hierarchies matching `filter`. */
  | { k: 'cgroup_path'; filter: string }
  /**
   * An array of integers (a tracepoint field such as `__u8 saddr[4]`); count
   * 0: its length is in the record (`__data_loc`). `bytes`: a constant known
   * at compile time (pton("::1")).
   */
  | { k: 'array'; elem: { bytes: 1 | 2 | 4 | 8; signed: boolean }; count: number; bytes?: Uint8Array }
  | { k: 'void' }
  | { k: 'error' };

export type AggFn = 'count' | 'sum' | 'avg' | 'min' | 'max' | 'stats' | 'hist' | 'lhist';
export const AGG_FNS: readonly AggFn[] = ['count', 'sum', 'avg', 'min', 'max', 'stats', 'hist', 'lhist'];

export const U64: Type = { k: 'int', bytes: 8, signed: false };
export const S64: Type = { k: 'int', bytes: 8, signed: true };
export const VOID: Type = { k: 'void' };
export const ERROR: Type = { k: 'error' };

export function isInt(t: Type): t is Extract<Type, { k: 'int' }> {
  return t.k === 'int';
}
export function isStr(t: Type): t is Extract<Type, { k: 'str' }> {
  return t.k === 'str';
}

export function typeName(t: Type): string {
  switch (t.k) {
    case 'int':
      return t.space ? `pointer (${t.space} memory)` : `${t.signed ? 'int' : 'uint'}${t.bytes * 8}`;
    case 'str':
      return `string[${t.size}]`;
    case 'args':
      return 'tracepoint arguments';
    case 'agg':
      return `${t.fn}() aggregation`;
    case 'buf':
      return `buffer[${t.size}]`;
    case 'inet':
      return 'address (ntop)';
    case 'usym':
      return 'user symbol (usym)';
    case 'ustack':
      return 'user stack';
    case 'kstack':
      return 'kernel stack';
    case 'ksym':
      return 'kernel symbol (ksym)';
    case 'macaddr':
      return 'MAC address (macaddr)';
    case 'strftime':
      return 'time (strftime)';
    case 'cgroup_path':
      return 'cgroup path (cgroup_path)';
    case 'array':
      return `${t.elem.signed ? 'int' : 'uint'}${t.elem.bytes * 8}[${t.count || ''}]`;
    case 'void':
      return 'nothing (void)';
    case 'error':
      return '<error>';
  }
}

/** Result type of arithmetic on two integers: 64-bit, unsigned if a non-literal operand is. */
export function arithResult(a: Type, b: Type): Type {
  if (a.k !== 'int' || b.k !== 'int') return ERROR;
  const unsigned = (!a.signed && !a.literal) || (!b.signed && !b.literal);
  return { k: 'int', bytes: 8, signed: !unsigned };
}

export const CAST_INTS: Record<string, { bytes: 1 | 2 | 4 | 8; signed: boolean }> = {
  int8: { bytes: 1, signed: true },
  int16: { bytes: 2, signed: true },
  int32: { bytes: 4, signed: true },
  int64: { bytes: 8, signed: true },
  uint8: { bytes: 1, signed: false },
  uint16: { bytes: 2, signed: false },
  uint32: { bytes: 4, signed: false },
  uint64: { bytes: 8, signed: false },
};

/** Values userspace resolves for printing (symbols, stacks, addresses, times, paths). */
export type ResolvedType = Extract<
  Type,
  { k: 'inet' | 'usym' | 'ustack' | 'kstack' | 'ksym' | 'macaddr' | 'strftime' | 'cgroup_path' }
>;
const RESOLVED = new Set(['inet', 'usym', 'ustack', 'kstack', 'ksym', 'macaddr', 'strftime', 'cgroup_path']);

/** Values userspace resolves for printing (symbol, stack, address, time, path): printed with %s, usable as map keys. */
export function isResolved(t: Type): t is ResolvedType {
  return RESOLVED.has(t.k);
}
