// compiler/2-analyze/check-strings.ts — checks the string functions beyond
// == and != (strncmp, strcontains) and pton(), with bpftrace 0.17's rules:
// strncmp(a, b, n) takes two strings and a non-negative integer literal and
// is 0 when the first n characters match (1 otherwise); strcontains(h, n) is
// 1 when n occurs in h; pton("addr") is an IPv4 or IPv6 address literal made
// into its 4 or 16 bytes when the program is compiled.
import { isIPv4, isIPv6 } from 'node:net';
import type * as A from '../../grammar/ast.js';
import type { CheckContext } from './context.js';
import { ERROR, isStr, typeName, U64, type Type } from './types.js';

type CheckExpr = (e: A.Expr, cx: CheckContext) => Type;
type ArgCount = (e: A.CallExpr, cx: CheckContext, min: number, max: number, usage: string) => boolean;

/**
 * Most byte comparisons one strcontains() may make (haystack capacity ×
 * needle capacity): each is a few instructions the verifier walks, and its
 * limit is a million. The default strlen (64) gives 64 × 64.
 */
const MAX_CONTAINS_WORK = 64 * 1024;

function strArgs(e: A.CallExpr, n: number, cx: CheckContext, checkExpr: CheckExpr): boolean {
  let ok = true;
  for (const a of e.args.slice(0, n)) {
    const t = checkExpr(a, cx);
    if (t.k === 'error') ok = false;
    else if (!isStr(t)) {
      cx.bag.add(
        'E0302',
        `${e.name}() compares strings, not ${typeName(t)}`,
        a.span,
        t.k === 'int' && t.space ? 'read the string first: str(ptr)' : undefined,
      );
      ok = false;
    }
  }
  return ok;
}

/** strncmp(a, b, n): 0 when the first n characters of a and b are the same (both may end sooner), else 1. */
export function checkStrncmp(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr, argCount: ArgCount): Type {
  if (!argCount(e, cx, 3, 3, 'strncmp(a, b, n)')) return ERROR;
  const ok = strArgs(e, 2, cx, checkExpr);
  const n = e.args[2]!;
  checkExpr(n, cx);
  if (n.kind !== 'Int') {
    cx.bag.add(
      'E0302',
      'strncmp() needs the length as an integer literal',
      n.span,
      'strncmp(comm, "python", 6) == 0 is true for python3 too',
    );
    return ERROR;
  }
  if (n.value < 0n) {
    cx.bag.add('E0310', 'strncmp() length must not be negative', n.span);
    return ERROR;
  }
  if (!ok) return ERROR;
  // Strings longer than any capacity compare within their capacities: clamp n to keep it a 32-bit constant.
  cx.inst.calls.set(e, { fn: 'strncmp', n: Number(n.value > 0xffffn ? 0xffffn : n.value) });
  return U64;
}

/** strcontains(haystack, needle): 1 when needle occurs in haystack (the empty string occurs everywhere). */
export function checkStrcontains(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr, argCount: ArgCount): Type {
  if (!argCount(e, cx, 2, 2, 'strcontains(haystack, needle)')) return ERROR;
  if (!strArgs(e, 2, cx, checkExpr)) return ERROR;
  const [h, n] = e.args.map((a) => cx.inst.types.get(a)) as [Type, Type];
  const hSize = isStr(h) ? h.size : 0;
  const nSize = e.args[1]!.kind === 'Str' ? (e.args[1] as A.StrLit).value.length : isStr(n) ? n.size : 0;
  if (e.args[0]!.kind !== 'Str' && hSize * nSize > MAX_CONTAINS_WORK) {
    cx.bag.add(
      'E0310',
      `strcontains() of a ${hSize}-byte string and a ${nSize}-byte one is more work than the verifier allows`,
      e.span,
      `at most ${MAX_CONTAINS_WORK} byte comparisons: read shorter strings with str(ptr, n), or lower --strlen`,
    );
    return ERROR;
  }
  cx.inst.calls.set(e, { fn: 'strcontains' });
  return U64;
}

/** pton("1.2.3.4") / pton("::1"): the address's bytes, a constant (an array of 4 or 16 uint8). */
export function checkPton(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr, argCount: ArgCount): Type {
  if (!argCount(e, cx, 1, 1, 'pton("127.0.0.1") or pton("::1")')) return ERROR;
  const a = e.args[0]!;
  const t = checkExpr(a, cx);
  if (a.kind !== 'Str') {
    if (t.k !== 'error')
      cx.bag.add(
        'E0302',
        `pton() needs an address as a string literal, not ${typeName(t)}`,
        a.span,
        'pton("10.0.0.1"): the address is made into bytes when the program is compiled',
      );
    return ERROR;
  }
  const text = Buffer.from(a.value).toString('latin1');
  const bytes = parseAddress(text);
  if (!bytes) {
    cx.bag.add(
      'E0302',
      `pton() expects a valid IPv4/IPv6 address, got '${text}'`,
      a.span,
      'e.g. pton("192.168.0.1"), pton("::1"), pton("::ffff:10.0.0.1")',
    );
    return ERROR;
  }
  cx.inst.calls.set(e, { fn: 'pton', bytes });
  return { k: 'array', elem: { k: 'int', bytes: 1, signed: false }, count: bytes.length, bytes };
}

/** inet_pton(3): AF_INET when there is no ':' (as bpftrace decides), else AF_INET6. */
export function parseAddress(s: string): Uint8Array | undefined {
  if (!s.includes(':')) return isIPv4(s) ? Uint8Array.from(s.split('.').map(Number)) : undefined;
  if (!isIPv6(s) || s.includes('%')) return undefined;
  let text = s;
  const tail: number[] = [];
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = v4[2]!.split('.').map(Number);
    tail.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
    text = v4[1]!.endsWith('::') ? v4[1]! : v4[1]!.slice(0, -1);
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const words = (p: string | undefined) => (p ? p.split(':').map((w) => parseInt(w, 16)) : []);
  const left = words(head);
  const right = [...words(rest), ...tail];
  const fill = rest === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  const all = [...left, ...fill, ...right];
  if (all.length !== 8) return undefined;
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}
