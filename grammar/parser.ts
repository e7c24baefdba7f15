// grammar/parser.ts — the .cap grammar as a chevrotain CST parser.
// Rules are fields; error recovery is on, so one run reports several syntax
// errors. The CST is turned into the AST by grammar/ast-builder.ts.
// Precedence follows C: ?: < || < && < | < ^ < & < == != < < <= > >= < << >>
// < + - < * / % < unary < postfix.
import { CstParser, EOF, type IParserErrorMessageProvider, type IToken, type TokenType } from 'chevrotain';
import * as T from './tokens.js';

const CAST_TYPES = new Set([
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'struct',
  'union',
  'enum',
  // C's own spellings: (unsigned long)x, (char *)p
  'char',
  'short',
  'int',
  'long',
  'signed',
  'unsigned',
  'void',
  'bool',
  '_Bool',
]);
/** Words a multi-word C type may continue with: `unsigned long long`, `signed char`. */
const TYPE_CONTINUATIONS = new Set(['char', 'short', 'int', 'long']);

/** Names that may follow `->` as a sink; see the `sink` rule. */
export const SINK_NAMES = new Set(['ringbuf', 'perfbuf', 'pcapng']);

export class CapParser extends CstParser {
  /** `validate: false` skips chevrotain's grammar self-checks (a test runs them). */
  constructor(errorMessageProvider?: IParserErrorMessageProvider, validate = true) {
    super(T.allTokens, {
      recoveryEnabled: true,
      maxLookahead: 2,
      nodeLocationTracking: 'full',
      errorMessageProvider,
      skipValidations: !validate,
    });
    this.performSelfAnalysis();
  }

  program = this.RULE('program', () => {
    this.MANY(() => this.SUBRULE(this.item));
  });

  item = this.RULE('item', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.configBlock) },
      { ALT: () => this.SUBRULE(this.probe) },
      // C definitions between probes: `#include <...>`, `struct S { ... };` (handed to clang).
      { ALT: () => this.CONSUME(T.CPreproc) },
      { ALT: () => this.CONSUME(T.CDefinition) },
      // A stray `;` between items is harmless.
      { ALT: () => this.CONSUME(T.Semicolon) },
    ]);
  });

  configBlock = this.RULE('configBlock', () => {
    this.CONSUME(T.Config);
    this.CONSUME(T.Assign);
    this.CONSUME(T.LCurly);
    this.MANY(() => {
      this.CONSUME(T.Identifier, { LABEL: 'key' });
      this.CONSUME2(T.Assign);
      this.SUBRULE(this.expression, { LABEL: 'value' });
      this.OPTION(() => this.CONSUME(T.Semicolon));
    });
    this.CONSUME(T.RCurly);
  });

  probe = this.RULE('probe', () => {
    this.CONSUME(T.ProbeSpec, { LABEL: 'spec' });
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.CONSUME2(T.ProbeSpec, { LABEL: 'spec' });
    });
    this.OPTION(() => this.SUBRULE(this.predicate));
    this.OR([{ ALT: () => this.SUBRULE(this.block) }, { ALT: () => this.SUBRULE(this.lineCapture) }]);
  });

  predicate = this.RULE('predicate', () => {
    this.CONSUME(T.PredStart);
    this.SUBRULE(this.expression);
    this.CONSUME(T.PredEnd);
  });

  /** `accumulate(conn, 1024) -> ringbuf` written directly after the probe specs. */
  lineCapture = this.RULE('lineCapture', () => {
    this.CONSUME(T.CaptureKw);
    this.CONSUME(T.LParen);
    this.OPTION(() => this.SUBRULE(this.argList));
    this.CONSUME(T.RParen);
    this.SUBRULE(this.sink);
    this.OR([
      { ALT: () => this.CONSUME(T.LineEnd) },
      { ALT: () => this.CONSUME(T.LineSemicolon) },
      { ALT: () => this.CONSUME(EOF) },
    ]);
  });

  /** `-> ringbuf[(SIZE)]`, optionally followed by `-> decode[(PROTOCOL, ...)]`. */
  sink = this.RULE('sink', () => {
    this.CONSUME(T.Arrow);
    this.CONSUME(T.Identifier, { LABEL: 'name' });
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.SUBRULE(this.expression, { LABEL: 'arg' });
      this.OPTION2(() => {
        this.CONSUME(T.Comma);
        this.SUBRULE2(this.expression, { LABEL: 'arg' });
      });
      this.CONSUME(T.RParen);
    });
    this.OPTION3(() => {
      this.CONSUME2(T.Arrow);
      this.CONSUME2(T.Identifier, { LABEL: 'then' });
      this.OPTION4(() => {
        this.CONSUME2(T.LParen);
        this.OPTION5(() => {
          this.CONSUME3(T.Identifier, { LABEL: 'protocol' });
          this.MANY(() => {
            this.CONSUME2(T.Comma);
            this.CONSUME4(T.Identifier, { LABEL: 'protocol' });
          });
        });
        this.CONSUME2(T.RParen);
      });
    });
  });

  block = this.RULE('block', () => {
    this.CONSUME(T.LCurly);
    this.SUBRULE(this.statements);
    this.CONSUME(T.RCurly);
  });

  /** Statements end with `;`; the last one before `}` may omit it; `if` and blocks need none. */
  statements = this.RULE('statements', () => {
    this.MANY(() => {
      this.OR([
        { ALT: () => this.SUBRULE(this.ifStatement) },
        { ALT: () => this.SUBRULE(this.whileStatement) },
        { ALT: () => this.SUBRULE(this.unrollStatement) },
        { ALT: () => this.SUBRULE(this.block) },
        { ALT: () => this.CONSUME(T.Semicolon) },
        {
          ALT: () => {
            this.SUBRULE(this.simpleStatement);
            // The `;` may be left out before `}`. Recorded as mandatory, so a missing one
            // reads "expected ';'" and recovery inserts it instead of cascading errors.
            if (this.RECORDING_PHASE || this.LA(1).tokenType !== T.RCurly) this.CONSUME2(T.Semicolon);
          },
        },
      ]);
    });
  });

  ifStatement = this.RULE('ifStatement', () => {
    this.CONSUME(T.If);
    this.CONSUME(T.LParen);
    this.SUBRULE(this.expression, { LABEL: 'cond' });
    this.CONSUME(T.RParen);
    this.SUBRULE(this.block, { LABEL: 'then' });
    this.OPTION(() => {
      this.CONSUME(T.Else);
      this.OR([
        { ALT: () => this.SUBRULE2(this.ifStatement, { LABEL: 'elseIf' }) },
        { ALT: () => this.SUBRULE2(this.block, { LABEL: 'else' }) },
      ]);
    });
  });

  /** `while (cond) { ... }`: a loop with a bounded trip count (R6). */
  whileStatement = this.RULE('whileStatement', () => {
    this.CONSUME(T.While);
    this.CONSUME(T.LParen);
    this.SUBRULE(this.expression, { LABEL: 'cond' });
    this.CONSUME(T.RParen);
    this.SUBRULE(this.block, { LABEL: 'body' });
  });

  /** `unroll (N) { ... }`: the block repeated N times at compile time. */
  unrollStatement = this.RULE('unrollStatement', () => {
    this.CONSUME(T.Unroll);
    this.CONSUME(T.LParen);
    this.SUBRULE(this.expression, { LABEL: 'count' });
    this.CONSUME(T.RParen);
    this.SUBRULE(this.block, { LABEL: 'body' });
  });

  simpleStatement = this.RULE('simpleStatement', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Return) },
      { ALT: () => this.CONSUME(T.Break) },
      { ALT: () => this.CONSUME(T.Continue) },
      {
        // ++$x / --@m[k]
        ALT: () => {
          this.OR2([
            { ALT: () => this.CONSUME(T.Increment, { LABEL: 'preOp' }) },
            { ALT: () => this.CONSUME(T.Decrement, { LABEL: 'preOp' }) },
          ]);
          this.SUBRULE(this.lvalue, { LABEL: 'preTarget' });
        },
      },
      {
        ALT: () => {
          this.SUBRULE(this.expression, { LABEL: 'expr' });
          this.OPTION(() => {
            this.OR3([
              {
                ALT: () => {
                  this.OR4([
                    { ALT: () => this.CONSUME(T.Assign, { LABEL: 'assignOp' }) },
                    { ALT: () => this.CONSUME(T.AssignOp, { LABEL: 'assignOp' }) },
                  ]);
                  this.SUBRULE2(this.expression, { LABEL: 'value' });
                },
              },
              { ALT: () => this.CONSUME2(T.Increment, { LABEL: 'postOp' }) },
              { ALT: () => this.CONSUME2(T.Decrement, { LABEL: 'postOp' }) },
              { ALT: () => this.SUBRULE(this.sink) },
            ]);
          });
        },
      },
    ]);
  });

  lvalue = this.RULE('lvalue', () => {
    this.OR([{ ALT: () => this.CONSUME(T.VarName) }, { ALT: () => this.SUBRULE(this.mapAccess) }]);
  });

  mapAccess = this.RULE('mapAccess', () => {
    this.CONSUME(T.MapName);
    this.OPTION(() => {
      this.CONSUME(T.LBracket);
      this.SUBRULE(this.argList);
      this.CONSUME(T.RBracket);
    });
  });

  argList = this.RULE('argList', () => {
    this.SUBRULE(this.expression, { LABEL: 'arg' });
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.expression, { LABEL: 'arg' });
    });
  });

  expression = this.RULE('expression', () => {
    this.SUBRULE(this.ternary);
  });

  ternary = this.RULE('ternary', () => {
    this.SUBRULE(this.logicalOr, { LABEL: 'cond' });
    this.OPTION(() => {
      this.CONSUME(T.Question);
      this.SUBRULE(this.expression, { LABEL: 'then' });
      this.CONSUME(T.Colon);
      this.SUBRULE2(this.ternary, { LABEL: 'else' });
    });
  });

  logicalOr = this.binaryRule('logicalOr', () => this.logicalAnd, [T.OrOr]);
  logicalAnd = this.binaryRule('logicalAnd', () => this.bitOr, [T.AndAnd]);
  bitOr = this.binaryRule('bitOr', () => this.bitXor, [T.Pipe]);
  bitXor = this.binaryRule('bitXor', () => this.bitAnd, [T.Caret]);
  bitAnd = this.binaryRule('bitAnd', () => this.equality, [T.Amp]);
  equality = this.binaryRule('equality', () => this.relational, [T.EqOp]);
  relational = this.binaryRule('relational', () => this.shift, [T.RelOp]);
  shift = this.binaryRule('shift', () => this.additive, [T.ShiftOp]);
  additive = this.binaryRule('additive', () => this.multiplicative, [T.Plus, T.Minus]);
  multiplicative = this.binaryRule('multiplicative', () => this.unary, [T.Star, T.Div, T.Percent]);

  unary = this.RULE('unary', () => {
    this.OR([
      {
        ALT: () => {
          this.OR2([
            { ALT: () => this.CONSUME(T.Bang, { LABEL: 'op' }) },
            { ALT: () => this.CONSUME(T.Tilde, { LABEL: 'op' }) },
            { ALT: () => this.CONSUME(T.Minus, { LABEL: 'op' }) },
            { ALT: () => this.CONSUME(T.Plus, { LABEL: 'op' }) },
            { ALT: () => this.CONSUME(T.Star, { LABEL: 'op' }) },
            { ALT: () => this.CONSUME(T.Amp, { LABEL: 'op' }) },
          ]);
          this.SUBRULE(this.unary, { LABEL: 'operand' });
        },
      },
      { GATE: () => this.isCastAhead(), ALT: () => this.SUBRULE(this.cast) },
      { ALT: () => this.SUBRULE(this.postfix) },
    ]);
  });

  cast = this.RULE('cast', () => {
    this.CONSUME(T.LParen);
    this.SUBRULE(this.typeName);
    this.CONSUME(T.RParen);
    this.SUBRULE(this.unary, { LABEL: 'operand' });
  });

  /** A type: `uint32`, `struct task_struct *`, `unsigned long`, `conn_t **` (words, then pointer stars). */
  typeName = this.RULE('typeName', () => {
    this.CONSUME(T.Identifier, { LABEL: 'typeWord' });
    this.MANY(() => this.CONSUME2(T.Identifier, { LABEL: 'typeWord' }));
    this.MANY2(() => this.CONSUME(T.Star, { LABEL: 'pointer' }));
  });

  /** `sizeof(TYPE)` or `sizeof(EXPR)`. */
  sizeofExpr = this.RULE('sizeofExpr', () => {
    this.CONSUME(T.Identifier, { LABEL: 'sizeof' });
    this.CONSUME(T.LParen);
    this.OR([
      { GATE: () => this.typeAhead(1).is, ALT: () => this.SUBRULE(this.typeName) },
      { ALT: () => this.SUBRULE(this.expression, { LABEL: 'inner' }) },
    ]);
    this.CONSUME(T.RParen);
  });

  postfix = this.RULE('postfix', () => {
    this.SUBRULE(this.primary);
    this.MANY({
      // `-> ringbuf` / `-> perfbuf` after a capture call is a sink, not a field access.
      GATE: () => !(this.LA(1).tokenType === T.Arrow && SINK_NAMES.has(this.LA(2).image)),
      DEF: () => {
        this.OR([
          {
            ALT: () => {
              this.CONSUME(T.Arrow, { LABEL: 'access' });
              this.CONSUME(T.Identifier, { LABEL: 'field' });
            },
          },
          {
            ALT: () => {
              this.CONSUME(T.Dot, { LABEL: 'access' });
              this.OR2([
                { ALT: () => this.CONSUME2(T.Identifier, { LABEL: 'field' }) },
                { ALT: () => this.CONSUME(T.IntLiteral, { LABEL: 'field' }) },
              ]);
            },
          },
          {
            // `args->saddr[2]`: an element of an array field
            ALT: () => {
              this.CONSUME(T.LBracket, { LABEL: 'access' });
              this.SUBRULE(this.expression, { LABEL: 'index' });
              this.CONSUME(T.RBracket);
            },
          },
        ]);
      },
    });
  });

  primary = this.RULE('primary', () => {
    this.OR([
      {
        GATE: () => this.LA(1).image === 'sizeof' && this.tokenMatches(this.LA(2), T.LParen),
        ALT: () => this.SUBRULE(this.sizeofExpr),
      },
      { ALT: () => this.CONSUME(T.IntLiteral) },
      { ALT: () => this.CONSUME(T.StringLiteral) },
      { ALT: () => this.CONSUME(T.VarName) },
      { ALT: () => this.CONSUME(T.Positional) },
      { ALT: () => this.SUBRULE(this.mapAccess) },
      {
        ALT: () => {
          this.CONSUME(T.Identifier, { LABEL: 'name' });
          this.OPTION(() => {
            this.CONSUME(T.LParen, { LABEL: 'call' });
            this.OPTION2(() => this.SUBRULE(this.argList));
            this.CONSUME(T.RParen);
          });
        },
      },
      {
        // `(e)`, or a tuple `(a, b, ...)`
        ALT: () => {
          this.CONSUME2(T.LParen, { LABEL: 'paren' });
          this.SUBRULE(this.expression, { LABEL: 'inner' });
          this.MANY(() => {
            this.CONSUME(T.Comma, { LABEL: 'tupleComma' });
            this.SUBRULE2(this.expression, { LABEL: 'inner' });
          });
          this.CONSUME2(T.RParen);
        },
      },
    ]);
  });

  /**
   * A cast is `(` type `)`: a type keyword (`uint32`, `struct x`, `unsigned
   * long`), or any name followed by `*` (`(conn_t *)`), which no expression is.
   */
  private isCastAhead(): boolean {
    if (!this.tokenMatches(this.LA(1), T.LParen)) return false;
    const t = this.typeAhead(2);
    return t.is && this.tokenMatches(this.LA(t.end), T.RParen);
  }

  /** Whether a type name starts at LA(i), and the index of the token after it. */
  private typeAhead(i: number): { is: boolean; end: number } {
    const first = this.LA(i);
    if (first.tokenType !== T.Identifier) return { is: false, end: i };
    let j = i + 1;
    const known = CAST_TYPES.has(first.image);
    if (['struct', 'union', 'enum'].includes(first.image)) {
      if (this.LA(j).tokenType !== T.Identifier) return { is: false, end: j };
      j++;
    } else if (known) {
      while (this.LA(j).tokenType === T.Identifier && TYPE_CONTINUATIONS.has(this.LA(j).image)) j++;
    }
    let stars = 0;
    while (this.LA(j).tokenType === T.Star) {
      j++;
      stars++;
    }
    return { is: known || (stars > 0 && this.tokenMatches(this.LA(j), T.RParen)), end: j };
  }

  private tokenMatches(tok: IToken, type: TokenType): boolean {
    return tok.tokenType === type || (tok.tokenType.CATEGORIES ?? []).includes(type);
  }

  /** left-associative `operand (op operand)*` */
  private binaryRule(name: string, operand: () => any, ops: TokenType[]) {
    return this.RULE(name, () => {
      this.SUBRULE(operand(), { LABEL: 'operand' });
      this.MANY(() => {
        this.OR(ops.map((op) => ({ ALT: () => this.CONSUME(op, { LABEL: 'op' }) })));
        this.SUBRULE2(operand(), { LABEL: 'operand' });
      });
    });
  }
}
