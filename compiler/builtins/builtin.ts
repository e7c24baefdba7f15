// compiler/builtins/builtin.ts — what a builtin function is, as one table
// entry (index.ts lists them): its name and usage (the signature E0301 and
// E0202 show), a line of documentation, how many arguments it takes, the
// question it asks the machine when compiling (optional: asked in the collect
// pass, host-lookups.ts), its check (argument types, result type, and the
// data lowering needs) and its lowering hook. Adding a builtin of this shape
// is one entry in one file, one line in index.ts, and its lines in
// docs/language.md (tests/unit/builtins.test.ts checks they are there).
//
// The check pass keeps `{ fn: 'builtin', name, data }` for each call
// (CallInfo); the data an entry's check returns comes back, with its type, to
// the same entry's lowering: the registry is the only place that forgets and
// recovers the type in between.
import type * as A from '../../grammar/ast.js';
import type { ProbeInstance } from '../2-analyze/analyzed.js';
import type { CheckContext } from '../2-analyze/context.js';
import type { Type } from '../2-analyze/types.js';
import type { Host } from '../host.js';
import type { FnBuilder, IntVal } from '../3-lower/fn-builder.js';

export type CheckExpr = (e: A.Expr, cx: CheckContext) => Type;

/** A builtin whose check records data of type D for its lowering, and (optionally) asks the host for an answer L. */
export interface BuiltinDef<D, L = never> {
  name: string;
  /** How it is called, shown with a wrong argument count: `cgroupid("/sys/fs/cgroup/...")`. */
  usage: string;
  /** One line for the function list (E0202's hint) and `capc` help. */
  doc: string;
  /** Fewest and most arguments. */
  arity: readonly [number, number];
  /** Check the arguments even when there are too many or too few (their own errors are reported too). */
  checkArgsOnArityError?: boolean;
  /**
   * Collect pass: what the call asks the machine, given its first argument (a
   * string literal: a symbol, a path); the answer reaches `check`.
   */
  lookUp?(arg: string, inst: ProbeInstance, host: Host): L;
  /** The call's result type and what lowering needs, or undefined after reporting an error. */
  check(
    e: A.CallExpr,
    cx: CheckContext,
    checkExpr: CheckExpr,
    answer: L | undefined,
  ): { type: Type; data: D } | undefined;
  /** Lowering: the call's value, an integer expression in C. */
  lowerInt(b: FnBuilder, e: A.CallExpr, data: D): IntVal;
}

/** An entry of the table, its data type forgotten (defineBuiltin keeps each entry's check and lowering together). */
export interface Builtin {
  readonly name: string;
  readonly usage: string;
  readonly doc: string;
  readonly arity: readonly [number, number];
  readonly checkArgsOnArityError?: boolean;
  readonly lookUp?: (arg: string, inst: ProbeInstance, host: Host) => unknown;
  readonly check: (
    e: A.CallExpr,
    cx: CheckContext,
    checkExpr: CheckExpr,
    answer: unknown,
  ) => { type: Type; data: unknown } | undefined;
  readonly lowerInt: (b: FnBuilder, e: A.CallExpr, data: unknown) => IntVal;
}

/** One table entry. The casts are safe: `data` and `answer` only ever come from this entry's own check and lookUp. */
export function defineBuiltin<D, L = never>(def: BuiltinDef<D, L>): Builtin {
  return {
    name: def.name,
    usage: def.usage,
    doc: def.doc,
    arity: def.arity,
    checkArgsOnArityError: def.checkArgsOnArityError,
    lookUp: def.lookUp?.bind(def),
    check: (e, cx, checkExpr, answer) => def.check(e, cx, checkExpr, answer as L | undefined),
    lowerInt: (b, e, data) => def.lowerInt(b, e, data as D),
  };
}
