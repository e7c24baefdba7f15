// compiler/3-lower/layout.ts — lays out records and keys that both the kernel
// and the runtime read: natural alignment, fields in declaration order, size
// rounded to 8. The same numbers go into the C (checked there with
// _Static_assert) and into the manifest (used by the decoder), so the two
// sides cannot disagree silently.
import type { CField, CStruct } from './c-ir.js';

export type FieldKind =
  | { kind: 'int'; bytes: 1 | 2 | 4 | 8; signed: boolean }
  | { kind: 'str'; size: number }
  | { kind: 'bytes'; size: number };

export interface FieldSpec { name: string; what: FieldKind; comment?: string }

export interface LaidOutField { name: string; offset: number; size: number; what: FieldKind }

export interface StructLayout { fields: LaidOutField[]; size: number }

const C_INT: Record<string, string> = { '1s': '__s8', '1u': '__u8', '2s': '__s16', '2u': '__u16', '4s': '__s32', '4u': '__u32', '8s': '__s64', '8u': '__u64' };

export function cIntType(bytes: 1 | 2 | 4 | 8, signed: boolean): string {
  return C_INT[`${bytes}${signed ? 's' : 'u'}`]!;
}

export function layoutStruct(specs: FieldSpec[], headerBytes = 0): StructLayout {
  let off = headerBytes;
  const fields: LaidOutField[] = [];
  for (const s of specs) {
    const size = s.what.kind === 'int' ? s.what.bytes : s.what.size;
    const align = s.what.kind === 'int' ? s.what.bytes : 1;
    off = Math.ceil(off / align) * align;
    fields.push({ name: s.name, offset: off, size, what: s.what });
    off += size;
  }
  return { fields, size: Math.max(8, Math.ceil(off / 8) * 8) };
}

/** The C struct for a layout. `header` fields (already laid out) come first. */
export function toCStruct(name: string, layout: StructLayout, comment?: string, header: CField[] = [], comments: Record<string, string> = {}): CStruct {
  const fields: CField[] = [...header];
  let end = header.length ? header[header.length - 1]!.offset + header[header.length - 1]!.size : 0;
  let pad = 0;
  for (const f of layout.fields) {
    if (f.offset > end) {
      fields.push({ name: `_pad${pad++}`, type: '__u8', array: f.offset - end, offset: end, size: f.offset - end });
    }
    const c: CField =
      f.what.kind === 'int'
        ? { name: f.name, type: cIntType(f.what.bytes, f.what.signed), offset: f.offset, size: f.size, comment: comments[f.name] }
        : { name: f.name, type: 'char', array: f.size, offset: f.offset, size: f.size, comment: comments[f.name] };
    fields.push(c);
    end = f.offset + f.size;
  }
  if (layout.size > end) fields.push({ name: `_pad${pad++}`, type: '__u8', array: layout.size - end, offset: end, size: layout.size - end });
  return { kind: 'struct', name, fields, size: layout.size, comment, assertLayout: true };
}
