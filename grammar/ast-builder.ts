// grammar/ast-builder.ts — turns chevrotain's CST into the .cap AST.
// Kept apart from the grammar so rules stay readable. Literal problems found
// while building (bad escapes, integer overflow) are returned as data.
import type { CstNode, IToken } from 'chevrotain';
import * as A from './ast.js';
import { decodeString, parseIntLiteral, splitProbeSpec } from './literals.js';

export interface BuildProblem {
  kind: 'bad-escape' | 'bad-int';
  message: string;
  span: A.Span;
}

type Children = Record<string, (CstNode | IToken)[]>;

export function buildAst(cst: CstNode, text: string): { program: A.Program; problems: BuildProblem[] } {
  const b = new Builder(text);
  const program: A.Program = { kind: 'Program', items: [], span: b.nodeSpan(cst) };
  for (const item of nodes(cst.children, 'item')) {
    const built = b.item(item);
    if (built) program.items.push(built);
  }
  return { program, problems: b.problems };
}

function nodes(ch: Children, key: string): CstNode[] {
  return (ch[key] ?? []) as CstNode[];
}
function tokens(ch: Children, key: string): IToken[] {
  return (ch[key] ?? []) as IToken[];
}
function isToken(x: CstNode | IToken): x is IToken {
  return (x as IToken).image !== undefined;
}

class Builder {
  problems: BuildProblem[] = [];
  private lineStarts: number[] = [0];

  constructor(private readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  // ---- spans ------------------------------------------------------------
  /** Span of an offset range, computing line/column from the text. */
  rangeSpan(start: number, end: number): A.Span {
    const [line, col] = this.lineCol(start);
    const [endLine, endCol] = this.lineCol(end);
    return { start, end, line, col, endLine, endCol };
  }
  private lineCol(offset: number): [number, number] {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return [lo + 1, offset - this.lineStarts[lo]! + 1];
  }
  tokSpan(t: IToken): A.Span {
    if (Number.isNaN(t.startOffset) || t.startOffset === undefined)
      return this.rangeSpan(this.text.length, this.text.length);
    return this.rangeSpan(t.startOffset, (t.endOffset ?? t.startOffset) + 1);
  }
  nodeSpan(n: CstNode): A.Span {
    const loc = n.location;
    if (!loc || Number.isNaN(loc.startOffset)) return this.rangeSpan(this.text.length, this.text.length);
    const end = loc.endOffset === undefined || Number.isNaN(loc.endOffset) ? loc.startOffset : loc.endOffset + 1;
    return this.rangeSpan(loc.startOffset, Math.max(end, loc.startOffset));
  }

  // ---- items --------------------------------------------------------------
  item(n: CstNode): A.Item | undefined {
    const ch = n.children as Children;
    const cfg = nodes(ch, 'configBlock')[0];
    if (cfg) return this.config(cfg);
    const probe = nodes(ch, 'probe')[0];
    if (probe) return this.probe(probe);
    const c = tokens(ch, 'CPreproc')[0] ?? tokens(ch, 'CDefinition')[0];
    if (c && !c.isInsertedInRecovery) return { kind: 'CDefs', text: c.image, span: this.tokSpan(c) };
    return undefined;
  }

  config(n: CstNode): A.ConfigItem {
    const ch = n.children as Children;
    const keys = tokens(ch, 'key');
    const values = nodes(ch, 'value');
    return {
      kind: 'Config',
      entries: keys.map((k, i) => ({
        name: k.image,
        value: values[i] ? this.expression(values[i]!) : this.errorExpr(k),
        span: this.tokSpan(k),
      })),
      span: this.nodeSpan(n),
    };
  }

  probe(n: CstNode): A.ProbeItem {
    const ch = n.children as Children;
    const specs = tokens(ch, 'spec')
      .filter((t) => !t.isInsertedInRecovery)
      .map((t): A.ProbeSpecNode => {
        const span = this.tokSpan(t);
        return { kind: 'ProbeSpec', text: t.image, parts: splitProbeSpec(t.image, span), span };
      });
    const pred = nodes(ch, 'predicate')[0];
    const predicate = pred ? this.expression(nodes(pred.children as Children, 'expression')[0]) : undefined;
    const block = nodes(ch, 'block')[0];
    const line = nodes(ch, 'lineCapture')[0];
    let body: A.Stmt[] = [];
    if (block) body = this.block(block);
    else if (line) body = [this.lineCapture(line)];
    return { kind: 'Probe', specs, predicate, body, oneLine: !!line, span: this.nodeSpan(n) };
  }

  lineCapture(n: CstNode): A.SinkStmt {
    const ch = n.children as Children;
    const kw = tokens(ch, 'CaptureKw')[0] ?? ({ image: 'capture', startOffset: NaN } as IToken);
    const args = this.argList(nodes(ch, 'argList')[0]);
    const span = this.nodeSpan(n);
    const lastParen = tokens(ch, 'RParen')[0];
    const callSpan = lastParen ? A.spanUnion(this.tokSpan(kw), this.tokSpan(lastParen)) : this.tokSpan(kw);
    const call: A.CallExpr = { kind: 'Call', name: kw.image, nameSpan: this.tokSpan(kw), args, span: callSpan };
    const sink = nodes(ch, 'sink')[0];
    return { kind: 'Sink', call, sink: sink ? this.sink(sink) : { name: '', span }, span };
  }

  sink(n: CstNode): A.SinkSpec {
    const ch = n.children as Children;
    const name = tokens(ch, 'name')[0];
    const args = nodes(ch, 'arg').map((a) => this.expression(a));
    const spec: A.SinkSpec = { name: name?.image ?? '', span: this.nodeSpan(n) };
    // `-> pcapng("FILE")`, `-> pcapng("FILE", 16M)`; `-> ringbuf(8M)`.
    const [first, second] = name?.image === 'pcapng' ? [args[1], args[0]] : [args[0], args[1]];
    if (first) spec.size = first;
    if (second) spec[name?.image === 'pcapng' ? 'file' : 'extra'] = second;
    // `-> decode(postgres, mysql)` after the sink.
    const then = tokens(ch, 'then')[0];
    if (then) {
      const protocols = tokens(ch, 'protocol').map((t) => ({ name: t.image, span: this.tokSpan(t) }));
      const close = tokens(ch, 'RParen').at(-1);
      const last = close && close.startOffset > then.startOffset ? close : then;
      spec.then = { name: then.image, protocols, span: A.spanUnion(this.tokSpan(then), this.tokSpan(last)) };
    }
    return spec;
  }

  // ---- statements ---------------------------------------------------------
  block(n: CstNode): A.Stmt[] {
    const st = nodes(n.children as Children, 'statements')[0];
    return st ? this.statements(st) : [];
  }

  statements(n: CstNode): A.Stmt[] {
    const ch = n.children as Children;
    // Children are grouped by kind; restore source order by offset.
    const all: CstNode[] = [
      ...nodes(ch, 'ifStatement'),
      ...nodes(ch, 'whileStatement'),
      ...nodes(ch, 'unrollStatement'),
      ...nodes(ch, 'block'),
      ...nodes(ch, 'simpleStatement'),
    ];
    all.sort((a, b) => (a.location?.startOffset ?? 0) - (b.location?.startOffset ?? 0));
    const out: A.Stmt[] = [];
    for (const s of all) {
      if (s.name === 'ifStatement') out.push(this.ifStatement(s));
      else if (s.name === 'whileStatement' || s.name === 'unrollStatement') out.push(this.loop(s));
      else if (s.name === 'block') out.push({ kind: 'Block', body: this.block(s), span: this.nodeSpan(s) });
      else {
        const st = this.simpleStatement(s);
        if (st) out.push(st);
      }
    }
    return out;
  }

  ifStatement(n: CstNode): A.IfStmt {
    const ch = n.children as Children;
    const cond = this.expression(nodes(ch, 'cond')[0]);
    const then = nodes(ch, 'then')[0];
    const elseIf = nodes(ch, 'elseIf')[0];
    const elseBlock = nodes(ch, 'else')[0];
    let elseBody: A.Stmt[] | undefined;
    if (elseIf) elseBody = [this.ifStatement(elseIf)];
    else if (elseBlock) elseBody = this.block(elseBlock);
    return { kind: 'If', cond, then: then ? this.block(then) : [], else: elseBody, span: this.nodeSpan(n) };
  }

  loop(n: CstNode): A.WhileStmt | A.UnrollStmt {
    const ch = n.children as Children;
    const body = nodes(ch, 'body')[0];
    const stmts = body ? this.block(body) : [];
    const span = this.nodeSpan(n);
    if (n.name === 'whileStatement')
      return { kind: 'While', cond: this.expression(nodes(ch, 'cond')[0]), body: stmts, span };
    return { kind: 'Unroll', count: this.expression(nodes(ch, 'count')[0]), body: stmts, span };
  }

  simpleStatement(n: CstNode): A.Stmt | undefined {
    const ch = n.children as Children;
    const span = this.nodeSpan(n);
    if (tokens(ch, 'Return').length) return { kind: 'Return', span };
    if (tokens(ch, 'Break').length) return { kind: 'Break', span };
    if (tokens(ch, 'Continue').length) return { kind: 'Continue', span };
    const preOp = tokens(ch, 'preOp')[0];
    if (preOp) {
      const target = this.lvalue(nodes(ch, 'preTarget')[0]!);
      return target ? { kind: 'IncDec', target, op: preOp.image as '++' | '--', prefix: true, span } : undefined;
    }
    const exprNode = nodes(ch, 'expr')[0];
    if (!exprNode) return undefined;
    const expr = this.expression(exprNode);
    const assignOp = tokens(ch, 'assignOp')[0];
    const postOp = tokens(ch, 'postOp')[0];
    const sink = nodes(ch, 'sink')[0];
    if (assignOp) {
      const value = this.expression(nodes(ch, 'value')[0]);
      if (expr.kind !== 'Var' && expr.kind !== 'Map') {
        // Reported by analysis as "cannot assign to"; keep the statement for it.
        return { kind: 'Assign', target: { kind: 'Var', name: '', span: expr.span }, op: assignOp.image, value, span };
      }
      return { kind: 'Assign', target: expr, op: assignOp.image, value, span };
    }
    if (postOp) {
      if (expr.kind !== 'Var' && expr.kind !== 'Map') return { kind: 'ExprStmt', expr, span };
      return { kind: 'IncDec', target: expr, op: postOp.image as '++' | '--', prefix: false, span };
    }
    if (sink) {
      if (expr.kind === 'Call') return { kind: 'Sink', call: expr, sink: this.sink(sink), span };
      return { kind: 'ExprStmt', expr, span };
    }
    return { kind: 'ExprStmt', expr, span };
  }

  lvalue(n: CstNode): A.VarRef | A.MapRef | undefined {
    const ch = n.children as Children;
    const v = tokens(ch, 'VarName')[0];
    if (v) return { kind: 'Var', name: v.image, span: this.tokSpan(v) };
    const m = nodes(ch, 'mapAccess')[0];
    return m ? this.mapAccess(m) : undefined;
  }

  mapAccess(n: CstNode): A.MapRef {
    const ch = n.children as Children;
    const name = tokens(ch, 'MapName')[0];
    if (!name) return { kind: 'Map', name: '@', keys: undefined, span: this.nodeSpan(n) };
    const args = nodes(ch, 'argList')[0];
    return { kind: 'Map', name: name.image, keys: args ? this.argList(args) : undefined, span: this.nodeSpan(n) };
  }

  argList(n: CstNode | undefined): A.Expr[] {
    if (!n) return [];
    return nodes(n.children as Children, 'arg').map((a) => this.expression(a));
  }

  // ---- expressions ----------------------------------------------------------
  expression(n: CstNode | undefined): A.Expr {
    if (!n) return { kind: 'Error', span: this.rangeSpan(this.text.length, this.text.length) };
    switch (n.name) {
      case 'expression':
        return this.expression(nodes(n.children as Children, 'ternary')[0]);
      case 'ternary':
        return this.ternary(n);
      case 'unary':
        return this.unary(n);
      case 'cast':
        return this.cast(n);
      case 'postfix':
        return this.postfix(n);
      case 'primary':
        return this.primary(n);
      default:
        return this.binary(n);
    }
  }

  errorExpr(t: IToken): A.ErrorExpr {
    return { kind: 'Error', span: this.tokSpan(t) };
  }

  ternary(n: CstNode): A.Expr {
    const ch = n.children as Children;
    const cond = this.expression(nodes(ch, 'cond')[0]);
    const then = nodes(ch, 'then')[0];
    if (!then) return cond;
    return {
      kind: 'Ternary',
      cond,
      then: this.expression(then),
      else: this.expression(nodes(ch, 'else')[0]),
      span: this.nodeSpan(n),
    };
  }

  binary(n: CstNode): A.Expr {
    const ch = n.children as Children;
    const operands = nodes(ch, 'operand');
    const ops = tokens(ch, 'op');
    let left = this.expression(operands[0]);
    for (let i = 0; i < ops.length; i++) {
      const right = this.expression(operands[i + 1]);
      left = {
        kind: 'Binary',
        op: ops[i]!.image,
        left,
        right,
        span: A.spanUnion(left.span, right.span),
        opSpan: this.tokSpan(ops[i]!),
      };
    }
    return left;
  }

  unary(n: CstNode): A.Expr {
    const ch = n.children as Children;
    const cast = nodes(ch, 'cast')[0];
    if (cast) return this.cast(cast);
    const post = nodes(ch, 'postfix')[0];
    if (post) return this.postfix(post);
    const op = tokens(ch, 'op')[0];
    if (!op) return { kind: 'Error', span: this.nodeSpan(n) };
    const operand = this.expression(nodes(ch, 'operand')[0]);
    // Fold `-<int literal>` so that INT64_MIN is representable.
    if (op.image === '-' && operand.kind === 'Int') {
      return {
        kind: 'Int',
        value: -operand.value,
        text: '-' + operand.text,
        span: A.spanUnion(this.tokSpan(op), operand.span),
      };
    }
    return { kind: 'Unary', op: op.image, operand, span: this.nodeSpan(n) };
  }

  cast(n: CstNode): A.CastExpr {
    const ch = n.children as Children;
    const t = this.typeName(nodes(ch, 'typeName')[0]);
    return {
      kind: 'Cast',
      typeName: t.name,
      pointer: t.pointer,
      operand: this.expression(nodes(ch, 'operand')[0]),
      span: this.nodeSpan(n),
      typeSpan: t.span,
    };
  }

  typeName(n: CstNode | undefined): { name: string; pointer: number; span: A.Span } {
    if (!n) return { name: '', pointer: 0, span: this.rangeSpan(this.text.length, this.text.length) };
    const ch = n.children as Children;
    return {
      name: tokens(ch, 'typeWord')
        .map((t) => t.image)
        .join(' '),
      pointer: tokens(ch, 'pointer').length,
      span: this.nodeSpan(n),
    };
  }

  sizeofExpr(n: CstNode): A.SizeofExpr {
    const ch = n.children as Children;
    const span = this.nodeSpan(n);
    const tn = nodes(ch, 'typeName')[0];
    if (tn) {
      const t = this.typeName(tn);
      return { kind: 'Sizeof', typeName: t.name, pointer: t.pointer, span };
    }
    return { kind: 'Sizeof', pointer: 0, expr: this.expression(nodes(ch, 'inner')[0]), span };
  }

  postfix(n: CstNode): A.Expr {
    const ch = n.children as Children;
    const prim = nodes(ch, 'primary')[0];
    if (!prim) return { kind: 'Error', span: this.nodeSpan(n) };
    let e = this.primary(prim);
    const access = tokens(ch, 'access');
    const fields = tokens(ch, 'field');
    const indexes = nodes(ch, 'index');
    const closers = tokens(ch, 'RBracket');
    let fi = 0;
    let ii = 0;
    for (const a of access) {
      if (a.image === '[') {
        const idx = indexes[ii];
        const close = closers[ii++];
        if (!idx) break;
        const end = close && !close.isInsertedInRecovery ? this.tokSpan(close) : this.nodeSpan(idx);
        e = { kind: 'Index', object: e, index: this.expression(idx), span: A.spanUnion(e.span, end) };
        continue;
      }
      const f = fields[fi++];
      if (!f) break;
      e = {
        kind: 'Field',
        object: e,
        field: f.image,
        arrow: a.image === '->',
        span: A.spanUnion(e.span, this.tokSpan(f)),
        fieldSpan: this.tokSpan(f),
      };
    }
    return e;
  }

  primary(n: CstNode): A.Expr {
    const ch = n.children as Children;
    const span = this.nodeSpan(n);
    const sz = nodes(ch, 'sizeofExpr')[0];
    if (sz) return this.sizeofExpr(sz);
    const int = tokens(ch, 'IntLiteral')[0];
    if (int) {
      const value = parseIntLiteral(int.image);
      if (value === undefined || value >= 2n ** 64n) {
        const why = /^0[\d_]*[89]/.test(int.image)
          ? 'is not octal (a leading 0 makes it octal)'
          : 'does not fit in 64 bits';
        this.problems.push({ kind: 'bad-int', message: `integer literal ${int.image} ${why}`, span });
        return { kind: 'Int', value: 0n, text: int.image, span };
      }
      return { kind: 'Int', value, text: int.image, span };
    }
    const str = tokens(ch, 'StringLiteral')[0];
    if (str) {
      const { bytes, problems } = decodeString(str.image);
      for (const p of problems)
        this.problems.push({
          kind: 'bad-escape',
          message: p.message,
          span: this.rangeSpan(str.startOffset + p.offset, str.startOffset + p.offset + p.length),
        });
      return { kind: 'Str', value: bytes, raw: str.image, span };
    }
    const v = tokens(ch, 'VarName')[0];
    if (v) return { kind: 'Var', name: v.image, span };
    const pos = tokens(ch, 'Positional')[0];
    if (pos) {
      if (pos.image === '$#') return { kind: 'Positional', index: '#', span };
      const index = Number(pos.image.slice(1));
      if (index > 65535)
        this.problems.push({
          kind: 'bad-int',
          message: `positional parameter ${pos.image} is out of range (at most $65535)`,
          span,
        });
      return { kind: 'Positional', index: Math.min(index, 65536), span };
    }
    const map = nodes(ch, 'mapAccess')[0];
    if (map) return this.mapAccess(map);
    const name = tokens(ch, 'name')[0];
    if (name) {
      if (tokens(ch, 'call').length) {
        return {
          kind: 'Call',
          name: name.image,
          nameSpan: this.tokSpan(name),
          args: this.argList(nodes(ch, 'argList')[0]),
          span,
        };
      }
      return { kind: 'Ident', name: name.image, span };
    }
    const inner = nodes(ch, 'inner');
    if (inner.length > 1) return { kind: 'Tuple', elems: inner.map((x) => this.expression(x)), span };
    if (inner[0]) return this.expression(inner[0]);
    const first = Object.values(ch).flat()[0];
    return { kind: 'Error', span: first && isToken(first) ? this.tokSpan(first) : span };
  }
}
