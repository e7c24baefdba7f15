// compiler/1-parse/parse.ts — phase 1: source text → AST plus syntax diagnostics.
// Lexing and parsing recover from errors, so one run reports every syntax
// error it can find, each with a span and an "expected …" message.
import type { IParserErrorMessageProvider, IRecognitionException, IToken, TokenType } from 'chevrotain';
import { EOF } from 'chevrotain';
import type { Program, SourceFile, Span } from '../../grammar/ast.js';
import { buildAst } from '../../grammar/ast-builder.js';
import { capLexer, UnterminatedComment, UnterminatedString } from '../../grammar/tokens.js';
import { CapParser } from '../../grammar/parser.js';
import { DiagnosticBag, type Diagnostic } from '../diagnostics/diagnostic.js';
import { checkSourceSize, checkTokenNesting, checkTreeDepth, MAX_TOKEN_NESTING, tooDeep } from './limits.js';

export interface ParseResult {
  program: Program;
  diagnostics: Diagnostic[];
}

const DISPLAY: Record<string, string> = {
  LCurly: "'{'",
  RCurly: "'}'",
  LParen: "'('",
  RParen: "')'",
  LParenPlain: "'('",
  LParenPush: "'('",
  RParenPlain: "')'",
  RParenPop: "')'",
  LBracket: "'['",
  RBracket: "']'",
  Semicolon: "';'",
  LineSemicolon: "';'",
  Comma: "','",
  Colon: "':'",
  Question: "'?'",
  Dot: "'.'",
  Arrow: "'->'",
  Assign: "'='",
  AssignOp: 'an assignment',
  PredStart: "'/' (start of a predicate)",
  PredEnd: "'/' (end of the predicate)",
  Div: "'/'",
  Identifier: 'a name',
  IntLiteral: 'an integer',
  StringLiteral: 'a string',
  MapName: 'a map (@name)',
  VarName: 'a variable ($name)',
  ProbeSpec: 'a probe (e.g. tracepoint:syscalls:sys_enter_openat)',
  CaptureKw: "'accumulate' or 'capture'",
  LineEnd: 'end of line',
  If: "'if'",
  Else: "'else'",
  Return: "'return'",
  While: "'while'",
  Unroll: "'unroll'",
  Break: "'break'",
  Continue: "'continue'",
  Config: "'config'",
  EOF: 'end of input',
  Increment: "'++'",
  Decrement: "'--'",
  Bang: "'!'",
  Tilde: "'~'",
  Minus: "'-'",
  Plus: "'+'",
  Star: "'*'",
  Amp: "'&'",
  Percent: "'%'",
  Pipe: "'|'",
  Caret: "'^'",
  OrOr: "'||'",
  AndAnd: "'&&'",
  EqOp: "'=='",
  RelOp: "'<'",
  ShiftOp: "'<<'",
  Positional: 'a positional parameter ($1)',
};

function display(t: TokenType): string {
  return DISPLAY[t.name] ?? `'${t.name}'`;
}
function found(tok: IToken): string {
  if (tok.tokenType === EOF) return 'end of input';
  const img = tok.image.length > 24 ? tok.image.slice(0, 21) + '...' : tok.image;
  return `'${img.replace(/\n/g, '\\n')}'`;
}

const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual }) => `expected ${display(expected)} but found ${found(actual)}`,
  buildNotAllInputParsedMessage: ({ firstRedundant }) =>
    `unexpected ${found(firstRedundant)}: expected a probe (e.g. BEGIN, tracepoint:..., uprobe:...)`,
  buildNoViableAltMessage: ({ expectedPathsPerAlt, actual, ruleName }) => {
    const firsts = new Set<string>();
    for (const alt of expectedPathsPerAlt) for (const path of alt) if (path[0]) firsts.add(display(path[0]));
    const what = RULE_WHAT[ruleName];
    if (what) return `expected ${what} but found ${found(actual[0]!)}`;
    const list = [...firsts].slice(0, 6);
    return `expected ${list.length ? list.join(', ') : 'something else'} but found ${found(actual[0]!)}`;
  },
  buildEarlyExitMessage: ({ expectedIterationPaths, actual }) => {
    const firsts = new Set<string>();
    for (const path of expectedIterationPaths) if (path[0]) firsts.add(display(path[0]));
    return `expected ${[...firsts].join(' or ')} but found ${found(actual[0]!)}`;
  },
};

const RULE_WHAT: Record<string, string> = {
  primary: 'an expression',
  unary: 'an expression',
  postfix: 'an expression',
  probe: 'a probe body',
  item: 'a probe',
  simpleStatement: 'a statement',
  statements: 'a statement',
  lvalue: 'a variable or map',
  ifStatement: 'a block or if',
  sink: 'a sink',
  whileStatement: 'a while loop',
  unrollStatement: 'unroll (N) { ... }',
};

let parserInstance: CapParser | undefined;
/** Building the grammar costs ~20 ms, so one parser is reused; `parse` resets its input. */
function capParser(): CapParser {
  // The grammar is validated by tests/unit/grammar.test.ts; skipping it here saves start-up time.
  parserInstance ??= new CapParser(messages, false);
  return parserInstance;
}

const EMPTY: Program = {
  kind: 'Program',
  items: [],
  span: { start: 0, end: 0, line: 1, col: 1, endLine: 1, endCol: 1 },
};

export function parse(source: SourceFile): ParseResult {
  const bag = new DiagnosticBag();
  const spanOf = (offset: number, length: number): Span => spanAt(source.text, offset, length);
  const tooLarge = checkSourceSize(source, spanOf);
  if (tooLarge) return { program: EMPTY, diagnostics: [tooLarge] };
  const lexed = capLexer().tokenize(source.text);

  // A '/' inside a predicate ends it and the rest of the line lexes as junk:
  // say why once, and not once per character that follows.
  let predicateLine = -1;
  for (const e of lexed.errors) {
    const ch = source.text.slice(e.offset, e.offset + Math.max(1, e.length));
    const line = spanOf(e.offset, 1).line;
    if (line === predicateLine) continue;
    if (/pop/i.test(e.message)) {
      bag.add(
        'E0101',
        `unexpected '${ch}': nothing to close here`,
        spanOf(e.offset, 1),
        'remove it, or check the braces above',
      );
    } else {
      const sameLine = lexed.tokens.filter((t) => t.startOffset < e.offset && t.startLine === line);
      const lastBlock = sameLine.findLastIndex((t) => t.tokenType.name === 'LCurly' || t.tokenType.name === 'RCurly');
      const afterPredicate = sameLine.slice(lastBlock + 1).some((t) => t.tokenType.name === 'PredEnd');
      if (afterPredicate) predicateLine = line;
      bag.add(
        'E0102',
        `unexpected character '${ch.slice(0, 1)}'`,
        spanOf(e.offset, 1),
        afterPredicate
          ? "a '/' inside a predicate ends it: put division in parentheses, as in /(a / b) > 1/"
          : hintForChar(ch[0] ?? ''),
      );
    }
  }
  const good: IToken[] = [];
  for (const t of lexed.tokens) {
    if (t.tokenType === UnterminatedString) {
      bag.add(
        'E0103',
        'string literal is missing its closing quote',
        spanOf(t.startOffset, t.image.length),
        'add a closing " on the same line',
      );
    } else if (t.tokenType === UnterminatedComment) {
      bag.add('E0104', 'comment is missing its closing */', spanOf(t.startOffset, 2), 'add */ where the comment ends');
    } else good.push(t);
  }

  const deep = checkTokenNesting(good, spanOf);
  if (deep) return { program: EMPTY, diagnostics: [...bag.items, deep] };
  const parser = capParser();
  parser.input = good;
  let cst;
  try {
    cst = parser.program();
  } catch (e) {
    // A backstop under the nesting check: the parser recursed past the stack.
    if (!(e instanceof RangeError)) throw e;
    return { program: EMPTY, diagnostics: [...bag.items, tooDeep(undefined, MAX_TOKEN_NESTING)] };
  }
  // Lexical errors explain what follows them: skip parser errors they caused.
  const lexicalAt = new Set(bag.items.map((d) => d.span?.start));
  const unterminated = bag.items.filter((d) => d.code === 'E0103' || d.code === 'E0104').map((d) => d.span!);
  for (const e of parser.errors as IRecognitionException[]) {
    const tok = e.token;
    if (lexicalAt.has(tok.startOffset) || tok.startLine === predicateLine) continue;
    if (
      unterminated.some(
        (u) =>
          tok.tokenType === EOF ||
          Number.isNaN(tok.startOffset) ||
          (tok.startLine === u.line && tok.startOffset >= u.start),
      )
    )
      continue;
    const span =
      tok.tokenType === EOF || Number.isNaN(tok.startOffset)
        ? spanOf(Math.max(0, source.text.trimEnd().length), 0)
        : spanOf(tok.startOffset, tok.image.length);
    bag.add('E0101', e.message, span, hintForSyntax(e, good));
  }
  if (source.invalidUtf8At !== undefined) {
    bag.add(
      'E0107',
      `${source.name} is not valid UTF-8 here`,
      spanOf(source.invalidUtf8At, 1),
      'capc reads programs as UTF-8: write raw bytes in strings as \\xHH escapes',
    );
  }
  const { program, problems } = buildAst(cst, source.text);
  for (const p of problems) bag.add(p.kind === 'bad-escape' ? 'E0105' : 'E0106', p.message, p.span);
  const tooDeepTree = checkTreeDepth(program);
  if (tooDeepTree) return { program: EMPTY, diagnostics: [...bag.items, tooDeepTree] };
  return { program, diagnostics: bag.items };
}

function hintForChar(ch: string): string | undefined {
  if (ch === "'") return 'strings use double quotes: "text"';
  if (ch === '#') return 'C preprocessor lines are not supported in .cap files';
  if (ch === '`') return 'strings use double quotes: "text"';
  return undefined;
}

function hintForSyntax(e: IRecognitionException, tokens: IToken[]): string | undefined {
  const i = tokens.indexOf(e.token);
  const prev = i > 0 ? tokens[i - 1] : undefined;
  if (/expected ';'/.test(e.message)) return 'end each statement with ;';
  if (prev && prev.tokenType.name === 'ProbeSpec' && e.token.image === '/')
    return 'put a space between the probe and its predicate: probe /pred/ { ... }';
  if (/expected a probe body/.test(e.message)) return 'a probe is followed by an optional /predicate/ and a { block }';
  return undefined;
}

/** Span of `length` characters at `offset`, with 1-based line/column. */
export function spanAt(text: string, offset: number, length: number): Span {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  const col = offset - lineStart + 1;
  return { start: offset, end: offset + length, line, col, endLine: line, endCol: col + length };
}
