// runtime/format/fast-printf.ts — a formatter compiled per printf record
// layout, for the common case: integer and string fields printed with
// %d %i %u %x %X %o %c %s %p (flags, width, precision and length included:
// integers are 64-bit arguments read through the length modifier). The
// generated function reads the fields straight from the ring's memory and
// builds one latin1 string (one character per byte, so kernel strings pass
// through unchanged); 64-bit integers go through Numbers when they fit in 53
// bits, BigInt only when they do not. Anything else (other conversions, other
// field kinds) returns undefined and uses the generic formatPrintf.
//
// The code is generated from the manifest capc's compiler wrote: literal text
// is embedded with JSON.stringify, offsets and sizes are checked integers.
import type { FormatSegment, ManifestEvent } from '../../compiler/index.js';
import type { FastFormatter } from '../events/formatters.js';

const SIMPLE = new Set(['d', 'i', 'u', 'x', 'X', 'o', 'c', 's', 'p']);
const TWO32 = 4294967296;

/** Digits of a 64-bit integer given as two 32-bit halves, for one conversion. */
function intText(conv: string, lo: number, hi: number, signed: boolean): string {
  // hi is the raw high word (0..2^32-1); values within 2^53 take the Number path.
  if (conv === 'd' || conv === 'i') {
    if (signed && hi >= 0x80000000) {
      const nhi = hi - TWO32; // negative high word
      if (nhi >= -0x200000) return String(nhi * TWO32 + lo);
      return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
    }
    if (hi < 0x200000) return String(hi * TWO32 + lo);
    return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
  }
  const radix = conv === 'o' ? 8 : conv === 'u' ? 10 : 16;
  const t = hi < 0x200000 ? (hi * TWO32 + lo).toString(radix) : ((BigInt(hi) << 32n) | BigInt(lo)).toString(radix);
  return conv === 'X' ? t.toUpperCase() : t;
}

function pad(body: string, flags: string, width: number | undefined, zeroOk: boolean): string {
  if (!width || body.length >= width) return body;
  if (flags.includes('-')) return body + ' '.repeat(width - body.length);
  if (zeroOk && flags.includes('0')) {
    const sign = /^[-+ ]|^0[xX]/.exec(body)?.[0] ?? '';
    return sign + '0'.repeat(width - body.length) + body.slice(sign.length);
  }
  return ' '.repeat(width - body.length) + body;
}

/** Integer conversion with C's flags and precision (the generated code calls this only when it must). */
function intConvFull(
  conv: string,
  lo: number,
  hi: number,
  signed: boolean,
  flags: string,
  width: number | undefined,
  precision: number | undefined,
): string {
  if (conv === 'p') return pad('0x' + intText('x', lo, hi, false), flags, width, false);
  let digits = intText(conv, lo, hi, signed);
  let prefix = '';
  if ((conv === 'd' || conv === 'i') && digits.startsWith('-')) {
    prefix = '-';
    digits = digits.slice(1);
  } else if (conv === 'd' || conv === 'i') prefix = flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : '';
  if ((conv === 'x' || conv === 'X') && flags.includes('#') && (lo !== 0 || hi !== 0))
    prefix = conv === 'x' ? '0x' : '0X';
  if (conv === 'o' && flags.includes('#')) digits = '0' + digits;
  if (precision !== undefined && digits.length < precision) digits = '0'.repeat(precision - digits.length) + digits;
  return pad(prefix + digits, flags, width, precision === undefined);
}

const latin1 = (data: Uint8Array, start: number, end: number): string =>
  Buffer.prototype.latin1Slice.call(data, start, end) as string;

export function compileFastPrintf(ev: ManifestEvent): FastFormatter | undefined {
  if ((ev.kind ?? 'printf') !== 'printf' || !ev.segments) return undefined;
  const segs: FormatSegment[] = ev.segments;
  const fields = ev.fields;
  for (const s of segs) {
    if ('lit' in s) continue;
    const f = fields[s.arg];
    if (!f || !SIMPLE.has(s.conv)) return undefined;
    if (f.type === 'str' ? s.conv !== 's' : f.type !== 'int' || s.conv === 's') return undefined;
    if (f.type === 'int' && ![1, 2, 4, 8].includes(f.size)) return undefined;
  }
  const body: string[] = ['let s = "";'];
  const ok = (n: number) => Number.isSafeInteger(n) && n >= 0;
  for (const s of segs) {
    if ('lit' in s) {
      body.push(`s += ${JSON.stringify(s.lit)};`);
      continue;
    }
    const f = fields[s.arg]!;
    if (!ok(f.offset) || !ok(f.size)) return undefined;
    const at = `o + ${f.offset}`;
    if (f.type === 'str') {
      // Up to the first NUL inside the field.
      body.push(
        `{ const a = ${at}, z = a + ${f.size}; let e = d.indexOf(0, a); if (e < 0 || e > z) e = z; let t = latin1(d, a, e);`,
      );
      if (s.precision !== undefined) body.push(`t = t.slice(0, ${s.precision});`);
      if (s.width)
        body.push(
          s.flags.includes('-')
            ? `if (t.length < ${s.width}) t += " ".repeat(${s.width} - t.length);`
            : `if (t.length < ${s.width}) t = " ".repeat(${s.width} - t.length) + t;`,
        );
      body.push('s += t; }');
      continue;
    }
    const signed = !!f.signed;
    // The argument as C gets it: 64 bits, sign- or zero-extended from the field's type...
    let lo: string;
    let hi: string;
    if (f.size === 8) {
      body.push(`{ const lo64 = v.getUint32(${at}, true), hi64 = v.getUint32(${at} + 4, true);`);
    } else {
      const get = {
        1: signed ? 'getInt8' : 'getUint8',
        2: signed ? 'getInt16' : 'getUint16',
        4: signed ? 'getInt32' : 'getUint32',
      }[f.size as 1 | 2 | 4];
      body.push(
        `{ const n = v.${get}(${at}${f.size > 1 ? ', true' : ''}); const lo64 = n >>> 0, hi64 = n < 0 ? 4294967295 : 0;`,
      );
    }
    // ...then read through the conversion's length modifier: none 32 bits, h 16, hh 8, l/ll 64.
    const asSigned = s.conv === 'd' || s.conv === 'i';
    const bits = s.conv === 'p' || s.conv === 'c' ? 64 : (s.bits ?? 64);
    if (bits === 64) {
      lo = 'lo64';
      hi = 'hi64';
    } else {
      const mask = bits === 32 ? 0xffffffff : 2 ** bits - 1;
      const sign = 2 ** (bits - 1);
      body.push(
        asSigned
          ? `const lo = (lo64 & ${sign}) ? ((lo64 | ${0xffffffff - mask}) >>> 0) : (lo64 & ${mask}) >>> 0, hi = (lo64 & ${sign}) ? 4294967295 : 0;`
          : `const lo = (lo64 & ${mask}) >>> 0, hi = 0;`,
      );
      lo = 'lo';
      hi = 'hi';
    }
    const open = '';
    if (s.conv === 'c') {
      const w = s.width ?? 0;
      const ch = `String.fromCharCode((${lo}) & 255)`;
      body.push(
        `${open} s += ${w > 1 ? (s.flags.includes('-') ? `${ch} + ${JSON.stringify(' '.repeat(w - 1))}` : `${JSON.stringify(' '.repeat(w - 1))} + ${ch}`) : ch}; }`,
      );
      continue;
    }
    const simple = !s.flags && s.width === undefined && s.precision === undefined && s.conv !== 'p';
    body.push(
      simple
        ? `${open} s += intText(${JSON.stringify(s.conv)}, ${lo}, ${hi}, ${asSigned}); }`
        : `${open} s += intConvFull(${JSON.stringify(s.conv)}, ${lo}, ${hi}, ${asSigned}, ${JSON.stringify(s.flags)}, ${s.width ?? 'undefined'}, ${s.precision ?? 'undefined'}); }`,
    );
  }
  body.push('return s;');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const make = new Function(
    'intText',
    'intConvFull',
    'latin1',
    `return function fastPrintf(v, d, o) {\n${body.join('\n')}\n};`,
  ) as (...a: unknown[]) => FastFormatter;
  return make(intText, intConvFull, latin1);
}
