// compiler/2-analyze/printf-format.ts — parses printf format strings into
// segments (literal bytes and conversions) and says what each conversion needs.
// The segments go into the manifest; the runtime formats from them, so the
// format is parsed once, here, and never re-interpreted differently.
//
// Accepted: %[flags][width][.precision][length]conv with flags "-+ #0",
// length hh h l ll j z t, conv d i u x X o c s p, bpftrace's %r %rx %rh for
// buffers, and %%. Every argument is 64-bit, as in bpftrace; the length
// modifier says how many of its bits an integer conversion prints, as C
// reads a 64-bit argument through it: none 32 (`%x` of -1 is ffffffff), h
// 16, hh 8, l ll j z t 64 (`%lx`, `%llu`).
// The segment type is the manifest's (the contract with the runtime).
import type { Conv, FormatSegment } from '../manifest.js';

export type { FormatSegment };

export interface FormatProblem {
  message: string;
  offset: number;
  length: number;
}

/** Bits an integer conversion prints, by length modifier (C reading a 64-bit argument). */
const LENGTH_BITS: Record<string, 8 | 16 | 32 | 64> = { '': 32, hh: 8, h: 16, l: 64, ll: 64, j: 64, z: 64, t: 64 };
const INT_CONVS = new Set<Conv>(['d', 'i', 'u', 'x', 'X', 'o']);

export function parseFormat(bytes: Uint8Array): {
  segments: FormatSegment[];
  argCount: number;
  problems: FormatProblem[];
} {
  const s = Buffer.from(bytes).toString('latin1');
  const segments: FormatSegment[] = [];
  const problems: FormatProblem[] = [];
  let lit = '';
  let arg = 0;
  const re = /%([-+ #0]*)(\d+)?(?:\.(\d+))?(hh|h|ll|l|j|z|t)?(rx|rh|[diuxXocspr])?/y;
  for (let i = 0; i < s.length; ) {
    const ch = s[i]!;
    if (ch !== '%') {
      lit += ch;
      i++;
      continue;
    }
    if (s[i + 1] === '%') {
      lit += '%';
      i += 2;
      continue;
    }
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m || !m[5]) {
      const len = Math.min(s.length - i, (m?.[0].length ?? 1) + 1);
      const bad = JSON.stringify(s.slice(i, i + len)).slice(1, -1);
      problems.push({
        message: i + 1 >= s.length ? 'the format ends with a lone %' : `unknown conversion '${bad}'`,
        offset: i,
        length: len,
      });
      i += len;
      continue;
    }
    if (lit) {
      segments.push({ lit });
      lit = '';
    }
    const seg: FormatSegment = { conv: m[5] as Conv, flags: m[1] ?? '', arg: arg++ };
    if (m[2]) seg.width = Number(m[2]);
    if (m[3]) seg.precision = Number(m[3]);
    const bits = LENGTH_BITS[m[4] ?? ''];
    if (bits && INT_CONVS.has(seg.conv)) seg.bits = bits;
    segments.push(seg);
    i += m[0].length;
  }
  if (lit) segments.push({ lit });
  return { segments, argCount: arg, problems };
}

/** What kind of value a conversion takes. */
export function convNeeds(c: Conv): 'int' | 'str' | 'buf' | 'any-int' {
  switch (c) {
    case 's':
      return 'str';
    case 'r':
    case 'rx':
    case 'rh':
      return 'buf';
    case 'p':
      return 'any-int';
    default:
      return 'int';
  }
}
