// compiler/3-lower/lower-strings.ts — lowers an element of pton()'s constant
// bytes (`pton("::1")[15]`; a variable or a map holding them is an array like
// any other: lower-memory.ts). Reached through FnBuilder's Lowerers
// (lower-expr.ts calls back here). strncmp() and strcontains() are builtin
// table entries (compiler/builtins/strings.ts).
import type * as A from '../../grammar/ast.js';
import type { Type } from '../2-analyze/types.js';
import { bin, cast, num, type CExpr } from './c-ir.js';
import type { FnBuilder, IntVal, StringsLowerer } from './fn-builder.js';
import { lowerInt } from './lower-expr.js';

function typeIn(b: FnBuilder, e: A.Expr): Type {
  const t = b.inst.types.get(e);
  if (!t) throw new Error(`internal: expression at ${e.span.line}:${e.span.col} has no type`);
  return t;
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

export const STRINGS: StringsLowerer = { constIndex };
