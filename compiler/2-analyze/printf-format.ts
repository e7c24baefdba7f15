// compiler/2-analyze/printf-format.ts — parses printf format strings into
// segments (literal bytes and conversions) and says what each conversion needs.
// The segments go into the manifest; the runtime formats from them, so the
// format is parsed once, here, and never re-interpreted differently.
//
// Accepted: %[flags][width][.precision][length]conv with flags "-+ #0",
// length hh h l ll j z t (accepted and ignored: values are 64-bit), conv
// d i u x X o c s p, bpftrace's %r %rx %rh for buffers, and %%.
// The segment type is the manifest's (the contract with the runtime).
import type { Conv, FormatSegment } from '../manifest.js';

export type { FormatSegment };

export interface FormatProblem {
  message: string;
  offset: number;
  length: number;
}

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
