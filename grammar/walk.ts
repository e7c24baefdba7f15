// grammar/walk.ts — visits every statement and expression under a node, for
// passes that need to find things (names used, calls made) without caring
// about structure.
import type * as A from './ast.js';

export function forEachExpr(e: A.Expr, f: (e: A.Expr) => void): void {
  f(e);
  switch (e.kind) {
    case 'Map':
      e.keys?.forEach((k) => forEachExpr(k, f));
      return;
    case 'Call':
      e.args.forEach((a) => forEachExpr(a, f));
      return;
    case 'Binary':
      forEachExpr(e.left, f);
      forEachExpr(e.right, f);
      return;
    case 'Unary':
    case 'Cast':
      forEachExpr(e.operand, f);
      return;
    case 'Ternary':
      forEachExpr(e.cond, f);
      forEachExpr(e.then, f);
      forEachExpr(e.else, f);
      return;
    case 'Field':
      forEachExpr(e.object, f);
      return;
    case 'Index':
      forEachExpr(e.object, f);
      forEachExpr(e.index, f);
      return;
    case 'Tuple':
      e.elems.forEach((x) => forEachExpr(x, f));
      return;
    case 'Sizeof':
      if (e.expr) forEachExpr(e.expr, f);
      return;
    default:
      return;
  }
}

export function forEachStmt(stmts: A.Stmt[], f: (s: A.Stmt) => void): void {
  for (const s of stmts) {
    f(s);
    if (s.kind === 'If') {
      forEachStmt(s.then, f);
      if (s.else) forEachStmt(s.else, f);
    } else if (s.kind === 'Block' || s.kind === 'While' || s.kind === 'Unroll') forEachStmt(s.body, f);
  }
}

/** Every expression in a probe: its predicate and its statements. */
export function forEachExprIn(item: A.ProbeItem, f: (e: A.Expr) => void): void {
  if (item.predicate) forEachExpr(item.predicate, f);
  forEachStmt(item.body, (s) => {
    switch (s.kind) {
      case 'ExprStmt':
        return forEachExpr(s.expr, f);
      case 'Assign':
        forEachExpr(s.target, f);
        return forEachExpr(s.value, f);
      case 'IncDec':
        return forEachExpr(s.target, f);
      case 'If':
      case 'While':
        return forEachExpr(s.cond, f);
      case 'Unroll':
        return forEachExpr(s.count, f);
      case 'Sink':
        forEachExpr(s.call, f);
        if (s.sink.size) forEachExpr(s.sink.size, f);
        if (s.sink.file) forEachExpr(s.sink.file, f);
        return;
      default:
        return;
    }
  });
}
