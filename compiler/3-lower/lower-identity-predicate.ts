// compiler/3-lower/lower-identity-predicate.ts — predicates that read a
// connection's identity, and address comparisons. The rule
// (docs/language.md, "Connection identity"): while a connection's identity
// is not known yet, every comparison that reads its addresses or ports
// counts as "maybe", and the predicate passes unless it is false whatever
// the identity turns out to be. A predicate never drops data it should have
// kept; calls that passed only because the identity was unknown are counted
// and reported at exit (W0910). `fd` is definite (-1 while unknown), so
// `fd >= 0 && rport == 5432` keeps only what is known to match.
import type * as A from '../../grammar/ast.js';
import { parseAddressLiteral, readsAddress } from '../2-analyze/check-identity.js';
import { addr, bin, call, id, num, un, type CExpr } from './c-ir.js';
import type { FnBuilder, IntVal } from './fn-builder.js';
import { lowerInt } from './lower-expr.js';
import { STATS_MAP } from './resources.js';

/** `raddr == "10.0.0.0/8"` on the identity copied into `idc`: a masked compare against the literal, computed now. */
export function addressMatch(e: A.BinaryExpr, idc: string): IntVal {
  const [a, lit] = e.left.kind === 'Ident' ? [e.left, e.right] : [e.right, e.left];
  if (a.kind !== 'Ident' || lit.kind !== 'Str') throw new Error('internal: address comparison without a literal');
  const text = new TextDecoder().decode(lit.value);
  const parsed = parseAddressLiteral(text);
  if (!parsed) throw new Error(`internal: address literal ${text} does not parse`);
  const mask = new Uint8Array(16);
  for (let i = 0; i < 16; i++) mask[i] = (0xff << (8 - Math.max(0, Math.min(8, parsed.prefix - i * 8)))) & 0xff;
  const word = (bytes: Uint8Array, at: number) => Buffer.from(bytes.subarray(at, at + 8)).readBigUInt64LE(0);
  const match = call(
    'capc_addr_match',
    addr(id(idc)),
    num(a.name === 'raddr' ? 1 : 0),
    id(parsed.family === 4 ? 'CAPC_AF_INET' : 'CAPC_AF_INET6'),
    num(word(parsed.bytes, 0), true),
    num(word(parsed.bytes, 8), true),
    num(word(mask, 0), true),
    num(word(mask, 8), true),
  );
  return { e: e.op === '==' ? match : un('!', match), unsigned: false, narrow: true };
}

/**
 * The predicate in three-valued logic: the probe goes on unless it is false
 * for every identity; with the identity known (`known`, a local set by the
 * identity load) this is the predicate itself. A pass that only the unknown
 * identity allowed is counted in `counter`.
 */
export function identityPredicate(
  b: FnBuilder,
  pred: A.Expr,
  o: { known: string; counter: number; source: string },
): void {
  const t = tri(b, pred, o);
  b.emit({ k: 'if', c: un('!', t.p), then: [{ k: 'return', e: num(0) }] });
  b.emit({
    k: 'if',
    c: t.n,
    then: [
      {
        k: 'expr',
        e: call('capc_count', addr(id(STATS_MAP)), num(o.counter)),
        comment: 'passed only because the identity is not known yet (counted, shown at exit)',
      },
    ],
  });
}

/** `p`: the predicate may be true; `n`: it may be false. Atoms are evaluated once, into locals. */
function tri(b: FnBuilder, e: A.Expr, o: { known: string; source: string }): { p: CExpr; n: CExpr } {
  if (e.kind === 'Binary' && (e.op === '&&' || e.op === '||') && readsAddress(e)) {
    const l = tri(b, e.left, o);
    const r = tri(b, e.right, o);
    return e.op === '&&'
      ? { p: bin('&&', l.p, r.p), n: bin('||', l.n, r.n) }
      : { p: bin('||', l.p, r.p), n: bin('&&', l.n, r.n) };
  }
  if (e.kind === 'Unary' && e.op === '!' && readsAddress(e)) {
    const x = tri(b, e.operand, o);
    return { p: x.n, n: x.p };
  }
  const v = lowerInt(b, e);
  const t = b.fresh('capc_pred');
  const text = o.source.slice(e.span.start, e.span.end).replace(/\s+/g, ' ');
  const maybe = readsAddress(e);
  b.emit({
    k: 'decl',
    type: '__u64',
    name: t,
    init: v.narrow ? v.e : bin('!=', v.e, num(0)),
    comment: maybe ? `${text}: reads the identity (maybe, while it is unknown)` : text,
  });
  if (!maybe) return { p: id(t), n: un('!', id(t)) };
  const unknown = un('!', id(o.known));
  return { p: bin('||', unknown, id(t)), n: bin('||', unknown, un('!', id(t))) };
}
