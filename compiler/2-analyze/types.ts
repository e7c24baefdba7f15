// compiler/2-analyze/types.ts — the type system of .cap values.
// Integers are 64-bit in arithmetic (as in bpftrace) but remember their
// declared width and sign; a pointer is an integer that also knows which
// address space it points into, which decides the helper used to read it.
// Strings are fixed-capacity, NUL-terminated byte arrays.

export type AddressSpace = 'user' | 'kernel';

export type Type =
  | { k: 'int'; bytes: 1 | 2 | 4 | 8; signed: boolean; space?: AddressSpace; literal?: boolean }
  | { k: 'str'; size: number }
  | { k: 'args' }
  | { k: 'agg'; fn: AggFn }
  | { k: 'void' }
  | { k: 'error' };

export type AggFn = 'count' | 'sum';

export const U64: Type = { k: 'int', bytes: 8, signed: false };
export const S64: Type = { k: 'int', bytes: 8, signed: true };
export const U32: Type = { k: 'int', bytes: 4, signed: false };
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
