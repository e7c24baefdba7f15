// compiler/3-lower/lower-stmt.ts — lowers statements: variable and map
// writes, if/else, loops (while with a constant trip count, R6; unroll
// repeated at compile time), return, exit()/print()/clear()/zero() on the
// control ring, and the output statements (printf, time, join,
// print(value)), whose records are reserved directly in the ring (strings
// are read straight into them, never through the stack: R5), submitted with
// batched wake-ups (R10), a failed reservation counted (R11).
import type * as A from '../../grammar/ast.js';
import { isComposite, isStr } from '../2-analyze/types.js';
import { CTL_CLEAR, CTL_PRINT, CTL_ZERO, type ManifestEvent } from '../manifest.js';
import type { FieldSpec } from './layout.js';
import { addr, arrow, bin, call, cast, dot, id, num, un, type CStmt } from './c-ir.js';
import type { FnBuilder } from './fn-builder.js';
import { arith, lowerInt, lowerStrInto, strVarSlot, varName } from './lower-expr.js';
import { lowerMapDelete, lowerMapWrite } from './lower-map.js';
import { lowerCompositeInto } from './lower-memory.js';
import { lowerFieldInto } from './lower-value.js';
import { CTL_RING, EVENTS_RING, STATS_MAP } from './resources.js';
import { r10Submit, r11Count, r6BoundedLoop } from './rules.js';
import { emitChecked } from './helper-checks.js';

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
      if (s.target.kind === 'Map') return lowerMapWrite(b, s.target, s.op, s.value, s.span);
      return assignVar(b, s.target, s.op, s.value);
    case 'IncDec':
      if (s.target.kind === 'Map') return lowerMapWrite(b, s.target, s.op, undefined, s.span);
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
    case 'Break':
      b.emit({ k: 'break' });
      return;
    case 'Continue':
      b.emit({ k: 'continue' });
      return;
    case 'Unroll': {
      const n = s.count.kind === 'Int' ? Number(s.count.value) : 1;
      for (let i = 0; i < n; i++)
        b.emit({ k: 'block', comment: `unroll ${i + 1} of ${n}`, body: b.collect(() => lowerStmts(b, s.body)) });
      return;
    }
    case 'While':
      return lowerWhile(b, s);
    case 'Sink': {
      const sink = b.lowerers.captureSink;
      const site = b.res.captureSites.find((x) => x.stmt === s && x.instance === b.inst.id);
      if (!sink || !site) throw new Error('internal: capture site not found');
      sink(b, s, site);
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
  const held = b.heldVars.get(target.name);
  if (held) {
    lowerFieldInto(b, value, (n) => dot(held.slot, n), 'v', held.what);
    return;
  }
  if (isComposite(v.type)) {
    const slot = b.compositeVars.get(target.name);
    if (!slot) throw new Error(`internal: ${target.name} has no slot`);
    lowerCompositeInto(b, value, slot);
    return;
  }
  const rhs = lowerInt(b, value);
  const slot = id(varName(target.name));
  if (op === '=') {
    b.emit({ k: 'expr', e: { k: 'bin', op, l: slot, r: rhs.e } });
    return;
  }
  // + - * & | ^ on a 64-bit variable are exact in C as they are (-fwrapv);
  // / % << >> need .cap's definitions: `$x op= e` becomes `$x = $x op e` (see arith()).
  if (!['/=', '%=', '<<=', '>>='].includes(op)) {
    b.emit({ k: 'expr', e: { k: 'bin', op, l: slot, r: rhs.e } });
    return;
  }
  const cur = { e: slot, unsigned: v.type.k === 'int' && !v.type.signed };
  b.emit({
    k: 'expr',
    e: {
      k: 'bin',
      op: '=',
      l: slot,
      r: arith(op.slice(0, -1), cur, rhs, undefined, value.kind === 'Int' ? value.value : undefined).e,
    },
  });
}

/**
 * `while (c) { body }` → `for (i = 0; i <= LIMIT; i++) { if (!c) break; if (i == LIMIT)
 * { count; break; } body }` (R6: a constant trip count the verifier can bound;
 * the body runs at most LIMIT times). Reaching the limit with the condition
 * still true is counted and reported, never silent (R11).
 */
function lowerWhile(b: FnBuilder, s: A.WhileStmt): void {
  const limit = b.res.loopLimit;
  const i = b.fresh('loop');
  const counter = b.res.counter('loop-limit', `${b.res.sourceName}:${s.span.line}`);
  const body = b.collect(() => {
    const c = lowerInt(b, s.cond);
    b.emit({ k: 'if', c: un('!', c.e), then: [{ k: 'break' }] });
    b.emit({
      k: 'if',
      c: bin('==', id(i), num(limit)),
      then: [r11Count(STATS_MAP, counter, `R11: the loop reached ${limit} iterations`), { k: 'break' }],
    });
    lowerStmts(b, s.body);
  });
  b.src = s.span.line;
  b.emit(r6BoundedLoop(i, limit, body));
}

function ctlSend(b: FnBuilder, kind: number, arg: number, a: number, c: number, comment: string): void {
  b.emit({
    k: 'expr',
    e: call(
      'capc_ctl_send',
      addr(id(CTL_RING)),
      addr(id(EVENTS_RING)),
      addr(id(STATS_MAP)),
      num(b.res.dropCounter(CTL_RING)),
      num(kind),
      num(arg),
      num(a),
      num(c),
    ),
    comment,
  });
}

function lowerCallStmt(b: FnBuilder, e: A.CallExpr): void {
  const info = b.inst.calls.get(e);
  switch (e.name) {
    case 'printf':
    case 'cat':
    case 'system':
      return printf(b, e);
    case 'exit': {
      const code = info && info.fn === 'exit' ? info.code : 0;
      b.emit({
        k: 'expr',
        e: { k: 'bin', op: '=', l: id('capc_exiting'), r: num(1) },
        comment: 'no probe but END runs from now on',
      });
      b.emit({
        k: 'expr',
        e: call(
          'capc_exit',
          addr(id(CTL_RING)),
          addr(id(EVENTS_RING)),
          addr(id(STATS_MAP)),
          num(b.res.dropCounter(CTL_RING)),
          num(code),
        ),
        comment: 'ask capc to stop',
      });
      b.emit({ k: 'return', e: num(0) });
      return;
    }
    case 'signal': {
      if (info?.fn !== 'signal') throw new Error('internal: unresolved signal');
      const sig = info.sig !== undefined ? num(info.sig) : cast('__u32', lowerInt(b, e.args[0]!).e);
      emitChecked(
        b,
        call('bpf_send_signal', sig),
        'send_signal',
        e.span,
        'signal() (--unsafe): to the current process',
      );
      return;
    }
    case 'delete': {
      const m = e.args[0]! as A.MapRef;
      return lowerMapDelete(b, m, e.args[1], e.span);
    }
    case 'print': {
      if (info?.fn === 'printValue') return printValue(b, e);
      if (info?.fn !== 'print') throw new Error('internal: unresolved print');
      const m = e.args[0] as A.MapRef;
      return ctlSend(
        b,
        CTL_PRINT,
        b.res.mapIndex(m.name),
        info.top,
        info.div,
        `print(${m.name}): capc prints it in order with the output before it`,
      );
    }
    case 'clear':
    case 'zero': {
      const m = e.args[0] as A.MapRef;
      return ctlSend(
        b,
        e.name === 'clear' ? CTL_CLEAR : CTL_ZERO,
        b.res.mapIndex(m.name),
        0,
        0,
        `${e.name}(${m.name}): done by capc, in order with the output before it`,
      );
    }
    case 'time': {
      if (info?.fn !== 'time') throw new Error('internal: unresolved time');
      return outputRecord(b, 'time', [], [], { format: info.format, span: e.span });
    }
    case 'join': {
      if (info?.fn !== 'join') throw new Error('internal: unresolved join');
      const slot = b.res.strlen;
      const ev = b.res.addEvent(
        'join',
        [
          { name: 'n', what: { kind: 'int', bytes: 8, signed: false } },
          { name: 'a', what: { kind: 'str', size: 16 * slot } },
        ],
        { delim: info.delim, span: e.span },
      );
      const argv = lowerInt(b, e.args[0]!);
      return reserve(b, ev, 'join', () => {
        b.emit({
          k: 'expr',
          e: call(
            'capc_join',
            addr(arrow(id('ev'), 'n')),
            arrow(id('ev'), 'a'),
            num(slot),
            cast('const void *', argv.e),
            num(info.space === 'user' ? 1 : 0),
          ),
          comment: 'R6: at most 16 strings',
        });
      });
    }
    default:
      throw new Error(`internal: call ${e.name}() as a statement`);
  }
}

/** A record with fields filled from `args` (printf arguments, the print()ed value). */
function outputRecord(
  b: FnBuilder,
  kind: ManifestEvent['kind'],
  args: A.Expr[],
  specs: FieldSpec[],
  extra: Omit<ManifestEvent, 'id' | 'kind' | 'ring' | 'size' | 'fields'>,
): void {
  const ev = b.res.addEvent(kind, specs, extra);
  reserve(b, ev, kind, () => {
    ev.layout.fields.forEach((f, i) => lowerFieldInto(b, args[i]!, (n) => arrow(id('ev'), n), f.name, f.what));
  });
}

function printValue(b: FnBuilder, e: A.CallExpr): void {
  const a = e.args[0]!;
  outputRecord(b, 'value', [a], [{ name: 'v', what: b.res.fieldKind(b.inst.types.get(a)!) }], { span: e.span });
}

function printf(b: FnBuilder, e: A.CallExpr): void {
  const info = b.inst.calls.get(e);
  if (!info || (info.fn !== 'printf' && info.fn !== 'cat' && info.fn !== 'system'))
    throw new Error('internal: unresolved printf');
  const args = e.args.slice(1);
  const specs: FieldSpec[] = args.map((a, i) => ({ name: `a${i}`, what: b.res.fieldKind(b.inst.types.get(a)!, true) }));
  // cat() and system(): a printf record whose text capc reads a file by, or runs.
  outputRecord(b, info.fn, args, specs, { segments: info.segments, span: e.span });
}

/** Reserve a record in the events ring, fill it, submit with batched wake-ups; count a full ring. */
function reserve(
  b: FnBuilder,
  ev: { id: number; struct: string; layout: { size: number } },
  what: string,
  fillFields: () => void,
): void {
  const rec = id('ev');
  const fill: CStmt[] = b.collect(() => {
    b.emit({
      k: 'expr',
      e: { k: 'bin', op: '=', l: { k: 'member', e: arrow(rec, 'hdr'), field: 'id', arrow: false }, r: num(ev.id) },
    });
    fillFields();
    b.emit(r10Submit(rec, EVENTS_RING, '*ev'));
  });
  b.emit({
    k: 'block',
    comment: `${what}: record ${ev.id}, ${ev.layout.size} bytes`,
    body: [
      {
        k: 'decl',
        type: `struct ${ev.struct} *`,
        name: 'ev',
        init: cast(
          `struct ${ev.struct} *`,
          call('bpf_ringbuf_reserve', addr(id(EVENTS_RING)), { k: 'sizeof', of: `struct ${ev.struct}` }, num(0)),
        ),
        src: b.src,
      },
      {
        k: 'if',
        c: rec,
        then: fill,
        else: [
          { ...r11Count(STATS_MAP, b.res.dropCounter(EVENTS_RING), 'R11: ring full, count the drop'), src: b.src },
        ],
        src: b.src,
      },
    ],
  });
}
