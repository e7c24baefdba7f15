// compiler/2-analyze/check-strings.ts — checks pton(), with bpftrace 0.17's
// rules: pton("addr") is an IPv4 or IPv6 address literal made into its 4 or
// 16 bytes when the program is compiled. (strncmp and strcontains are builtin
// table entries: compiler/builtins/strings.ts.)
import { isIPv4, isIPv6 } from 'node:net';
import type * as A from '../../grammar/ast.js';
import type { CheckContext } from './context.js';
import { ERROR, typeName, type Type } from './types.js';

type CheckExpr = (e: A.Expr, cx: CheckContext) => Type;
type ArgCount = (e: A.CallExpr, cx: CheckContext, min: number, max: number, usage: string) => boolean;

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
