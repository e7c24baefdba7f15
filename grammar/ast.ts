// grammar/ast.ts — the .cap abstract syntax tree: node types and source spans.
// Nodes are plain data. Every node carries the span of the text it came from,
// so every later diagnostic can point at the source. Span and SourceFile are
// the shared ones (diagnostics/source.ts), re-exported for the AST's users.
import type { SourceFile, Span } from '../diagnostics/source.js';

export type { SourceFile, Span };

export interface Program {
  kind: 'Program';
  items: Item[];
  span: Span;
}

export type Item = ProbeItem | ConfigItem | CDefsItem;

/** C between probes, as written: a `#` line or a struct/union/enum/typedef definition (laid out by clang). */
export interface CDefsItem {
  kind: 'CDefs';
  text: string;
  span: Span;
}

export interface ConfigItem {
  kind: 'Config';
  entries: { name: string; value: Expr; span: Span }[];
  span: Span;
}

export interface ProbeItem {
  kind: 'Probe';
  specs: ProbeSpecNode[];
  predicate?: Expr;
  body: Stmt[];
  /** True for the one-line capture form `PROBE accumulate(...) -> sink`. */
  oneLine: boolean;
  span: Span;
}

/** A probe spec split into its `:`-separated parts (quotes removed). */
export interface ProbeSpecNode {
  kind: 'ProbeSpec';
  text: string;
  parts: { text: string; span: Span }[];
  span: Span;
}

// ---- statements -----------------------------------------------------------
export type Stmt =
  | ExprStmt
  | AssignStmt
  | IncDecStmt
  | IfStmt
  | BlockStmt
  | ReturnStmt
  | SinkStmt
  | WhileStmt
  | UnrollStmt
  | BreakStmt
  | ContinueStmt;

export interface ExprStmt {
  kind: 'ExprStmt';
  expr: Expr;
  span: Span;
}
export interface AssignStmt {
  kind: 'Assign';
  target: VarRef | MapRef;
  /** '=' or a compound operator such as '+='. */
  op: string;
  value: Expr;
  span: Span;
}
export interface IncDecStmt {
  kind: 'IncDec';
  target: VarRef | MapRef;
  op: '++' | '--';
  prefix: boolean;
  span: Span;
}
export interface IfStmt {
  kind: 'If';
  cond: Expr;
  then: Stmt[];
  else?: Stmt[];
  span: Span;
}
export interface BlockStmt {
  kind: 'Block';
  body: Stmt[];
  span: Span;
}
export interface ReturnStmt {
  kind: 'Return';
  span: Span;
}
export interface WhileStmt {
  kind: 'While';
  cond: Expr;
  body: Stmt[];
  span: Span;
}
/** `unroll (N) { ... }`: N must be an integer literal (1..100). */
export interface UnrollStmt {
  kind: 'Unroll';
  count: Expr;
  body: Stmt[];
  span: Span;
}
export interface BreakStmt {
  kind: 'Break';
  span: Span;
}
export interface ContinueStmt {
  kind: 'Continue';
  span: Span;
}
/** `accumulate(...) -> ringbuf(8M)` / `capture(...) -> perfbuf`: a call whose records go to a sink. */
export interface SinkStmt {
  kind: 'Sink';
  call: CallExpr;
  sink: SinkSpec;
  span: Span;
}
export interface SinkSpec {
  name: string;
  size?: Expr;
  /** `-> pcapng("FILE")`: where the captured streams are written. */
  file?: Expr;
  /** An argument the sink does not take (`-> ringbuf(8M, 1)`), reported by analysis. */
  extra?: Expr;
  span: Span;
  /** `-> decode(postgres, mysql)` after the sink: the word (`decode`), the protocols named, where. */
  then?: { name: string; protocols: { name: string; span: Span }[]; span: Span };
}

// ---- expressions ------------------------------------------------------------
export type Expr =
  | IntLit
  | StrLit
  | VarRef
  | MapRef
  | PositionalRef
  | IdentExpr
  | CallExpr
  | BinaryExpr
  | UnaryExpr
  | TernaryExpr
  | FieldExpr
  | CastExpr
  | IndexExpr
  | TupleExpr
  | SizeofExpr
  | ErrorExpr;

export interface IntLit {
  kind: 'Int';
  value: bigint;
  text: string;
  span: Span;
}
export interface StrLit {
  kind: 'Str';
  /** decoded bytes (escapes resolved) */ value: Uint8Array;
  raw: string;
  span: Span;
}
export interface VarRef {
  kind: 'Var';
  name: string;
  span: Span;
}
export interface MapRef {
  kind: 'Map';
  name: string;
  keys: Expr[] | undefined;
  span: Span;
}
export interface PositionalRef {
  kind: 'Positional';
  index: number | '#';
  span: Span;
}
/** A bare name: a builtin (`pid`, `comm`, `arg0`, `args`) or a signature name (`conn`). */
export interface IdentExpr {
  kind: 'Ident';
  name: string;
  span: Span;
}
export interface CallExpr {
  kind: 'Call';
  name: string;
  nameSpan: Span;
  args: Expr[];
  span: Span;
}
export interface BinaryExpr {
  kind: 'Binary';
  op: string;
  left: Expr;
  right: Expr;
  span: Span;
  opSpan: Span;
}
export interface UnaryExpr {
  kind: 'Unary';
  op: string;
  operand: Expr;
  span: Span;
}
export interface TernaryExpr {
  kind: 'Ternary';
  cond: Expr;
  then: Expr;
  else: Expr;
  span: Span;
}
/** `e->field` or `e.field` (bpftrace accepts both for tracepoint args). */
export interface FieldExpr {
  kind: 'Field';
  object: Expr;
  field: string;
  arrow: boolean;
  span: Span;
  fieldSpan: Span;
}
export interface CastExpr {
  kind: 'Cast';
  /** The type's words: `uint32`, `struct task_struct`, `unsigned long`, `conn_t`. */
  typeName: string;
  /** Pointer stars after the words. */
  pointer: number;
  operand: Expr;
  span: Span;
  typeSpan?: Span;
}
/** `(a, b, ...)`: a tuple of two or more values; `t.0` reads one. */
export interface TupleExpr {
  kind: 'Tuple';
  elems: Expr[];
  span: Span;
}
/** `sizeof(TYPE)` (typeName set) or `sizeof(EXPR)` (expr set). */
export interface SizeofExpr {
  kind: 'Sizeof';
  typeName?: string;
  pointer: number;
  expr?: Expr;
  span: Span;
}
/** `e[i]`: an element of an array (a tracepoint field such as `args->args[1]`). */
export interface IndexExpr {
  kind: 'Index';
  object: Expr;
  index: Expr;
  span: Span;
}
/** Placeholder left by parser recovery; analysis ignores it (the syntax error was reported). */
export interface ErrorExpr {
  kind: 'Error';
  span: Span;
}

export function spanUnion(a: Span, b: Span): Span {
  const first = a.start <= b.start ? a : b;
  const last = a.end >= b.end ? a : b;
  return {
    start: first.start,
    line: first.line,
    col: first.col,
    end: last.end,
    endLine: last.endLine,
    endCol: last.endCol,
  };
}
