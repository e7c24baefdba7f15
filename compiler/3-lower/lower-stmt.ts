// compiler/3-lower/lower-stmt.ts — lowers statements: variable and map
// writes, if/else, return, exit(), and printf, which reserves its record
// directly in the ring (strings are read straight into it, never through the
// stack: R5), submits with batched wake-ups (R10) and counts a failed
// reservation (R11).
import type * as A from '../../grammar/ast.js';
import { isStr } from '../2-analyze/types.js';
import type { FieldSpec } from './layout.js';
import { addr, arrow, call, cast, id, num, type CStmt } from './c-ir.js';
import type { FnBuilder } from './fn-builder.js';
import { arith, lowerInt, lowerStrInto, strVarSlot, varName } from './lower-expr.js';
import { lowerMapDelete, lowerMapWrite } from './lower-map.js';
import { CTL_RING, EVENTS_RING, fieldKindOf, STATS_MAP } from './resources.js';

export function lowerStmts(b: FnBuilder, stmts: A.Stmt[]): void {
  for (const s of stmts) lowerStmt(b, s);
}

function lowerStmt(b: FnBuilder, s: A.Stmt): void {
  b.src = s.span.line;
  switch (s.kind) {
    case 'ExprStmt':
      if (s.expr.kind === 'Call') return lowerCallStmt(b, s.expr);
      return;
    case 'Assign':
      if (s.target.kind === 'Map') return lowerMapWrite(b, s.target, s.op, s.value);
      return assignVar(b, s.target, s.op, s.value);
    case 'IncDec':
      if (s.target.kind === 'Map') return lowerMapWrite(b, s.target, s.op, undefined);
      b.emit({ k: 'expr', e: { k: 'bin', op: s.op === '++' ? '+=' : '-=', l: id(varName(s.target.name)), r: num(1) } });
      return;
    case 'If': {
      const c = lowerInt(b, s.cond);
      const then = b.collect(() => lowerStmts(b, s.then));
      const els = s.else ? b.collect(() => lowerStmts(b, s.else!)) : undefined;
      b.src = s.span.line;
      b.emit({ k: 'if', c: c.e, then, else: els });
      return;
    }
    case 'Block':
      lowerStmts(b, s.body);
      return;
    case 'Return':
      b.emit({ k: 'return', e: num(0) });
      return;
    case 'Sink': {
      const capture = b.res.capture;
      const site = capture && b.res.captureSites.find((x) => x.stmt === s && x.instance === b.inst.id);
      if (!capture || !site) throw new Error('internal: capture site not found');
      capture.sink(b, s, site);
      return;
    }
  }
}

function assignVar(b: FnBuilder, target: A.VarRef, op: string, value: A.Expr): void {
  const v = b.inst.vars.get(target.name)!;
  if (isStr(v.type)) {
    lowerStrInto(b, value, strVarSlot(b, target.name, v.type.size), v.type.size);
    return;
  }
  const rhs = lowerInt(b, value);
  const slot = id(varName(target.name));
  if (op === '=') {
    b.emit({ k: 'expr', e: { k: 'bin', op, l: slot, r: rhs.e } });
    return;
  }
  // `$x op= e` is `$x = $x op e` with .cap's arithmetic (see arith()).
  const cur = { e: slot, unsigned: v.type.k === 'int' && !v.type.signed };
  b.emit({ k: 'expr', e: { k: 'bin', op: '=', l: slot, r: arith(op.slice(0, -1), cur, rhs, undefined, value.kind === 'Int' ? value.value : undefined).e } });
}

function lowerCallStmt(b: FnBuilder, e: A.CallExpr): void {
  switch (e.name) {
    case 'printf':
      return printf(b, e);
    case 'exit': {
      const info = b.inst.calls.get(e);
      const code = info && info.fn === 'exit' ? info.code : 0;
      b.emit({ k: 'expr', e: { k: 'bin', op: '=', l: id('capc_exiting'), r: num(1) }, comment: 'no probe but END runs from now on' });
      b.emit({ k: 'expr', e: call('capc_exit', addr(id(CTL_RING)), addr(id(STATS_MAP)), num(b.res.dropCounter(CTL_RING)), num(code)), comment: 'ask capc to stop' });
      b.emit({ k: 'return', e: num(0) });
      return;
    }
    case 'delete': {
      const m = e.args[0]! as A.MapRef;
      return lowerMapDelete(b, m, e.args[1]);
    }
    default:
      throw new Error(`internal: call ${e.name}() as a statement`);
  }
}

function printf(b: FnBuilder, e: A.CallExpr): void {
  const info = b.inst.calls.get(e);
  if (!info || info.fn !== 'printf') throw new Error('internal: unresolved printf');
  const args = e.args.slice(1);
  const specs: FieldSpec[] = args.map((a, i) => ({ name: `a${i}`, what: fieldKindOf(b.inst.types.get(a)!) }));
  const ev = b.res.addEvent('printf', specs, { segments: info.segments, span: e.span });
  const rec = id('ev');
  const fill: CStmt[] = b.collect(() => {
    b.emit({ k: 'expr', e: { k: 'bin', op: '=', l: { k: 'member', e: arrow(rec, 'hdr'), field: 'id', arrow: false }, r: num(ev.id) } });
    ev.layout.fields.forEach((f, i) => {
      const a = args[i]!;
      if (f.what.kind === 'int') b.emit({ k: 'expr', e: { k: 'bin', op: '=', l: arrow(rec, f.name), r: lowerInt(b, a).e } });
      else lowerStrInto(b, a, arrow(rec, f.name), f.size);
    });
    b.emit({
      k: 'expr',
      e: call('bpf_ringbuf_submit', rec, call('capc_wakeup_flags', addr(id(EVENTS_RING)), id('CAPC_WAKEUP_BYTES'), { k: 'sizeof', of: '*ev' })),
      comment: 'R10: wake the reader only as unread bytes cross the threshold',
    });
  });
  b.emit({
    k: 'block',
    comment: `printf: record ${ev.id}, ${ev.layout.size} bytes`,
    body: [
      { k: 'decl', type: `struct ${ev.struct} *`, name: 'ev', init: cast(`struct ${ev.struct} *`, call('bpf_ringbuf_reserve', addr(id(EVENTS_RING)), { k: 'sizeof', of: `struct ${ev.struct}` }, num(0))), src: b.src },
      {
        k: 'if',
        c: rec,
        then: fill,
        else: [{ k: 'expr', e: call('capc_count', addr(id(STATS_MAP)), num(b.res.dropCounter(EVENTS_RING))), comment: 'R11: ring full, count the drop', src: b.src }],
        src: b.src,
      },
    ],
  });
}
