// runtime/format/printf.ts — formats printf records in userspace from the
// segments the compiler parsed, with C semantics for flags, width and
// precision. Works on bytes: strings from the kernel are printed exactly as
// they were, whatever their encoding.
import type { FormatSegment } from '../../compiler/index.js';
import { ResolvedPart, type PrintfValue } from '../events/model.js';

/**
 * buf() bytes as bpftrace prints them: %r printable ASCII as is and every
 * other byte `\xNN`; %rx every byte `\xNN`; %rh hex bytes separated by spaces.
 */
export function formatBuf(b: Buffer, conv: 'r' | 'rx' | 'rh'): Buffer {
  const hex2 = (x: number) => x.toString(16).padStart(2, '0');
  if (conv === 'rh') return Buffer.from([...b].map(hex2).join(' '), 'latin1');
  let out = '';
  for (const x of b) out += conv === 'r' && x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : `\\x${hex2(x)}`;
  return Buffer.from(out, 'latin1');
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

/** `bits`: how much of the 64-bit argument the conversion reads (its length modifier: 8, 16, 32 or 64). */
function intConv(conv: string, v: bigint, flags: string, precision: number | undefined, bits = 64): string {
  let digits: string;
  let prefix = '';
  switch (conv) {
    case 'd':
    case 'i': {
      const s = BigInt.asIntN(bits, v);
      const neg = s < 0n;
      digits = (neg ? -s : s).toString();
      prefix = neg ? '-' : flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : '';
      break;
    }
    case 'u':
      digits = BigInt.asUintN(bits, v).toString();
      break;
    case 'x':
    case 'X':
      digits = BigInt.asUintN(bits, v).toString(16);
      if (conv === 'X') digits = digits.toUpperCase();
      if (flags.includes('#') && v !== 0n) prefix = conv === 'x' ? '0x' : '0X';
      break;
    case 'o':
      digits = BigInt.asUintN(bits, v).toString(8);
      if (flags.includes('#')) digits = '0' + digits;
      break;
    case 'p':
      return '0x' + BigInt.asUintN(64, v).toString(16);
    default:
      digits = v.toString();
  }
  if (precision !== undefined && digits.length < precision) digits = '0'.repeat(precision - digits.length) + digits;
  return prefix + digits;
}

/** C-string bytes of a fixed buffer (up to the first NUL). */
export function cstr(b: Buffer): Buffer {
  const nul = b.indexOf(0);
  return nul < 0 ? b : b.subarray(0, nul);
}

/**
 * Integer arguments are 64-bit (sign- or zero-extended from their type, as C
 * passes them), read through each conversion's length modifier (`bits`: %d
 * prints 32 bits, %ld 64, as bpftrace does). Built as a latin1 string (one
 * character per byte, so kernel strings pass through unchanged) and encoded
 * once: a Buffer per piece and a concat per record cost more than the
 * formatting itself at a million records a second.
 */
export function formatPrintf(segments: FormatSegment[], values: PrintfValue[]): Buffer {
  let out = '';
  for (const seg of segments) {
    if ('lit' in seg) {
      out += seg.lit;
      continue;
    }
    const v = values[seg.arg]!;
    if (seg.conv === 'r' || seg.conv === 'rx' || seg.conv === 'rh') {
      out += formatBuf(typeof v === 'object' && 'buf' in v ? v.buf : Buffer.alloc(0), seg.conv).toString('latin1');
      continue;
    }
    if (seg.conv === 's' || seg.conv === 'c') {
      let text: string;
      if (seg.conv === 'c') text = String.fromCharCode(Number(BigInt.asUintN(8, v as bigint)));
      else
        text = Buffer.isBuffer(v)
          ? cstr(v).toString('latin1')
          : v instanceof ResolvedPart
            ? Buffer.from(v.text).toString('latin1')
            : typeof v === 'object'
              ? 'buf' in v
                ? v.buf.toString('latin1')
                : ''
              : Buffer.from(String(v)).toString('latin1');
      if (seg.conv === 's' && seg.precision !== undefined) text = text.slice(0, seg.precision);
      const w = seg.width ?? 0;
      if (text.length < w)
        text = seg.flags.includes('-') ? text + ' '.repeat(w - text.length) : ' '.repeat(w - text.length) + text;
      out += text;
      continue;
    }
    out += pad(
      intConv(seg.conv, v as bigint, seg.flags, seg.precision, seg.bits ?? 64),
      seg.flags,
      seg.width,
      seg.precision === undefined,
    );
  }
  return Buffer.from(out, 'latin1');
}
