// compiler/builtins/index.ts — the table of builtin functions defined as one
// entry each (builtin.ts): a new builtin of that shape is a line here. check
// (2-analyze/check-call.ts), the collect pass's host questions
// (2-analyze/host-lookups.ts) and lowering (3-lower/lower-expr.ts) look calls
// up here. The builtins not yet moved into the table are still dispatched by
// name in check-call.ts.
import type * as A from '../../grammar/ast.js';
import type { CheckContext } from '../2-analyze/context.js';
import { ERROR, type Type } from '../2-analyze/types.js';
import type { FnBuilder, IntVal } from '../3-lower/fn-builder.js';
import type { Builtin, CheckExpr } from './builtin.js';
import { CGROUPID, UADDR } from './host-values.js';
import { BSWAP, KADDR, KPTR, UPTR } from './int-functions.js';
import { STRCONTAINS, STRNCMP } from './strings.js';

export const BUILTINS: ReadonlyMap<string, Builtin> = new Map(
  [KADDR, BSWAP, UPTR, KPTR, UADDR, CGROUPID, STRNCMP, STRCONTAINS].map((b) => [b.name, b]),
);

/** What check keeps for a call to a table builtin (a CallInfo variant). */
export interface BuiltinCallInfo {
  fn: 'builtin';
  name: string;
  data: unknown;
}

/** Check a call to `def`: its argument count, then its own check; records the data its lowering needs. */
export function checkBuiltin(def: Builtin, e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr): Type {
  const n = e.args.length;
  const [min, max] = def.arity;
  if (n < min || n > max) {
    if (def.checkArgsOnArityError) for (const a of e.args) checkExpr(a, cx);
    cx.bag.add(
      'E0301',
      `${def.name}() takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}, got ${n}`,
      e.span,
      `usage: ${def.usage}`,
    );
    return ERROR;
  }
  const r = def.check(e, cx, checkExpr, cx.inst.lookups.get(e));
  if (!r) return ERROR;
  const info: BuiltinCallInfo = { fn: 'builtin', name: def.name, data: r.data };
  cx.inst.calls.set(e, info);
  return r.type;
}

/** Lower a call check recorded as `info`: its entry's lowering hook. */
export function lowerBuiltinInt(b: FnBuilder, e: A.CallExpr, info: BuiltinCallInfo): IntVal {
  const def = BUILTINS.get(info.name);
  if (!def) throw new Error(`internal: no builtin ${info.name}`);
  return def.lowerInt(b, e, info.data);
}
