// compiler/1-parse/limits.ts — what a program may not exceed, checked before
// the passes spend stack or memory on it: its size (E0108) and how deeply it
// nests (E0109). Without them a 150-deep expression overflowed the parser's
// stack (an internal error) and a 300,000-line program ran the compiler out
// of memory after a minute. The limits are far above any real script
// (bpftrace's own tools are under 300 lines and nest a handful of levels).
import type { IToken } from 'chevrotain';
import type { Program, SourceFile, Span } from '../../grammar/ast.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';

export const MAX_SOURCE_BYTES = 1 << 20;
export const MAX_SOURCE_LINES = 20_000;
/** Brackets, ternaries and prefix operators open at once (the parser recurses once or more per level). */
export const MAX_TOKEN_NESTING = 64;
/** Depth of the syntax tree (a long chain `a + b + c + ...` nests one level per operator). */
export const MAX_TREE_DEPTH = 256;

type SpanOf = (offset: number, length: number) => Span;

/** E0108 when the program is larger than the compiler will take. */
export function checkSourceSize(source: SourceFile, spanOf: SpanOf): Diagnostic | undefined {
  const bytes = Buffer.byteLength(source.text);
  if (bytes > MAX_SOURCE_BYTES)
    return tooLarge(`${source.name} is ${bytes} bytes; capc compiles programs of at most 1 MiB`, spanOf(0, 0));
  let lines = 1;
  for (let i = source.text.indexOf('\n'); i !== -1; i = source.text.indexOf('\n', i + 1)) {
    if (++lines > MAX_SOURCE_LINES) {
      return tooLarge(
        `${source.name} has more than ${MAX_SOURCE_LINES.toLocaleString('en-US')} lines; capc compiles programs of at most that many`,
        spanOf(i + 1, 0),
      );
    }
  }
  return undefined;
}

function tooLarge(message: string, span: Span): Diagnostic {
  return {
    code: 'E0108',
    severity: 'error',
    message,
    span,
    hints: ['split it into several programs; one eBPF program could not hold this much code anyway'],
  };
}

const OPEN = new Set(['LCurly', 'LParenPlain', 'LParenPush', 'LBracket', 'Question']);
const CLOSE = new Set(['RCurly', 'RParenPlain', 'RParenPop', 'RBracket', 'Colon']);
const PREFIX = new Set(['Bang', 'Tilde', 'Minus', 'Plus', 'Star', 'Amp', 'Increment', 'Decrement']);

/** E0109 at the first token that opens more than MAX_TOKEN_NESTING levels. */
export function checkTokenNesting(tokens: readonly IToken[], spanOf: SpanOf): Diagnostic | undefined {
  let depth = 0;
  let prefixRun = 0;
  for (const t of tokens) {
    const name = t.tokenType.name;
    if (OPEN.has(name)) depth++;
    else if (CLOSE.has(name)) depth = Math.max(0, depth - 1);
    prefixRun = PREFIX.has(name) ? prefixRun + 1 : 0;
    if (depth + prefixRun > MAX_TOKEN_NESTING) return tooDeep(spanOf(t.startOffset, t.image.length), MAX_TOKEN_NESTING);
  }
  return undefined;
}

/** E0109 when the syntax tree is deeper than MAX_TREE_DEPTH (walked without recursion). */
export function checkTreeDepth(program: Program): Diagnostic | undefined {
  const stack: [unknown, number][] = [[program, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (Array.isArray(node)) {
      for (const n of node) stack.push([n, depth]);
      continue;
    }
    if (!node || typeof node !== 'object' || ArrayBuffer.isView(node)) continue; // string bytes are leaves
    const rec = node as Record<string, unknown>;
    const isNode = typeof rec.kind === 'string';
    const d = isNode ? depth + 1 : depth;
    if (d > MAX_TREE_DEPTH && isNode && rec.span) return tooDeep(rec.span as Span, MAX_TREE_DEPTH);
    for (const [k, v] of Object.entries(rec)) if (k !== 'span' && v && typeof v === 'object') stack.push([v, d]);
  }
  return undefined;
}

export function tooDeep(span: Span | undefined, limit: number): Diagnostic {
  return {
    code: 'E0109',
    severity: 'error',
    message: `the program nests too deeply here (more than ${limit} levels)`,
    span,
    hints: ['break the expression up with variables ($a = ...; $b = $a + ...)'],
  };
}
