// compiler/2-analyze/check-aggregate.ts — the aggregation functions
// (count sum avg min max stats hist lhist) and the statements that act on a
// whole map (print, clear, zero). Aggregations are only values to store in a
// map; lhist's range must be literals, checked here with bpftrace's rules.
import type * as A from '../../grammar/ast.js';
import type { LhistParams } from './analyzed.js';
import type { CheckContext } from './context.js';
import { ERROR, isComposite, isInt, isResolved, typeName, VOID, type AggFn, type Type } from './types.js';

type CheckExpr = (e: A.Expr, cx: CheckContext) => Type;
type ArgCount = (e: A.CallExpr, cx: CheckContext, min: number, max: number, usage: string) => boolean;

/** Largest number of lhist buckets (as bpftrace: a bigger range needs a bigger step). */
export const MAX_LHIST_BUCKETS = 1000;

export const AGGREGATION_DOCS: Record<AggFn, string> = {
  count: 'count(): count events into a map (@m[k] = count())',
  sum: 'sum(x): sum values into a map',
  avg: 'avg(x): average of values, in a map',
  min: 'min(x): smallest value, in a map',
  max: 'max(x): largest value, in a map',
  stats: 'stats(x): count, average and total, in a map',
  hist: 'hist(x): log2 histogram, in a map',
  lhist: 'lhist(x, min, max, step): linear histogram, in a map',
};

export function checkAggregation(
  fn: AggFn,
  e: A.CallExpr,
  cx: CheckContext,
  checkExpr: CheckExpr,
  argCount: ArgCount,
): Type {
  if (fn === 'count') {
    argCount(e, cx, 0, 0, '@map[key] = count()');
    cx.inst.calls.set(e, { fn: 'count' });
    return { k: 'agg', fn };
  }
  const usage = fn === 'lhist' ? '@map[key] = lhist(value, min, max, step)' : `@map[key] = ${fn}(value)`;
  if (!argCount(e, cx, fn === 'lhist' ? 4 : 1, fn === 'lhist' ? 4 : 1, usage)) {
    for (const a of e.args) checkExpr(a, cx);
    return ERROR;
  }
  const t = checkExpr(e.args[0]!, cx);
  if (t.k !== 'error' && !isInt(t)) {
    cx.bag.add(
      'E0302',
      `${fn}() needs an integer, not ${typeName(t)}`,
      e.args[0]!.span,
      t.k === 'str' ? 'aggregate a number, such as a size or a latency' : undefined,
    );
    return ERROR;
  }
  if (fn === 'lhist') {
    const params = lhistParams(e, cx, checkExpr);
    if (!params) return ERROR;
    cx.inst.calls.set(e, { fn: 'lhist', params });
    return { k: 'agg', fn };
  }
  cx.inst.calls.set(e, { fn });
  return { k: 'agg', fn };
}

function lhistParams(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr): LhistParams | undefined {
  const vals: number[] = [];
  for (const [i, name] of (['min', 'max', 'step'] as const).entries()) {
    const a = e.args[i + 1]!;
    checkExpr(a, cx);
    if (a.kind !== 'Int') {
      cx.bag.add(
        'E0302',
        `lhist() ${name} must be an integer literal`,
        a.span,
        'the buckets are laid out when the program is compiled: lhist(x, 0, 100, 10)',
      );
      return undefined;
    }
    vals.push(Number(a.value));
  }
  const [min, max, step] = vals as [number, number, number];
  const bad = (msg: string, hint?: string) => {
    cx.bag.add('E0310', msg, e.span, hint);
    return undefined;
  };
  if (min < 0) return bad(`lhist() min must be non-negative (got ${min})`);
  if (max <= min) return bad(`lhist() min must be less than max (got min ${min}, max ${max})`);
  if (step <= 0) return bad(`lhist() step must be positive (got ${step})`);
  if (step > max - min) return bad(`lhist() step ${step} is larger than the range ${max - min}`);
  const buckets = Math.floor((max - min) / step);
  if (buckets > MAX_LHIST_BUCKETS)
    return bad(
      `lhist() would need ${buckets} buckets; at most ${MAX_LHIST_BUCKETS}`,
      `use a step of at least ${Math.ceil((max - min) / MAX_LHIST_BUCKETS)}`,
    );
  return { min, max, step };
}

/** The map a whole-map statement acts on: `@m` (no key), already known. */
function wholeMap(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr): A.MapRef | undefined {
  const m = e.args[0]!;
  if (m.kind !== 'Map' || m.keys) {
    if (m.kind === 'Map') m.keys?.forEach((k) => checkExpr(k, cx));
    else checkExpr(m, cx);
    cx.bag.add(
      'E0302',
      `${e.name}() needs a whole map: ${e.name}(@name)`,
      m.span,
      m.kind === 'Map' ? `to remove one entry use delete(${m.name}[...])` : undefined,
    );
    return undefined;
  }
  if (!cx.maps.has(m.name)) {
    cx.bag.add(
      'E0204',
      `map ${m.name} is never assigned`,
      m.span,
      cx.maps.names().length ? `maps in this program: ${cx.maps.names().join(', ')}` : undefined,
    );
    return undefined;
  }
  return m;
}

/** clear(@m), zero(@m). */
export function checkClearZero(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr, argCount: ArgCount): Type {
  if (!argCount(e, cx, 1, 1, `${e.name}(@map)`)) return VOID;
  if (wholeMap(e, cx, checkExpr)) cx.inst.calls.set(e, { fn: e.name as 'clear' | 'zero' });
  return VOID;
}

/** print(@m[, top[, div]]) prints a map; print(value) prints one value. */
export function checkPrint(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr, argCount: ArgCount): Type {
  if (!argCount(e, cx, 1, 3, 'print(@map[, top[, divisor]]) or print(value)')) return VOID;
  const first = e.args[0]!;
  if (first.kind === 'Map' && !first.keys) {
    if (!wholeMap(e, cx, checkExpr)) return VOID;
    const nums: number[] = [];
    for (const a of e.args.slice(1)) {
      checkExpr(a, cx);
      if (a.kind !== 'Int' || a.value < 0n || a.value > 0xffffffffn) {
        cx.bag.add(
          'E0302',
          'print() top and divisor must be non-negative integer literals',
          a.span,
          'print(@m, 10) prints the 10 largest entries; print(@m, 10, 1000) also divides values by 1000',
        );
        return VOID;
      }
      nums.push(Number(a.value));
    }
    const [top = 0, div = 1] = nums;
    if (div === 0) {
      cx.bag.add('E0303', 'print() divisor must not be zero', e.args[2]!.span);
      return VOID;
    }
    cx.inst.calls.set(e, { fn: 'print', top, div });
    return VOID;
  }
  if (e.args.length > 1) {
    for (const a of e.args) checkExpr(a, cx);
    cx.bag.add(
      'E0301',
      'print() of a value takes one argument',
      e.span,
      'top and divisor apply to maps: print(@map, top, divisor)',
    );
    return VOID;
  }
  const t = checkExpr(first, cx);
  if (t.k === 'error') return VOID;
  if (t.k !== 'int' && t.k !== 'str' && t.k !== 'buf' && !isResolved(t) && !isComposite(t)) {
    cx.bag.add('E0302', `print() cannot print ${typeName(t)}`, first.span);
    return VOID;
  }
  cx.inst.calls.set(e, { fn: 'printValue' });
  return VOID;
}
