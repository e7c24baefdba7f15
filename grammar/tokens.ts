// grammar/tokens.ts — the .cap lexer: every token type, in lexing order, and the
// lexer modes that make probe specs, predicates and blocks unambiguous.
//
// Modes:
//   top    between probes: probe specs (`tracepoint:syscalls:sys_enter_openat`),
//          `,` between specs, `/` opening a predicate, `{` opening a block, and
//          the one-line capture form (`accumulate(...) -> ringbuf`).
//   pred   inside `/ ... /`: a `/` closes the predicate; `(` opens `paren`.
//   paren  inside parentheses within a predicate: `/` is division again.
//   block  inside `{ ... }`: ordinary code; `{` nests, `}` closes.
//   line   the rest of a one-line capture, closed by a newline or `;`.
// A probe spec is one token (paths contain `/`, `.`, `+`, `*`); the parse phase
// splits it into provider, target and function with spans of their own.
import { createToken, Lexer, type TokenType } from 'chevrotain';

// ---- trivia -------------------------------------------------------------
export const WhiteSpace = createToken({
  name: 'WhiteSpace',
  pattern: /[ \t\r\n]+/,
  group: Lexer.SKIPPED,
  line_breaks: true,
});
export const InlineSpace = createToken({ name: 'InlineSpace', pattern: /[ \t\r]+/, group: Lexer.SKIPPED });
export const LineComment = createToken({ name: 'LineComment', pattern: /\/\/[^\n]*/, group: Lexer.SKIPPED });
export const BlockComment = createToken({
  name: 'BlockComment',
  pattern: /\/\*[\s\S]*?\*\//,
  group: Lexer.SKIPPED,
  line_breaks: true,
});
// An unterminated block comment is an error token the parse phase reports.
export const UnterminatedComment = createToken({
  name: 'UnterminatedComment',
  pattern: /\/\*[\s\S]*/,
  line_breaks: true,
});
export const LineEnd = createToken({ name: 'LineEnd', pattern: /\n/, line_breaks: true, pop_mode: true });
// `#!/usr/bin/env bpftrace` (or capc) as the first line: skipped, so .bt files
// run unchanged and capc can be a script's interpreter. Only at offset 0 (it
// comes before CPreproc in the top mode): a `#` line anywhere else at the top
// level is C (#include, #define: CPreproc, handed to clang, which rejects a
// stray `#!` with E0321), and inside a probe an error (E0102).
const SHEBANG = /#![^\n]*/y;
const Shebang = createToken({
  name: 'Shebang',
  pattern: {
    exec: (text: string, offset: number) => {
      if (offset !== 0) return null;
      SHEBANG.lastIndex = 0;
      return SHEBANG.exec(text);
    },
  },
  start_chars_hint: ['#'],
  line_breaks: false,
  group: Lexer.SKIPPED,
});

// ---- literals -----------------------------------------------------------
export const StringLiteral = createToken({ name: 'StringLiteral', pattern: /"(?:[^"\\\n]|\\[\s\S])*"/ });
export const UnterminatedString = createToken({ name: 'UnterminatedString', pattern: /"(?:[^"\\\n]|\\[\s\S])*/ });
// 42, 0x2a, 0b101, 1_000_000, 1e6, and size suffixes 4K 8M 1G (powers of 1024).
export const IntLiteral = createToken({
  name: 'IntLiteral',
  pattern: /(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|\d[\d_]*(?:[eE]\d+)?[KMG]?)(?![A-Za-z0-9_])/,
});

// ---- names --------------------------------------------------------------
export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/ });
export const If = createToken({ name: 'If', pattern: /if/, longer_alt: Identifier });
export const Else = createToken({ name: 'Else', pattern: /else/, longer_alt: Identifier });
export const Return = createToken({ name: 'Return', pattern: /return/, longer_alt: Identifier });
export const While = createToken({ name: 'While', pattern: /while/, longer_alt: Identifier });
export const Unroll = createToken({ name: 'Unroll', pattern: /unroll/, longer_alt: Identifier });
export const Break = createToken({ name: 'Break', pattern: /break/, longer_alt: Identifier });
export const Continue = createToken({ name: 'Continue', pattern: /continue/, longer_alt: Identifier });
export const MapName = createToken({ name: 'MapName', pattern: /@[A-Za-z0-9_]*/ });
export const VarName = createToken({ name: 'VarName', pattern: /\$[A-Za-z_][A-Za-z0-9_]*/ });
export const Positional = createToken({ name: 'Positional', pattern: /\$(?:\d+|#)/ });

// ---- C definitions (top mode only) ----------------------------------------
// Lines starting with `#` (#include, #define, #ifdef..., with `\` continuations)
// and `struct`/`union`/`enum`/`typedef` definitions between probes are C,
// handed to clang as they are (compiler/2-analyze/c-definitions.ts): capc does
// not parse C. A definition runs to its closing brace (and an optional `;`),
// a typedef or a declaration without braces to its `;`.
export const CPreproc = createToken({
  name: 'CPreproc',
  pattern: /#(?:[^\n\\]|\\[\s\S])*/,
  line_breaks: true,
});

const C_KEYWORD = /^(?:struct|union|enum|typedef)(?![A-Za-z0-9_])/;

/** Scan a C definition starting at `offset`: brace depth, comments and literals skipped. */
function matchCDefinition(text: string, offset: number): RegExpExecArray | null {
  const kw = C_KEYWORD.exec(text.slice(offset, offset + 8));
  if (!kw) return null;
  // `struct name {`, `struct {`, `typedef ...`: not a probe spec such as `struct:...` would be.
  const after = /^\s*([A-Za-z_{])/.exec(text.slice(offset + kw[0].length, offset + kw[0].length + 200));
  if (!after) return null;
  const typedef = kw[0] === 'typedef';
  let depth = 0;
  let i = offset + kw[0].length;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '/' && text[i + 1] === '/') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) return null;
      i = end + 2;
      continue;
    }
    if (c === '"' || c === "'") {
      const m = c === '"' ? /"(?:[^"\\\n]|\\.)*"/y : /'(?:[^'\\\n]|\\.)*'/y;
      m.lastIndex = i;
      const lit = m.exec(text);
      if (!lit) return null;
      i += lit[0].length;
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}') {
      if (depth === 0) return null;
      depth--;
      if (depth === 0 && !typedef) {
        // The definition ends here; a `;` right after it belongs to it.
        const semi = /^[ \t]*;/.exec(text.slice(i + 1, i + 200));
        return execResult(text.slice(offset, i + 1 + (semi ? semi[0].length : 0)), offset);
      }
    } else if (c === ';' && depth === 0) return execResult(text.slice(offset, i + 1), offset);
    i++;
  }
  return null;
}

function execResult(matched: string, index: number): RegExpExecArray {
  const r = [matched] as unknown as RegExpExecArray;
  r.index = index;
  return r;
}

export const CDefinition = createToken({
  name: 'CDefinition',
  pattern: { exec: matchCDefinition },
  line_breaks: true,
  start_chars_hint: ['s', 'u', 'e', 't'],
});

// ---- probe specs (top mode only) -----------------------------------------
// word(:segment)* where a segment may hold quoted parts ("/path with spaces").
// Only the target part of uprobe/uretprobe/usdt (a path) may contain `/`; a `/`
// anywhere else starts the predicate, so `t:syscalls:sys_enter_read/pid == 1/`
// reads as bpftrace reads it.
const QUOTED = String.raw`"(?:[^"\\\n]|\\.)*"`;
export const ProbeSpec = createToken({
  name: 'ProbeSpec',
  pattern: new RegExp(
    String.raw`(?:uprobe|uretprobe|usdt|ur|u|U):(?:${QUOTED}|[^\s{},":])*(?::(?:${QUOTED}|[^\s{},":/])*)*` +
      String.raw`|[A-Za-z_][A-Za-z0-9_]*(?::(?:${QUOTED}|[^\s{},":/])*)*`,
  ),
  line_breaks: false,
});
export const Config = createToken({ name: 'Config', pattern: /config(?=\s*=)/ });
// `accumulate(` / `capture(` after probe specs starts the one-line form.
export const CaptureKw = createToken({
  name: 'CaptureKw',
  pattern: /(?:accumulate|capture)(?=\s*\()/,
  push_mode: 'line',
});

// ---- punctuation and operators --------------------------------------------
export const LCurly = createToken({ name: 'LCurly', pattern: /{/, push_mode: 'block' });
export const RCurly = createToken({ name: 'RCurly', pattern: /}/, pop_mode: true });
export const LParen = createToken({ name: 'LParen', pattern: Lexer.NA });
export const LParenPlain = createToken({ name: 'LParenPlain', pattern: /\(/, categories: [LParen] });
export const LParenPush = createToken({ name: 'LParenPush', pattern: /\(/, categories: [LParen], push_mode: 'paren' });
export const RParen = createToken({ name: 'RParen', pattern: Lexer.NA });
export const RParenPlain = createToken({ name: 'RParenPlain', pattern: /\)/, categories: [RParen] });
export const RParenPop = createToken({ name: 'RParenPop', pattern: /\)/, categories: [RParen], pop_mode: true });
export const PredStart = createToken({ name: 'PredStart', pattern: /\//, push_mode: 'pred' });
export const PredEnd = createToken({ name: 'PredEnd', pattern: /\//, pop_mode: true });
export const LineSemicolon = createToken({ name: 'LineSemicolon', pattern: /;/, pop_mode: true });

export const Arrow = createToken({ name: 'Arrow', pattern: /->/ });
export const AssignOp = createToken({ name: 'AssignOp', pattern: /(?:<<|>>|[-+*\/%&|^])=/ });
export const Increment = createToken({ name: 'Increment', pattern: /\+\+/ });
export const Decrement = createToken({ name: 'Decrement', pattern: /--/ });
export const OrOr = createToken({ name: 'OrOr', pattern: /\|\|/ });
export const AndAnd = createToken({ name: 'AndAnd', pattern: /&&/ });
export const EqOp = createToken({ name: 'EqOp', pattern: /==|!=/ });
export const ShiftOp = createToken({ name: 'ShiftOp', pattern: /<<|>>/ });
export const RelOp = createToken({ name: 'RelOp', pattern: /<=|>=|<|>/ });
export const Assign = createToken({ name: 'Assign', pattern: /=/ });
export const Plus = createToken({ name: 'Plus', pattern: /\+/ });
export const Minus = createToken({ name: 'Minus', pattern: /-/ });
export const Star = createToken({ name: 'Star', pattern: /\*/ });
export const Div = createToken({ name: 'Div', pattern: /\// });
export const Percent = createToken({ name: 'Percent', pattern: /%/ });
export const Amp = createToken({ name: 'Amp', pattern: /&/ });
export const Pipe = createToken({ name: 'Pipe', pattern: /\|/ });
export const Caret = createToken({ name: 'Caret', pattern: /\^/ });
export const Bang = createToken({ name: 'Bang', pattern: /!/ });
export const Tilde = createToken({ name: 'Tilde', pattern: /~/ });
export const Question = createToken({ name: 'Question', pattern: /\?/ });
export const Colon = createToken({ name: 'Colon', pattern: /:/ });
export const Dot = createToken({ name: 'Dot', pattern: /\./ });
export const Comma = createToken({ name: 'Comma', pattern: /,/ });
export const Semicolon = createToken({ name: 'Semicolon', pattern: /;/ });
export const LBracket = createToken({ name: 'LBracket', pattern: /\[/ });
export const RBracket = createToken({ name: 'RBracket', pattern: /]/ });

// Tokens shared by every code mode, in lexing order. `(`, `)`, `/`, `{`, `}`
// differ per mode and are added by each mode below.
const operators: TokenType[] = [
  Arrow,
  AssignOp,
  Increment,
  Decrement,
  OrOr,
  AndAnd,
  EqOp,
  ShiftOp,
  RelOp,
  Assign,
  Plus,
  Minus,
  Star,
  Percent,
  Amp,
  Pipe,
  Caret,
  Bang,
  Tilde,
  Question,
  Colon,
  Dot,
  Comma,
  LBracket,
  RBracket,
];
const codeTokens: TokenType[] = [
  StringLiteral,
  UnterminatedString,
  IntLiteral,
  If,
  Else,
  Return,
  While,
  Unroll,
  Break,
  Continue,
  Identifier,
  MapName,
  VarName,
  Positional,
  ...operators,
];
const comments: TokenType[] = [LineComment, BlockComment, UnterminatedComment];
/** Code tokens with `/` as division, after `/=` so that compound assignment lexes whole. */
const codeWithDiv: TokenType[] = codeTokens.flatMap((t) => (t === AssignOp ? [AssignOp, Div] : [t]));

export const lexerDefinition = {
  defaultMode: 'top',
  modes: {
    top: [
      Shebang,
      WhiteSpace,
      ...comments,
      CPreproc,
      CDefinition,
      Config,
      CaptureKw,
      ProbeSpec,
      StringLiteral,
      UnterminatedString,
      IntLiteral,
      Comma,
      Semicolon,
      Assign,
      PredStart,
      LCurly,
      RCurly,
    ],
    pred: [WhiteSpace, ...comments, PredEnd, LParenPush, RParenPlain, ...codeTokens],
    paren: [WhiteSpace, ...comments, LParenPush, RParenPop, ...codeWithDiv],
    block: [WhiteSpace, ...comments, LCurly, RCurly, Semicolon, LParenPlain, RParenPlain, ...codeWithDiv],
    line: [InlineSpace, ...comments, LineEnd, LineSemicolon, LParenPlain, RParenPlain, ...codeWithDiv],
  },
};

/** Every token type, for the parser's vocabulary. */
export const allTokens: TokenType[] = [
  Shebang,
  WhiteSpace,
  InlineSpace,
  LineComment,
  BlockComment,
  UnterminatedComment,
  LineEnd,
  StringLiteral,
  UnterminatedString,
  IntLiteral,
  If,
  Else,
  Return,
  While,
  Unroll,
  Break,
  Continue,
  Identifier,
  MapName,
  VarName,
  Positional,
  CPreproc,
  CDefinition,
  Config,
  CaptureKw,
  ProbeSpec,
  LCurly,
  RCurly,
  LParen,
  LParenPlain,
  LParenPush,
  RParen,
  RParenPlain,
  RParenPop,
  PredStart,
  PredEnd,
  LineSemicolon,
  Semicolon,
  Div,
  ...operators.filter((t) => t !== Comma),
  Comma,
];

let lexerInstance: Lexer | undefined;
/** The lexer is immutable once built; building it costs a few ms, so share it. */
export function capLexer(): Lexer {
  // Validations are skipped here (they cost ~20 ms at every start); tests/unit/grammar.test.ts
  // builds the lexer with them on, so a broken token definition still fails the tests.
  lexerInstance ??= new Lexer(lexerDefinition, {
    positionTracking: 'full',
    ensureOptimizations: false,
    recoveryEnabled: true,
    skipValidations: true,
  });
  return lexerInstance;
}
