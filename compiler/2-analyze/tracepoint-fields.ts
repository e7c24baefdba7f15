// compiler/2-analyze/tracepoint-fields.ts — the .cap type of a tracepoint
// field, from the declared C type and the size/sign the format file gives.
import type { TracepointField } from '../host.js';
import type { Type } from './types.js';

const C_INTS: Record<string, [1 | 2 | 4 | 8, boolean]> = {
  char: [1, true],
  'signed char': [1, true],
  'unsigned char': [1, false],
  bool: [1, false],
  _Bool: [1, false],
  short: [2, true],
  'unsigned short': [2, false],
  int: [4, true],
  'unsigned int': [4, false],
  unsigned: [4, false],
  long: [8, true],
  'unsigned long': [8, false],
  'long long': [8, true],
  'unsigned long long': [8, false],
  s8: [1, true],
  u8: [1, false],
  s16: [2, true],
  u16: [2, false],
  s32: [4, true],
  u32: [4, false],
  s64: [8, true],
  u64: [8, false],
  __s8: [1, true],
  __u8: [1, false],
  __s16: [2, true],
  __u16: [2, false],
  __s32: [4, true],
  __u32: [4, false],
  __s64: [8, true],
  __u64: [8, false],
  pid_t: [4, true],
  uid_t: [4, false],
  gid_t: [4, false],
  size_t: [8, false],
  ssize_t: [8, true],
  umode_t: [2, false],
  loff_t: [8, true],
  off_t: [8, true],
  dev_t: [4, false],
  gfp_t: [4, false],
  clockid_t: [4, true],
  key_serial_t: [4, true],
  qid_t: [4, false],
  'unsigned long int': [8, false],
  'long int': [8, true],
};

export type FieldShape =
  | { shape: 'int'; bytes: 1 | 2 | 4 | 8; signed: boolean }
  | { shape: 'pointer' }
  | { shape: 'char-array'; length: number }
  /** `u8 saddr[4]`, `unsigned long args[6]`: an array of integers. */
  | { shape: 'int-array'; bytes: 1 | 2 | 4 | 8; signed: boolean; count: number }
  | { shape: 'data-loc-string' }
  /** `__data_loc u64[] addrs`: an array of integers stored in the record; its length is in the field. */
  | { shape: 'data-loc-array'; bytes: 1 | 2 | 4 | 8; signed: boolean }
  /** `char name[]` at the end of the record: a string stored inline. */
  | { shape: 'inline-string' }
  | { shape: 'unsupported'; why: string };

export function fieldShape(f: TracepointField): FieldShape {
  const t = f.type.replace(/\s+/g, ' ').trim();
  if (t.startsWith('__data_loc')) {
    if (/char\s*\[\]$/.test(t)) return { shape: 'data-loc-string' };
    const inner = t.replace(/^__data_loc\s+/, '').replace(/\s*\[\]$/, '');
    const elem = C_INTS[inner];
    if (elem) return { shape: 'data-loc-array', bytes: elem[0], signed: elem[1] };
    // cpumask_t and other bitmaps: words of unsigned long.
    if (/_t$/.test(inner)) return { shape: 'data-loc-array', bytes: 8, signed: false };
    return { shape: 'unsupported', why: `dynamic array '${t}'` };
  }
  const arr = /^(?:const )?(.*?)\s*\[(\d*)\]$/.exec(t);
  if (arr) {
    const isChar = /^(?:unsigned |signed )?char$/.test(arr[1]!);
    if (isChar && arr[2]) return { shape: 'char-array', length: Number(arr[2]) };
    if (isChar && !arr[2] && f.size === 0) return { shape: 'inline-string' };
    const elem = C_INTS[arr[1]!.replace(/^(const |volatile )+/, '')];
    const count = Number(arr[2] || 0);
    if (elem && count > 0 && elem[0] * count === f.size)
      return { shape: 'int-array', bytes: elem[0], signed: elem[1], count };
    return { shape: 'unsupported', why: `array '${t}'` };
  }
  if (t.includes('*')) return { shape: 'pointer' };
  const base = t.replace(/^(const |volatile )+/, '').replace(/^(enum|struct|union) .*$/, '$&');
  if (/^(struct|union) /.test(base)) return { shape: 'unsupported', why: `embedded ${base}` };
  const known = C_INTS[base];
  if (known && known[0] <= f.size) return { shape: 'int', bytes: known[0], signed: known[1] };
  if ([1, 2, 4, 8].includes(f.size)) return { shape: 'int', bytes: f.size as 1 | 2 | 4 | 8, signed: f.signed };
  return { shape: 'unsupported', why: `${f.size}-byte '${t}'` };
}

/** Type of `args->field`; pointers in syscall tracepoints point to user memory. */
export function fieldType(f: TracepointField, category: string, strlen: number): Type | { unsupported: string } {
  const s = fieldShape(f);
  switch (s.shape) {
    case 'int':
      return { k: 'int', bytes: s.bytes, signed: s.signed };
    case 'pointer':
      return { k: 'int', bytes: 8, signed: false, space: category === 'syscalls' ? 'user' : 'kernel' };
    case 'char-array':
      return { k: 'str', size: s.length };
    case 'int-array':
      return { k: 'array', elem: { k: 'int', bytes: s.bytes, signed: s.signed }, count: s.count };
    case 'data-loc-array':
      return { k: 'array', elem: { k: 'int', bytes: s.bytes, signed: s.signed }, count: 0 };
    case 'data-loc-string':
    case 'inline-string':
      return { k: 'str', size: strlen };
    case 'unsupported':
      return { unsupported: s.why };
  }
}
