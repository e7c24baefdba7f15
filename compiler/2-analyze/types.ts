// compiler/2-analyze/types.ts — the type model of .cap values, the one every
// pass asks (with its name resolver, type-table.ts). Integers are 64-bit in
// arithmetic (as in bpftrace) but remember their declared width and sign. A
// pointer is an integer that also knows the address space it points into
// (which decides the reader: bpf_probe_read_user or _kernel; 'packet' is
// reserved for packet probes, whose reads are checked against data_end) and,
// when typed, what it points to. Records (struct and union, with field offsets
// and bitfields, from a script's C, the kernel's BTF or a binary's DWARF) are
// named and their fields read through the TypeTable, so a record that reaches
// thousands of others costs only what is used. Arrays hold any element type
// (int a[2][3] is an array of arrays); char arrays are strings, as in
// bpftrace. Tuples are values capc lays out itself. Strings are fixed-capacity,
// NUL-terminated byte arrays. Values userspace resolves (addresses, symbols,
// stacks) have their own types: the kernel records raw data, capc formats it.

export type AddressSpace = 'user' | 'kernel' | 'packet';

export type IntType = {
  k: 'int';
  bytes: 1 | 2 | 4 | 8;
  signed: boolean;
  /** A pointer: the memory it points into. */
  space?: AddressSpace;
  /** A typed pointer: what it points to (void for `void *`); undefined for an untyped address (arg0). */
  to?: Type;
  /** The space was given with kptr()/uptr(): the script vouches for it. */
  spaceSet?: boolean;
  literal?: boolean;
};

/** A struct or union: its fields come from the TypeTable (`key` names it there). */
export type RecordType = {
  k: 'record';
  /** The table's key: the source and the name, e.g. `btf:struct task_struct`. */
  key: string;
  /** `struct conn`, `union (anon 12)`. */
  name: string;
  size: number;
  align: number;
  /** Where pointers inside it point (where the record itself was read from). */
  space?: AddressSpace;
};

/** How a stack prints: bpftrace's `symbol+offset` per line, or perf's `address symbol+offset (module)`. */
export type StackMode = 'bpftrace' | 'perf';

export type Type =
  | IntType
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
   * An array of `count` elements. count 0: its length is known only at run
   * time (a tracepoint's `__data_loc` array, a flexible array member).
   * `bytes`: a constant known at compile time (pton("::1")).
   */
  | { k: 'array'; elem: Type; count: number; bytes?: Uint8Array }
  | RecordType
  /** `(a, b, ...)`: values laid out by capc (tupleLayout). */
  | { k: 'tuple'; elems: Type[] }
  | { k: 'void' }
  | { k: 'error' };

export type AggFn = 'count' | 'sum' | 'avg' | 'min' | 'max' | 'stats' | 'hist' | 'lhist';
export const AGG_FNS: readonly AggFn[] = ['count', 'sum', 'avg', 'min', 'max', 'stats', 'hist', 'lhist'];

export const U64: Type = { k: 'int', bytes: 8, signed: false };
export const S64: Type = { k: 'int', bytes: 8, signed: true };
export const VOID: Type = { k: 'void' };
export const ERROR: Type = { k: 'error' };

export function isInt(t: Type): t is IntType {
  return t.k === 'int';
}
export function isStr(t: Type): t is Extract<Type, { k: 'str' }> {
  return t.k === 'str';
}
/** A typed pointer (`struct conn *`, `int32 *`, `void *`). */
export function isPointer(t: Type): t is IntType & { to: Type } {
  return t.k === 'int' && t.to !== undefined;
}
/** Values that are bytes capc copies whole: records, arrays of them, tuples. */
export function isComposite(t: Type): t is Extract<Type, { k: 'record' | 'array' | 'tuple' }> {
  return t.k === 'record' || t.k === 'tuple' || (t.k === 'array' && t.count > 0);
}

/** A pointer to `to` in `space`. */
export function pointerTo(to: Type, space: AddressSpace): IntType {
  return { k: 'int', bytes: 8, signed: false, space, to };
}

export function typeName(t: Type): string {
  switch (t.k) {
    case 'int':
      if (t.to) return `${typeName(t.to)} *${t.space === 'user' ? ' (user)' : ''}`.replace('* *', '**');
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
    case 'array': {
      // int32[2][3]: the element's name, then every dimension outermost first.
      const dims: string[] = [];
      let e: Type = t;
      while (e.k === 'array') {
        dims.push(`[${e.count || ''}]`);
        e = e.elem;
      }
      return `${typeName(e)}${dims.join('')}`;
    }
    case 'record':
      return t.name;
    case 'tuple':
      return `(${t.elems.map(typeName).join(', ')})`;
    case 'void':
      return 'void';
    case 'error':
      return '<error>';
  }
}

/** Bytes a value of type `t` takes in a record, a map or a variable. */
export function sizeOf(t: Type): number {
  switch (t.k) {
    case 'int':
      return t.bytes;
    case 'str':
      return t.size;
    case 'buf':
      return 4 + t.size;
    case 'inet':
    case 'usym':
    case 'ustack':
      return 24;
    case 'array':
      return t.count * sizeOf(t.elem);
    case 'record':
      return t.size;
    case 'tuple':
      return tupleLayout(t.elems).size;
    default:
      return 0;
  }
}

export function alignOf(t: Type): number {
  switch (t.k) {
    case 'int':
      return t.bytes;
    case 'str':
      return 1;
    case 'buf':
      return 4;
    case 'array':
      return alignOf(t.elem);
    case 'record':
      return t.align;
    case 'tuple':
      return Math.max(1, ...t.elems.map(alignOf));
    default:
      return 8;
  }
}

/** Where each element of a tuple lives: natural alignment, in order; the size rounded to the alignment. */
export function tupleLayout(elems: Type[]): { offsets: number[]; size: number } {
  let off = 0;
  const offsets: number[] = [];
  for (const e of elems) {
    const a = alignOf(e);
    off = Math.ceil(off / a) * a;
    offsets.push(off);
    off += sizeOf(e);
  }
  const align = Math.max(1, ...elems.map(alignOf));
  return { offsets, size: Math.max(1, Math.ceil(off / align) * align) };
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

/** The integer element type of a tracepoint array field (`u8 saddr[4]`, `__data_loc u64[]`). */
export function intElem(t: Extract<Type, { k: 'array' }>): IntType {
  if (t.elem.k !== 'int') throw new Error(`internal: ${typeName(t)} is not an array of integers`);
  return t.elem;
}

/** The same type with the address space of its pointers set (a record's fields, read from `space`). */
export function inSpace(t: Type, space: AddressSpace | undefined): Type {
  if (!space) return t;
  if (t.k === 'int' && t.to) return { ...t, space };
  if (t.k === 'record') return { ...t, space };
  if (t.k === 'array') return { ...t, elem: inSpace(t.elem, space) };
  return t;
}

/** Two types hold the same kind of value (a variable reassigned, a map written again). */
export function sameShape(a: Type, b: Type): boolean {
  if (a.k !== b.k) return false;
  switch (a.k) {
    case 'record':
      return a.key === (b as RecordType).key;
    case 'array': {
      const o = b as Extract<Type, { k: 'array' }>;
      return a.count === o.count && sameShape(a.elem, o.elem);
    }
    case 'tuple': {
      const o = b as Extract<Type, { k: 'tuple' }>;
      return a.elems.length === o.elems.length && a.elems.every((e, i) => sameShape(e, o.elems[i]!));
    }
    default:
      return true;
  }
}
