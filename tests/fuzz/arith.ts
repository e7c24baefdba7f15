// tests/fuzz/arith.ts — a semantic oracle for integer expressions: random
// expressions over literals and map values (opaque to clang's constant
// folding), and a reference evaluator in BigInt that implements the rules
// docs/language.md states (64-bit wrapping arithmetic, unsigned division with
// x / 0 == 0, shifts by 64 or more defined, signedness from non-literal
// operands, casts that truncate and extend). The fuzz test runs the
// expressions in the kernel and compares every printed value.
import { Rng } from './generator.js';

const M = 1n << 64n;
const u = (v: bigint) => ((v % M) + M) % M;
const s = (v: bigint) => (u(v) >= 1n << 63n ? u(v) - M : u(v));

interface Val {
  /** The 64 bits, as an unsigned number. */
  v: bigint;
  unsigned: boolean;
  /** A literal in the source (its signedness does not make an operation unsigned). */
  lit: boolean;
  /** An `int` in the generated C (small literal, comparison, !): only matters for comparisons. */
  narrow: boolean;
}

export interface ArithExpr {
  text: string;
  value: Val;
}

const CASTS: Record<string, { bits: bigint; signed: boolean }> = {
  int8: { bits: 8n, signed: true },
  uint8: { bits: 8n, signed: false },
  int16: { bits: 16n, signed: true },
  uint16: { bits: 16n, signed: false },
  int32: { bits: 32n, signed: true },
  uint32: { bits: 32n, signed: false },
  int64: { bits: 64n, signed: true },
  uint64: { bits: 64n, signed: false },
};

const LITERALS = [
  0n,
  1n,
  2n,
  3n,
  7n,
  31n,
  63n,
  64n,
  65n,
  100n,
  255n,
  256n,
  1000n,
  65535n,
  1000000000n,
  2147483647n,
  2147483648n,
  4294967295n,
  4294967296n,
  9223372036854775807n,
  9223372036854775808n,
  18446744073709551615n,
  0x5555555555555555n,
];

function literal(n: bigint): Val {
  return { v: u(n), unsigned: n > (1n << 63n) - 1n, lit: true, narrow: n >= -(1n << 31n) && n < 1n << 31n };
}

function plain(v: bigint, unsigned: boolean): Val {
  return { v: u(v), unsigned, lit: false, narrow: false };
}

const flag = (b: boolean): Val => ({ v: b ? 1n : 0n, unsigned: false, lit: false, narrow: true });

export function binaryValue(op: string, l: Val, r: Val): Val {
  if (op === '&&') return flag(l.v !== 0n && r.v !== 0n);
  if (op === '||') return flag(l.v !== 0n || r.v !== 0n);
  if (op === '/') return plain(r.v === 0n ? 0n : l.v / r.v, true);
  if (op === '%') return plain(r.v === 0n ? 0n : l.v % r.v, true);
  const unsigned = (l.unsigned && !l.lit) || (r.unsigned && !r.lit);
  const as = (x: Val) => (unsigned ? x.v : s(x.v));
  switch (op) {
    case '+':
      return plain(l.v + r.v, unsigned);
    case '-':
      return plain(l.v - r.v, unsigned);
    case '*':
      return plain(l.v * r.v, unsigned);
    case '&':
      return plain(l.v & r.v, unsigned);
    case '|':
      return plain(l.v | r.v, unsigned);
    case '^':
      return plain(l.v ^ r.v, unsigned);
    case '<<':
      return plain(r.v < 64n ? l.v << r.v : 0n, unsigned);
    case '>>':
      if (unsigned) return plain(r.v < 64n ? l.v >> r.v : 0n, true);
      return plain(s(l.v) >> (r.v < 64n ? r.v : 63n), false);
    case '==':
      return flag(l.v === r.v);
    case '!=':
      return flag(l.v !== r.v);
    case '<':
      return flag(as(l) < as(r));
    case '>':
      return flag(as(l) > as(r));
    case '<=':
      return flag(as(l) <= as(r));
    case '>=':
      return flag(as(l) >= as(r));
  }
  throw new Error(`unknown operator ${op}`);
}

/** Random integer expressions; `maps` are the values of @v[0..n) the program stores first. */
export class ArithGenerator {
  constructor(
    private readonly r: Rng,
    readonly maps: bigint[],
  ) {}

  expr(depth = 0): ArithExpr {
    const c = this.r.int(100);
    if (depth > 3 || c < 25) return this.leaf();
    if (c < 65) {
      const op = this.r.pick([
        '+',
        '-',
        '*',
        '/',
        '%',
        '&',
        '|',
        '^',
        '<<',
        '>>',
        '==',
        '!=',
        '<',
        '>',
        '<=',
        '>=',
        '&&',
        '||',
      ]);
      const l = this.expr(depth + 1);
      const r = op === '<<' || op === '>>' ? this.shiftCount(depth + 1) : this.expr(depth + 1);
      if ((op === '/' || op === '%') && r.value.lit && r.value.v === 0n) return l; // a literal zero divisor is a compile error (E0303)
      return { text: `(${l.text} ${op} ${r.text})`, value: binaryValue(op, l.value, r.value) };
    }
    if (c < 75) {
      const x = this.expr(depth + 1);
      const op = this.r.pick(['!', '~', '-']);
      if (op === '!') return { text: `!${x.text}`, value: flag(x.value.v === 0n) };
      if (op === '~')
        return {
          text: `~${x.text}`,
          value: { v: u(~x.value.v), unsigned: x.value.unsigned, lit: false, narrow: x.value.narrow },
        };
      if (x.value.lit) return this.leaf(); // -literal folds into a literal: covered by leaf()
      return { text: `-(${x.text})`, value: plain(-x.value.v, false) };
    }
    if (c < 87) {
      const name = this.r.pick(Object.keys(CASTS));
      const t = CASTS[name]!;
      const x = this.expr(depth + 1);
      const low = x.value.v & ((1n << t.bits) - 1n);
      const v = t.signed && low >= 1n << (t.bits - 1n) ? low - (1n << t.bits) : low;
      return { text: `(${name})${x.text}`, value: plain(v, !t.signed) };
    }
    const cnd = this.expr(depth + 1);
    const a = this.expr(depth + 1);
    const b = this.expr(depth + 1);
    const pick = cnd.value.v !== 0n ? a.value : b.value;
    const unsigned = a.value.unsigned || b.value.unsigned;
    return {
      text: `(${cnd.text} ? ${a.text} : ${b.text})`,
      value: { v: pick.v, unsigned, lit: false, narrow: a.value.narrow && b.value.narrow },
    };
  }

  private shiftCount(depth: number): ArithExpr {
    return this.r.chance(0.7)
      ? this.leafLiteral(this.r.pick([0n, 1n, 3n, 31n, 32n, 63n, 64n, 65n, 200n]))
      : this.expr(depth);
  }

  private leafLiteral(n: bigint): ArithExpr {
    return { text: n.toString(), value: literal(n) };
  }

  private leaf(): ArithExpr {
    if (this.maps.length && this.r.chance(0.45)) {
      const i = this.r.int(this.maps.length);
      return { text: `@v[${i}]`, value: plain(this.maps[i]!, false) };
    }
    const n = this.r.pick(LITERALS);
    // Negative literals, except below the int64 range (E0106).
    if (n <= 1n << 63n && this.r.chance(0.3)) return { text: `-${n}`, value: literal(-n) };
    return { text: n.toString(), value: literal(n) };
  }
}

/** One BEGIN program printing `count` expressions, and the lines it must print. */
export function arithProgram(seed: number, count: number): { text: string; expected: string[] } {
  const r = new Rng(seed);
  const maps = Array.from({ length: 4 }, () => s(r.pick(LITERALS) * (r.chance(0.3) ? -1n : 1n)));
  const g = new ArithGenerator(r, maps);
  const lines = ['BEGIN', '{'];
  maps.forEach((v, i) => lines.push(`  @v[${i}] = ${v};`));
  const expected: string[] = [];
  for (let i = 0; i < count; i++) {
    const e = g.expr();
    // %ld with (int64): every printf argument is 64-bit and %d reads 32 bits of
    // it, as in C and bpftrace; the oracle compares all 64 bits.
    lines.push(`  printf("%ld\\n", (int64)(${e.text}));`);
    expected.push(s(e.value.v).toString());
  }
  // Empty the map so nothing but the expressions is printed at exit.
  lines.push(`  ${maps.map((_, i) => `delete(@v[${i}]);`).join(' ')}`, '  exit();', '}');
  return { text: lines.join('\n') + '\n', expected };
}
