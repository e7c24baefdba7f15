// grammar/literals.ts — decoding of literal text: string escapes, integer
// literals with bases and size suffixes, and probe-spec splitting.
import type { Span } from './ast.js';

export interface LiteralProblem {
  message: string;
  offset: number;
  length: number;
}

/**
 * Decode a string literal (with its quotes) into bytes. Supports C escapes:
 * \n \t \r \0 \\ \" \' \a \b \f \v \e, \xHH and octal \NNN. Source text is UTF-8.
 */
export function decodeString(raw: string): { bytes: Uint8Array; problems: LiteralProblem[] } {
  const body = raw.slice(1, raw.endsWith('"') && raw.length > 1 ? -1 : undefined);
  const out: number[] = [];
  const problems: LiteralProblem[] = [];
  const simple: Record<string, number> = {
    n: 10,
    t: 9,
    r: 13,
    '\\': 92,
    '"': 34,
    "'": 39,
    a: 7,
    b: 8,
    f: 12,
    v: 11,
    e: 27,
  };
  const enc = new TextEncoder();
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '\\') {
      const cp = body.codePointAt(i)!;
      if (cp > 0xffff) i++;
      out.push(...enc.encode(String.fromCodePoint(cp)));
      continue;
    }
    const next = body[i + 1];
    if (next === undefined) break;
    if (next in simple) {
      out.push(simple[next]!);
      i++;
      continue;
    }
    if (next === 'x') {
      const m = /^[0-9a-fA-F]{1,2}/.exec(body.slice(i + 2));
      if (!m) {
        problems.push({ message: '\\x needs one or two hex digits', offset: i + 1, length: 2 });
        i++;
        continue;
      }
      out.push(parseInt(m[0], 16));
      i += 1 + m[0].length;
      continue;
    }
    if (/[0-7]/.test(next)) {
      const m = /^[0-7]{1,3}/.exec(body.slice(i + 1))!;
      const v = parseInt(m[0], 8);
      if (v > 255)
        problems.push({
          message: `octal escape \\${m[0]} is larger than one byte`,
          offset: i + 1,
          length: m[0].length + 1,
        });
      out.push(v & 255);
      i += m[0].length;
      continue;
    }
    problems.push({ message: `unknown escape sequence \\${next}`, offset: i + 1, length: 2 });
    out.push(next.charCodeAt(0));
    i++;
  }
  return { bytes: Uint8Array.from(out), problems };
}

/**
 * Offset in the raw literal text (quotes included) of each decoded byte, plus
 * one entry for the end, so diagnostics about a decoded string (a printf
 * format) can point at the exact characters in the source.
 */
export function rawOffsets(raw: string): number[] {
  const map: number[] = [];
  const enc = new TextEncoder();
  for (let i = 1; i < raw.length - (raw.endsWith('"') ? 1 : 0); i++) {
    const ch = raw[i]!;
    if (ch !== '\\') {
      const cp = raw.codePointAt(i)!;
      const n = enc.encode(String.fromCodePoint(cp)).length;
      for (let k = 0; k < n; k++) map.push(i);
      if (cp > 0xffff) i++;
      continue;
    }
    map.push(i);
    const next = raw[i + 1];
    if (next === 'x') i += 1 + (/^[0-9a-fA-F]{1,2}/.exec(raw.slice(i + 2))?.[0].length ?? 0);
    else if (next !== undefined && /[0-7]/.test(next)) i += /^[0-7]{1,3}/.exec(raw.slice(i + 1))![0].length;
    else i++;
  }
  map.push(raw.length - (raw.endsWith('"') ? 1 : 0));
  return map;
}

/** Parse an integer literal: decimal, 0x hex, 0b binary, `_` separators, `1e6`, and K/M/G (×1024ⁿ). */
export function parseIntLiteral(text: string): bigint | undefined {
  let t = text.replace(/_/g, '');
  let mult = 1n;
  const suffix = /[KMG]$/.exec(t);
  if (suffix) {
    mult = { K: 1024n, M: 1024n ** 2n, G: 1024n ** 3n }[suffix[0] as 'K' | 'M' | 'G'];
    t = t.slice(0, -1);
  }
  try {
    if (/^0[xX][0-9a-fA-F]+$/.test(t)) return BigInt(t) * mult;
    if (/^0[bB][01]+$/.test(t)) return BigInt(t) * mult;
    const e = /^(\d+)[eE](\d+)$/.exec(t);
    if (e) return BigInt(e[1]!) * 10n ** BigInt(e[2]!) * mult;
    // A leading 0 makes it octal, as in C and bpftrace (0100 is 64: O_CREAT from <fcntl.h>).
    if (/^0[0-7]+$/.test(t)) return BigInt(`0o${t.slice(1)}`) * mult;
    if (/^0\d+$/.test(t)) return undefined;
    if (/^\d+$/.test(t)) return BigInt(t) * mult;
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * Split a probe spec token into its `:`-separated parts. Quoted parts
 * (`usdt:"/opt/my app/bin":prov:probe`) keep their colons and lose their quotes.
 */
export function splitProbeSpec(text: string, span: Span): { text: string; span: Span }[] {
  const parts: { text: string; span: Span }[] = [];
  let cur = '';
  let partStart = 0;
  let inQuote = false;
  const at = (from: number, to: number): Span => ({
    start: span.start + from,
    end: span.start + to,
    line: span.line,
    col: span.col + from,
    endLine: span.line,
    endCol: span.col + to,
  });
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inQuote) {
      if (ch === '\\' && i + 1 < text.length) {
        cur += text[i + 1];
        i++;
        continue;
      }
      if (ch === '"') {
        inQuote = false;
        continue;
      }
      cur += ch;
      continue;
    }
    if (ch === '"') {
      inQuote = true;
      continue;
    }
    if (ch === ':') {
      parts.push({ text: cur, span: at(partStart, i) });
      cur = '';
      partStart = i + 1;
      continue;
    }
    cur += ch;
  }
  parts.push({ text: cur, span: at(partStart, text.length) });
  return parts;
}
