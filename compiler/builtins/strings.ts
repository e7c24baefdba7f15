// compiler/builtins/strings.ts — the string functions beyond == and !=, with
// bpftrace 0.17's rules: strncmp(a, b, n) takes two strings and a
// non-negative integer literal and is 0 when the first n characters match (1
// otherwise); strcontains(h, n) is 1 when n occurs in h. Lowered to the
// branch-light helpers of stdlib/capc-strings.bpf.h (a literal side is folded
// or compared as a constant). One table entry each (builtin.ts).
import type * as A from '../../grammar/ast.js';
import type { CheckContext } from '../2-analyze/context.js';
import { isStr, typeName, U64, type Type } from '../2-analyze/types.js';
import { call, num, un, type CExpr } from '../3-lower/c-ir.js';
import type { IntVal, StrRef } from '../3-lower/fn-builder.js';
import { defineBuiltin, type CheckExpr } from './builtin.js';

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

/** A comparison's result: 0 or 1, an `int` in C. */
const flag = (e: CExpr): IntVal => ({ e, unsigned: false, narrow: true });

/** A literal's characters (up to its first NUL). */
function chars(r: StrRef): Uint8Array {
  const lit = r.literal!;
  const nul = lit.indexOf(0);
  return nul >= 0 ? lit.subarray(0, nul) : lit;
}

/** strncmp(a, b, n): 0 when the first n characters of a and b are the same (both may end sooner), else 1. */
export const STRNCMP = defineBuiltin<{ n: number }>({
  name: 'strncmp',
  usage: 'strncmp(a, b, n)',
  doc: 'strncmp(a, b, n): 0 when the first n characters of two strings are the same, else 1',
  arity: [3, 3],
  check(e, cx, checkExpr) {
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
      return undefined;
    }
    if (n.value < 0n) {
      cx.bag.add('E0310', 'strncmp() length must not be negative', n.span);
      return undefined;
    }
    if (!ok) return undefined;
    // Strings longer than any capacity compare within their capacities: clamp n to keep it a 32-bit constant.
    return { type: U64, data: { n: Number(n.value > 0xffffn ? 0xffffn : n.value) } };
  },
  /** Comparing min(n, capacities) bytes up to a's NUL decides it: the shorter string's NUL comes within its capacity. */
  lowerInt(b, e, { n }) {
    let x = b.lowerers.strRef(b, e.args[0]!);
    let y = b.lowerers.strRef(b, e.args[1]!);
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
  },
});

/** strcontains(haystack, needle): 1 when needle occurs in haystack (the empty string occurs everywhere). */
export const STRCONTAINS = defineBuiltin<null>({
  name: 'strcontains',
  usage: 'strcontains(haystack, needle)',
  doc: 'strcontains(haystack, needle): 1 when needle occurs in haystack',
  arity: [2, 2],
  check(e, cx, checkExpr) {
    if (!strArgs(e, 2, cx, checkExpr)) return undefined;
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
      return undefined;
    }
    return { type: U64, data: null };
  },
  /** A literal needle is matched at each start; two run-time strings compare up to the needle's NUL. */
  lowerInt(b, e) {
    const h = b.lowerers.strRef(b, e.args[0]!);
    const n = b.lowerers.strRef(b, e.args[1]!);
    if (n.literal) {
      const needle = chars(n);
      if (needle.length === 0) return flag(num(1));
      if (h.literal) return flag(num(Buffer.from(chars(h)).includes(Buffer.from(needle)) ? 1 : 0));
      // h holds at most size-1 characters.
      if (needle.length > h.size - 1) return flag(num(0));
      return flag(
        call('capc_strcontains_lit', h.ptr!, num(h.size), { k: 'strlit', bytes: needle }, num(needle.length)),
      );
    }
    const hay = h.literal ? literalSlot(h) : h;
    return flag(call('capc_strcontains', hay.ptr!, num(hay.size), n.ptr!, num(n.size)));
  },
});

/** A literal haystack searched for a run-time needle: its bytes, NUL-terminated, as a C string constant. */
function literalSlot(r: StrRef): { ptr: CExpr; size: number } {
  const bytes = chars(r);
  return { ptr: { k: 'strlit', bytes }, size: bytes.length + 1 };
}
