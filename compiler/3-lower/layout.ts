// compiler/3-lower/layout.ts — lays out records and keys that both the kernel
// and the runtime read: natural alignment, fields in declaration order, size
// rounded to 8. The same numbers go into the C (checked there with
// _Static_assert) and into the manifest (used by the decoder), so the two
// sides cannot disagree silently.
import type { ValueType } from '../manifest.js';
import type { CField, CStruct } from './c-ir.js';

export type FieldKind =
  | { kind: 'int'; bytes: 1 | 2 | 4 | 8; signed: boolean }
  | { kind: 'str'; size: number }
  | { kind: 'bytes'; size: number }
  /** buf(): `__u32 NAME_len` then `__u8 NAME[size]`. */
  | { kind: 'buf'; size: number }
  /** Values capc resolves when printing: struct capc_inet / capc_usym / capc_ustack (24 bytes each). */
  | { kind: 'inet' }
  | { kind: 'usym' }
  | { kind: 'ustack'; frames: number; stackMap: string; mode?: 'perf' }
  /** A kernel stack: `struct capc_kstack { __s64 id; }`, the id in the stack trace map `stackMap`. */
  | { kind: 'kstack'; frames: number; stackMap: string; mode?: 'perf' }
  /** Resolved from one __u64 (an address, nanoseconds, a cgroup id) or six bytes (a MAC address). */
  | { kind: 'ksym' }
  | { kind: 'strftime'; format: string }
  | { kind: 'cgroup_path'; filter: string }
  | { kind: 'macaddr' }
  /** A record, tuple or array: its bytes, `__u8 NAME[size]`, described to the runtime by `value`. */
  | { kind: 'value'; size: number; align: number; value: ValueType };

/** Bytes of the fixed-size resolved values (stdlib/capc.bpf.h checks them with _Static_assert). */
export const RESOLVED_SIZE = 24;

function sizeAlign(k: FieldKind): [number, number] {
  switch (k.kind) {
    case 'int':
      return [k.bytes, k.bytes];
    case 'str':
    case 'bytes':
      return [k.size, 1];
    case 'buf':
      return [4 + k.size, 4];
    case 'inet':
    case 'usym':
    case 'ustack':
      return [RESOLVED_SIZE, 8];
    case 'kstack':
    case 'ksym':
    case 'strftime':
    case 'cgroup_path':
      return [8, 8];
    case 'macaddr':
      return [6, 1];
    case 'value':
      return [k.size, k.align];
  }
}

export interface FieldSpec {
  name: string;
  what: FieldKind;
  comment?: string;
}

export interface LaidOutField {
  name: string;
  offset: number;
  size: number;
  what: FieldKind;
}

export interface StructLayout {
  fields: LaidOutField[];
  size: number;
}

const C_INT: Record<string, string> = {
  '1s': '__s8',
  '1u': '__u8',
  '2s': '__s16',
  '2u': '__u16',
  '4s': '__s32',
  '4u': '__u32',
  '8s': '__s64',
  '8u': '__u64',
};

export function cIntType(bytes: 1 | 2 | 4 | 8, signed: boolean): string {
  return C_INT[`${bytes}${signed ? 's' : 'u'}`]!;
}

export function layoutStruct(specs: FieldSpec[], headerBytes = 0): StructLayout {
  let off = headerBytes;
  const fields: LaidOutField[] = [];
  for (const s of specs) {
    const [size, align] = sizeAlign(s.what);
    off = Math.ceil(off / align) * align;
    fields.push({ name: s.name, offset: off, size, what: s.what });
    off += size;
  }
  return { fields, size: Math.max(8, Math.ceil(off / 8) * 8) };
}

/** The C struct for a layout. `header` fields (already laid out) come first. */
export function toCStruct(
  name: string,
  layout: StructLayout,
  comment?: string,
  header: CField[] = [],
  comments: Record<string, string> = {},
): CStruct {
  const fields: CField[] = [...header];
  let end = header.length ? header[header.length - 1]!.offset + header[header.length - 1]!.size : 0;
  let pad = 0;
  for (const f of layout.fields) {
    if (f.offset > end) {
      fields.push({ name: `_pad${pad++}`, type: '__u8', array: f.offset - end, offset: end, size: f.offset - end });
    }
    const w = f.what;
    if (w.kind === 'buf') {
      fields.push({ name: `${f.name}_len`, type: '__u32', offset: f.offset, size: 4, comment: 'bytes read' });
      fields.push({
        name: f.name,
        type: '__u8',
        array: w.size,
        offset: f.offset + 4,
        size: w.size,
        comment: comments[f.name],
      });
    } else if (w.kind === 'inet' || w.kind === 'usym' || w.kind === 'ustack' || w.kind === 'kstack') {
      fields.push({
        name: f.name,
        type: `struct capc_${w.kind}`,
        offset: f.offset,
        size: f.size,
        comment: comments[f.name],
      });
    } else if (w.kind === 'ksym' || w.kind === 'strftime' || w.kind === 'cgroup_path') {
      fields.push({ name: f.name, type: '__u64', offset: f.offset, size: 8, comment: comments[f.name] ?? w.kind });
    } else if (w.kind === 'macaddr') {
      fields.push({ name: f.name, type: '__u8', array: 6, offset: f.offset, size: 6, comment: 'macaddr' });
    } else if (w.kind === 'int') {
      fields.push({
        name: f.name,
        type: cIntType(w.bytes, w.signed),
        offset: f.offset,
        size: f.size,
        comment: comments[f.name],
      });
    } else if (w.kind === 'value') {
      fields.push({
        name: f.name,
        type: '__u8',
        array: f.size,
        offset: f.offset,
        size: f.size,
        comment: comments[f.name],
      });
    } else {
      fields.push({
        name: f.name,
        type: 'char',
        array: f.size,
        offset: f.offset,
        size: f.size,
        comment: comments[f.name],
      });
    }
    end = f.offset + f.size;
  }
  if (layout.size > end)
    fields.push({ name: `_pad${pad++}`, type: '__u8', array: layout.size - end, offset: end, size: layout.size - end });
  return { kind: 'struct', name, fields, size: layout.size, comment, assertLayout: true };
}
