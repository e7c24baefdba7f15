// compiler/1-parse/dump-ast.ts — the parse pass's dump (`capc emit
// --dump=parse`, and the parser samples): a compact, readable AST, one node
// per line, indented, spans as line:col.
import type * as A from '../../grammar/ast.js';

export function dumpProgram(p: A.Program): string {
  const out: string[] = [];
  const at = (s: A.Span) => `@${s.line}:${s.col}`;
  const line = (depth: number, text: string): void => {
    out.push('  '.repeat(depth) + text);
  };
  const expr = (e: A.Expr, d: number): void => {
    switch (e.kind) {
      case 'Int':
        return line(d, `Int ${e.value} ${at(e.span)}`);
      case 'Str':
        return line(d, `Str ${JSON.stringify(Buffer.from(e.value).toString('latin1'))} ${at(e.span)}`);
      case 'Var':
        return line(d, `Var ${e.name} ${at(e.span)}`);
      case 'Positional':
        return line(d, `Positional $${e.index} ${at(e.span)}`);
      case 'Ident':
        return line(d, `Ident ${e.name} ${at(e.span)}`);
      case 'Map':
        line(d, `Map ${e.name}${e.keys ? `[${e.keys.length}]` : ''} ${at(e.span)}`);
        return e.keys?.forEach((k) => expr(k, d + 1));
      case 'Call':
        line(d, `Call ${e.name} ${at(e.span)}`);
        return e.args.forEach((a) => expr(a, d + 1));
      case 'Binary':
        line(d, `Binary ${e.op} ${at(e.span)}`);
        expr(e.left, d + 1);
        return expr(e.right, d + 1);
      case 'Unary':
        line(d, `Unary ${e.op} ${at(e.span)}`);
        return expr(e.operand, d + 1);
      case 'Ternary':
        line(d, `Ternary ${at(e.span)}`);
        expr(e.cond, d + 1);
        expr(e.then, d + 1);
        return expr(e.else, d + 1);
      case 'Field':
        line(d, `Field ${e.arrow ? '->' : '.'}${e.field} ${at(e.span)}`);
        return expr(e.object, d + 1);
      case 'Cast':
        line(d, `Cast (${e.typeName}${'*'.repeat(e.pointer)}) ${at(e.span)}`);
        return expr(e.operand, d + 1);
      case 'Index':
        line(d, `Index ${at(e.span)}`);
        expr(e.object, d + 1);
        return expr(e.index, d + 1);
      case 'Tuple':
        line(d, `Tuple ${at(e.span)}`);
        return e.elems.forEach((x) => expr(x, d + 1));
      case 'Sizeof':
        line(d, `Sizeof${e.typeName !== undefined ? ` (${e.typeName}${'*'.repeat(e.pointer)})` : ''} ${at(e.span)}`);
        if (e.expr) expr(e.expr, d + 1);
        return;
      case 'Error':
        return line(d, `Error ${at(e.span)}`);
    }
  };
  const stmt = (s: A.Stmt, d: number): void => {
    switch (s.kind) {
      case 'ExprStmt':
        line(d, `ExprStmt ${at(s.span)}`);
        return expr(s.expr, d + 1);
      case 'Assign':
        line(d, `Assign ${s.op} ${at(s.span)}`);
        expr(s.target, d + 1);
        return expr(s.value, d + 1);
      case 'IncDec':
        line(d, `IncDec ${s.prefix ? 'prefix' : 'postfix'} ${s.op} ${at(s.span)}`);
        return expr(s.target, d + 1);
      case 'If':
        line(d, `If ${at(s.span)}`);
        expr(s.cond, d + 1);
        line(d + 1, 'then');
        s.then.forEach((x) => stmt(x, d + 2));
        if (s.else) {
          line(d + 1, 'else');
          s.else.forEach((x) => stmt(x, d + 2));
        }
        return;
      case 'Block':
        line(d, `Block ${at(s.span)}`);
        return s.body.forEach((x) => stmt(x, d + 1));
      case 'Return':
        return line(d, `Return ${at(s.span)}`);
      case 'Break':
        return line(d, `Break ${at(s.span)}`);
      case 'Continue':
        return line(d, `Continue ${at(s.span)}`);
      case 'While':
        line(d, `While ${at(s.span)}`);
        expr(s.cond, d + 1);
        return s.body.forEach((x) => stmt(x, d + 1));
      case 'Unroll':
        line(d, `Unroll ${at(s.span)}`);
        expr(s.count, d + 1);
        return s.body.forEach((x) => stmt(x, d + 1));
      case 'Sink':
        line(d, `Sink -> ${s.sink.name} ${at(s.span)}`);
        expr(s.call, d + 1);
        if (s.sink.size) expr(s.sink.size, d + 1);
        return;
    }
  };
  for (const item of p.items) {
    if (item.kind === 'CDefs') {
      line(
        0,
        `C ${JSON.stringify(item.text.length > 60 ? item.text.slice(0, 57) + '...' : item.text)} ${at(item.span)}`,
      );
      continue;
    }
    if (item.kind === 'Config') {
      line(0, `Config ${at(item.span)}`);
      for (const e of item.entries) {
        line(1, `${e.name} =`);
        expr(e.value, 2);
      }
      continue;
    }
    line(0, `Probe${item.oneLine ? ' (one-line)' : ''} ${at(item.span)}`);
    for (const s of item.specs) line(1, `Spec ${s.parts.map((x) => JSON.stringify(x.text)).join(':')} ${at(s.span)}`);
    if (item.predicate) {
      line(1, 'Predicate');
      expr(item.predicate, 2);
    }
    line(1, 'Body');
    item.body.forEach((s) => stmt(s, 2));
  }
  return out.join('\n') + '\n';
}
