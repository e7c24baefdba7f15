// compiler/2-analyze/check-args.ts — `args.NAME` / `args->NAME` in a uprobe:
// the function's parameters by name and type, from the DWARF of a binary
// built with -g (as bpftrace reads them). A parameter is the argument
// register of its position, typed: `args->c->fd` reads a `struct conn *`.
// Parameters passed by value in more than a register (a struct) are refused.
import type * as A from '../../grammar/ast.js';
import { didYouMean } from '../diagnostics/diagnostic.js';
import type { CheckContext } from './context.js';
import type { AttachPoint } from './probes.js';
import { ERROR, inSpace, typeName, type Type } from './types.js';

type CheckExpr = (e: A.Expr, cx: CheckContext) => Type;

export function checkArgs(
  e: A.FieldExpr,
  attach: Extract<AttachPoint, { kind: 'uprobe' }>,
  cx: CheckContext,
  checkExpr: CheckExpr,
): Type {
  if (attach.ret) {
    cx.bag.add(
      'E0405',
      `'args' is not available in uretprobes`,
      e.object.span,
      'arguments are gone by the time a function returns; save them at entry: uprobe:...{ @a[tid] = args.NAME; }',
    );
    return ERROR;
  }
  const params = cx.types.functionParams(attach.path, attach.func);
  if (!params) {
    cx.bag.add(
      'E0405',
      `${attach.path} has no debug information for ${attach.func}: its arguments have no names`,
      e.object.span,
      'build it with -g, or use arg0, arg1, ...',
    );
    return ERROR;
  }
  const i = params.findIndex((p) => p.name === e.field);
  if (i < 0) {
    const names = params.map((p) => p.name);
    cx.bag.add(
      'E0404',
      `${attach.func}() has no argument '${e.field}'`,
      e.fieldSpan,
      didYouMean(e.field, names) ?? (names.length ? `its arguments are: ${names.join(', ')}` : 'it takes no arguments'),
    );
    return ERROR;
  }
  const t = inSpace(cx.types.fromC(params[i]!.type, { k: 'dwarf', path: attach.path }), 'user');
  if (t.k !== 'int' || i > 9) {
    cx.bag.add(
      'E0302',
      i > 9
        ? `argument '${e.field}' is argument ${i}: capc reads the first 10`
        : `argument '${e.field}' is a ${typeName(t)} passed by value, which capc cannot read from the registers`,
      e.fieldSpan,
      t.k === 'record' ? 'probe a function that takes a pointer to it' : undefined,
    );
    return ERROR;
  }
  // args.NAME is argN with NAME's type.
  const arg: A.IdentExpr = { kind: 'Ident', name: `arg${i}`, span: e.span };
  checkExpr(arg, cx);
  const typed = t.to ? { ...t, space: t.space ?? 'user' } : t;
  cx.inst.types.set(arg, typed);
  cx.inst.substitutes.set(e, arg);
  return typed;
}
