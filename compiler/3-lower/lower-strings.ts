// compiler/3-lower/lower-strings.ts — lowers strncmp() and strcontains() to
// the branch-light helpers of stdlib/capc-strings.bpf.h, and an element of
// pton()'s constant bytes (`pton("::1")[15]`; a variable or a map holding
// them is an array like any other: lower-memory.ts). Reached through
// FnBuilder's Lowerers (lower-expr.ts calls back here).
import type * as A from '../../grammar/ast.js';
import type { Type } from '../2-analyze/types.js';
import { bin, call, cast, num, un, type CExpr } from './c-ir.js';
import type { FnBuilder, IntVal, StringsLowerer } from './fn-builder.js';
import { lowerInt, lowerStrRef, type StrRef } from './lower-expr.js';

const flag = (e: CExpr): IntVal => ({ e, unsigned: false, narrow: true });

function typeIn(b: FnBuilder, e: A.Expr): Type {
  const t = b.inst.types.get(e);
  if (!t) throw new Error(`internal: expression at ${e.span.line}:${e.span.col} has no type`);
  return t;
}

/** A literal's characters (up to its first NUL). */
function chars(r: StrRef): Uint8Array {
  const lit = r.literal!;
  const nul = lit.indexOf(0);
  return nul >= 0 ? lit.subarray(0, nul) : lit;
}

/**
 * strncmp(a, b, n) → 0 when equal. Comparing min(n, capacities) bytes up to
 * a's NUL decides it: the shorter string's NUL comes within its capacity.
 */
function strncmp(b: FnBuilder, e: A.CallExpr, n: number): IntVal {
  let x = lowerStrRef(b, e.args[0]!);
  let y = lowerStrRef(b, e.args[1]!);
  if (x.literal && y.literal) {
    const p = Buffer.from([...chars(x), 0]).subarray(0, n);
    const q = Buffer.from([...chars(y), 0]).subarray(0, n);
    return flag(num(p.equals(q) ? 0 : 1));
  }
  if (x.literal) [x, y] = [y, x];
  if (y.literal) {
    // The literal with its NUL, cut at n and at x's capacity (x ends within it).
    const withNul = new Uint8Array([...chars(y), 0]);
    const k = Math.min(n, withNul.length, x.size);
    if (k === 0) return flag(num(0));
    return flag(un('!', call('capc_memeq_lit', x.ptr!, { k: 'strlit', bytes: withNul.subarray(0, k) }, num(k))));
  }
  const k = Math.min(n, x.size, y.size);
  if (k === 0) return flag(num(0));
  return flag(un('!', call('capc_streq', x.ptr!, y.ptr!, num(k))));
}

/** strcontains(h, needle): a literal needle is matched at each start; two run-time strings compare up to the needle's NUL. */
function strcontains(b: FnBuilder, e: A.CallExpr): IntVal {
  const h = lowerStrRef(b, e.args[0]!);
  const n = lowerStrRef(b, e.args[1]!);
  if (n.literal) {
    const needle = chars(n);
    if (needle.length === 0) return flag(num(1));
    if (h.literal) return flag(num(Buffer.from(chars(h)).includes(Buffer.from(needle)) ? 1 : 0));
    // h holds at most size-1 characters.
    if (needle.length > h.size - 1) return flag(num(0));
    return flag(call('capc_strcontains_lit', h.ptr!, num(h.size), { k: 'strlit', bytes: needle }, num(needle.length)));
  }
  const hay = h.literal ? literalSlot(b, h) : h;
  return flag(call('capc_strcontains', hay.ptr!, num(hay.size), n.ptr!, num(n.size)));
}

/** A literal haystack searched for a run-time needle: its bytes, NUL-terminated, as a C string constant. */
function literalSlot(b: FnBuilder, r: StrRef): { ptr: CExpr; size: number } {
  const bytes = chars(r);
  void b;
  return { ptr: { k: 'strlit', bytes }, size: bytes.length + 1 };
}

/** `pton(...)[i]`, `$addr[i]`: a constant element, or a chain of tests for an index known at run time. */
function constIndex(b: FnBuilder, e: A.IndexExpr): IntVal {
  const t = typeIn(b, e.object);
  if (t.k !== 'array' || !t.bytes) throw new Error('internal: index of a non-constant array');
  const bytes = t.bytes;
  if (e.index.kind === 'Int') return { e: num(bytes[Number(e.index.value)] ?? 0), unsigned: true };
  const i = b.local('__u64', b.fresh('idx'));
  b.emit({ k: 'expr', e: bin('=', i, lowerInt(b, e.index).e) });
  let out: CExpr = num(0);
  for (let k = bytes.length - 1; k >= 0; k--) out = { k: 'cond', c: bin('==', i, num(k)), t: num(bytes[k]!), f: out };
  return { e: cast('__u64', out), unsigned: true };
}

export const STRINGS: StringsLowerer = {
  call(b, e) {
    const info = b.inst.calls.get(e);
    if (info?.fn === 'strncmp') return strncmp(b, e, info.n);
    if (info?.fn === 'strcontains') return strcontains(b, e);
    return undefined;
  },
  constIndex,
};
