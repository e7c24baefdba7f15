// runtime/format/values.ts — records, tuples and arrays as bpftrace 0.17
// prints them, from their bytes and the layout the manifest gives
// (ValueType): as a value `{ .x = 1, .y = 2 }`, `[1,2,3]`, `(1, abc, (2, 3))`;
// as a map key `{.x=1,.y=2}` (bpftrace's compact key form); and as JSON
// `{ "x": 1, "y": 2 }`, `[1,2]` (tuples are arrays). Strings print up to
// their NUL, pointers as integers, bitfields as their own bits.
import type { ValueType } from '../../compiler/index.js';

export type ValueStyle = 'value' | 'key';

function readInt(vt: Extract<ValueType, { t: 'int' }>, b: Buffer, at: number): bigint {
  if (vt.bits) {
    const need = Math.ceil((vt.bits.offset + vt.bits.size) / 8);
    let raw = 0n;
    for (let i = Math.min(need, 8) - 1; i >= 0; i--) raw = (raw << 8n) | BigInt(b[at + i] ?? 0);
    const v = (raw >> BigInt(vt.bits.offset)) & ((1n << BigInt(vt.bits.size)) - 1n);
    return vt.signed ? BigInt.asIntN(vt.bits.size, v) : v;
  }
  if (at + vt.size > b.length) return 0n;
  switch (vt.size) {
    case 1:
      return BigInt(vt.signed ? b.readInt8(at) : b.readUInt8(at));
    case 2:
      return BigInt(vt.signed ? b.readInt16LE(at) : b.readUInt16LE(at));
    case 4:
      return BigInt(vt.signed ? b.readInt32LE(at) : b.readUInt32LE(at));
    default:
      return vt.signed ? b.readBigInt64LE(at) : b.readBigUInt64LE(at);
  }
}

function strAt(size: number, b: Buffer, at: number): Buffer {
  const s = b.subarray(at, Math.min(b.length, at + size));
  const nul = s.indexOf(0);
  return nul < 0 ? s : s.subarray(0, nul);
}

/** A value's text: bpftrace's value form, or its compact map-key form. */
export function valueText(vt: ValueType, b: Buffer, style: ValueStyle = 'value', at = 0): string {
  switch (vt.t) {
    case 'int':
      return readInt(vt, b, at).toString();
    case 'str':
      return strAt(vt.size, b, at).toString('latin1');
    case 'record': {
      if (style === 'key')
        return `{${vt.fields.map((f) => `.${f.name}=${valueText(f.type, b, style, at + f.offset)}`).join(',')}}`;
      return `{ ${vt.fields.map((f) => `.${f.name} = ${valueText(f.type, b, style, at + f.offset)}`).join(', ')} }`;
    }
    case 'array': {
      const stride = vt.count ? vt.size / vt.count : 0;
      const items: string[] = [];
      for (let i = 0; i < vt.count; i++) items.push(valueText(vt.elem, b, style, at + i * stride));
      return `[${items.join(',')}]`;
    }
    case 'tuple':
      return `(${vt.elems.map((e) => valueText(e.type, b, style, at + e.offset)).join(', ')})`;
  }
}

/** A value as bpftrace's JSON prints it (records as objects, tuples and arrays as arrays). */
export function valueJson(vt: ValueType, b: Buffer, at = 0): string {
  switch (vt.t) {
    case 'int':
      return readInt(vt, b, at).toString();
    case 'str':
      return JSON.stringify(strAt(vt.size, b, at).toString('utf8'));
    case 'record':
      return `{ ${vt.fields.map((f) => `${JSON.stringify(f.name)}: ${valueJson(f.type, b, at + f.offset)}`).join(', ')} }`;
    case 'array': {
      const stride = vt.count ? vt.size / vt.count : 0;
      const items: string[] = [];
      for (let i = 0; i < vt.count; i++) items.push(valueJson(vt.elem, b, at + i * stride));
      return `[${items.join(',')}]`;
    }
    case 'tuple':
      return `[${vt.elems.map((e) => valueJson(e.type, b, at + e.offset)).join(',')}]`;
  }
}
