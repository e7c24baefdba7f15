// compiler/2-analyze/check-stmt.ts — checks statements: assignments to
// variables and maps (and the map typing they imply), ++/--, if/else,
// while/unroll loops, break/continue/return, and statements that do nothing
// or can never run.
import type * as A from '../../grammar/ast.js';
import type { LhistParams, MapKind } from './analyzed.js';
import { checkSink } from './check-capture.js';
import { checkExpr } from './check-expr.js';
import { unifyKeys } from './map-keys.js';
import type { CheckContext } from './context.js';
import {
  isComposite,
  isInt,
  isResolved,
  isStr,
  sameShape,
  sizeOf,
  typeName,
  type AddressSpace,
  type ResolvedType,
  type Type,
} from './types.js';

/** unroll(N) repeats its block N times in the generated code: bpftrace's limit. */
export const MAX_UNROLL = 100;

export function checkStmts(stmts: A.Stmt[], cx: CheckContext): void {
  let warned = false;
  for (const s of stmts) {
    if (cx.terminated && !warned) {
      cx.bag.add('W0101', 'this statement never runs', s.span, 'statements after exit() or return are skipped');
      warned = true;
    }
    checkStmt(s, cx);
  }
}

function checkStmt(s: A.Stmt, cx: CheckContext): void {
  switch (s.kind) {
    case 'ExprStmt': {
      const t = checkExpr(s.expr, cx);
      if (s.expr.kind === 'Call' && s.expr.name === 'exit') cx.terminated = true;
      if (t.k === 'agg') {
        cx.bag.add(
          'E0306',
          `${t.fn}() must be stored in a map`,
          s.expr.span,
          `write @name = ${t.fn}(...) or @name[key] = ${t.fn}(...)`,
        );
      } else if (t.k !== 'void' && t.k !== 'error') {
        cx.bag.add(
          'E0306',
          'this expression has no effect',
          s.expr.span,
          'assign it ($x = ...), store it (@m[k] = ...) or print it (printf)',
        );
      }
      return;
    }
    case 'Assign':
      return assign(s, cx);
    case 'IncDec': {
      if (s.target.kind === 'Var') {
        const v = cx.inst.vars.get(s.target.name);
        if (!v) {
          cx.bag.add(
            'E0203',
            `variable ${s.target.name} is used before it is assigned`,
            s.target.span,
            `assign it first: ${s.target.name} = 0;`,
          );
          return;
        }
        if (!isInt(v.type)) cx.bag.add('E0303', `${s.op} needs an integer variable, not ${typeName(v.type)}`, s.span);
        cx.inst.types.set(s.target, v.type);
        return;
      }
      checkMapKeys(s.target, cx);
      defineMap(s.target, 'int', cx, s.span);
      return;
    }
    case 'If': {
      const c = checkExpr(s.cond, cx);
      if (c.k !== 'error' && !isInt(c))
        cx.bag.add(
          'E0312',
          `a condition must be an integer, not ${typeName(c)}`,
          s.cond.span,
          isStr(c) ? 'compare strings explicitly: if (comm == "bash")' : undefined,
        );
      const before = cx.terminated;
      checkStmts(s.then, cx);
      const thenTerm = cx.terminated;
      cx.terminated = before;
      if (s.else) checkStmts(s.else, cx);
      cx.terminated = before || (thenTerm && !!s.else && cx.terminated);
      return;
    }
    case 'Block':
      checkStmts(s.body, cx);
      return;
    case 'Return':
      cx.terminated = true;
      return;
    case 'While': {
      const c = checkExpr(s.cond, cx);
      if (c.k !== 'error' && !isInt(c))
        cx.bag.add('E0312', `a loop condition must be an integer, not ${typeName(c)}`, s.cond.span);
      const before = cx.terminated;
      cx.loopDepth = (cx.loopDepth ?? 0) + 1;
      checkStmts(s.body, cx);
      cx.loopDepth--;
      cx.terminated = before;
      return;
    }
    case 'Unroll': {
      checkExpr(s.count, cx);
      if (s.count.kind !== 'Int' || s.count.value < 1n || s.count.value > BigInt(MAX_UNROLL)) {
        cx.bag.add(
          'E0310',
          `unroll() needs an integer literal from 1 to ${MAX_UNROLL}`,
          s.count.span,
          'the block is repeated that many times when the program is compiled; for a count known only at run time use while',
        );
      }
      const before = cx.terminated;
      checkStmts(s.body, cx);
      cx.terminated = before || cx.terminated;
      return;
    }
    case 'Break':
    case 'Continue':
      if (!cx.loopDepth)
        cx.bag.add(
          'E0315',
          `${s.kind === 'Break' ? 'break' : 'continue'} outside a while loop`,
          s.span,
          'break and continue belong in while (cond) { ... }',
        );
      else cx.terminated = true;
      return;
    case 'Sink':
      checkSink(s, cx, checkExpr, cx.sites);
      return;
  }
}

function assign(s: A.AssignStmt, cx: CheckContext): void {
  const target = s.target;
  if (target.kind === 'Var' && target.name === '') {
    checkExpr(s.value, cx);
    cx.bag.add(
      'E0306',
      'cannot assign to this expression',
      target.span,
      'assign to a variable ($x = ...) or a map (@m[k] = ...)',
    );
    return;
  }
  const v = checkExpr(s.value, cx);
  if (target.kind === 'Var') {
    const prev = cx.inst.vars.get(target.name);
    if (v.k === 'agg') {
      cx.bag.add(
        'E0306',
        `${v.fn}() must be stored in a map, not in a variable`,
        s.value.span,
        `write @${target.name.slice(1)} = ${v.fn}(...)`,
      );
      return;
    }
    if (v.k === 'void') {
      cx.bag.add('E0302', 'this call returns nothing to assign', s.value.span);
      return;
    }
    if (s.op !== '=') {
      if (!prev)
        cx.bag.add(
          'E0203',
          `variable ${target.name} is used before it is assigned`,
          target.span,
          `assign it first: ${target.name} = 0;`,
        );
      else if (!isInt(prev.type) || (v.k !== 'error' && !isInt(v)))
        cx.bag.add('E0303', `${s.op} needs integers`, s.span);
      if (prev) cx.inst.types.set(target, prev.type);
      return;
    }
    if (v.k === 'error') {
      if (!prev) cx.inst.vars.set(target.name, { name: target.name, type: v, span: target.span });
      return;
    }
    if (!isInt(v) && !isStr(v) && !isComposite(v) && !isHeld(v)) {
      cx.bag.add(
        'E0302',
        `${typeName(v)} cannot be kept in a variable`,
        s.value.span,
        'use it where it is needed: in printf, print(), or as a map key',
      );
      cx.inst.vars.set(target.name, { name: target.name, type: { k: 'error' }, span: target.span });
      return;
    }
    if (!prev || prev.type.k === 'error') {
      // Integers are kept in 64 bits; a pointer keeps its space and what it points to.
      const type: Type = isInt(v)
        ? {
            k: 'int',
            bytes: 8,
            signed: v.literal ? true : v.signed,
            ...(v.space ? { space: v.space } : {}),
            ...(v.to ? { to: v.to } : {}),
            ...(v.spaceSet ? { spaceSet: true } : {}),
          }
        : withoutConstant(v);
      cx.inst.vars.set(target.name, { name: target.name, type, span: target.span });
      cx.inst.types.set(target, type);
      return;
    }
    if (isInt(prev.type) && isInt(v)) {
      cx.inst.types.set(target, prev.type);
      return;
    }
    if (isStr(prev.type) && isStr(v)) {
      if (v.size > prev.type.size) prev.type = { k: 'str', size: v.size };
      cx.inst.types.set(target, prev.type);
      return;
    }
    if (isComposite(prev.type) && sameShape(prev.type, v) && sizeOf(prev.type) === sizeOf(v)) {
      cx.inst.types.set(target, prev.type);
      return;
    }
    // A resolved value or a buffer: one layout per variable (ntop(0), then ntop(AF_INET6, addr) is one address).
    if (isHeld(prev.type) && JSON.stringify(prev.type) === JSON.stringify(v)) {
      cx.inst.types.set(target, prev.type);
      return;
    }
    cx.bag.add(
      'E0314',
      `${target.name} holds ${heldName(prev.type)} but is assigned ${heldName(v)}`,
      s.span,
      isHeld(prev.type) && prev.type.k === v.k
        ? `a variable keeps one ${describeHeld(v)}: use a second variable (first assigned at line ${prev.span.line})`
        : `first assigned at line ${prev.span.line}`,
    );
    return;
  }
  // map target
  checkMapKeys(target, cx);
  if (v.k === 'error') return;
  if (v.k === 'agg') {
    if (s.op !== '=') cx.bag.add('E0306', `use = with ${v.fn}(), not ${s.op}`, s.span);
    const info = s.value.kind === 'Call' ? cx.inst.calls.get(s.value) : undefined;
    defineMap(target, v.fn, cx, s.span, { lhist: info?.fn === 'lhist' ? info.params : undefined });
    return;
  }
  if (isStr(v)) {
    if (s.op !== '=') {
      cx.bag.add('E0303', `${s.op} needs an integer; ${target.name} would hold a string`, s.span);
      return;
    }
    defineMap(target, 'str', cx, s.span, { strSize: v.size });
    return;
  }
  if (isComposite(v) || isResolved(v)) {
    if (s.op !== '=') {
      cx.bag.add('E0303', `${s.op} needs an integer; ${target.name} would hold ${typeName(v)}`, s.span);
      return;
    }
    // A resolved value (a stack, a symbol, an address...) is stored raw (a stack id, an address) and resolved by capc when printed.
    if (isResolved(v)) defineMap(target, 'resolved', cx, s.span, { resolved: v });
    else defineMap(target, 'value', cx, s.span, { valueType: withoutConstant(v) });
    return;
  }
  if (!isInt(v)) {
    cx.bag.add(
      'E0302',
      `cannot store ${typeName(v)} in a map`,
      s.value.span,
      v.k === 'buf' ? 'use it as a key instead: @m[...] = count(), or print it' : undefined,
    );
    return;
  }
  defineMap(target, 'int', cx, s.span, {
    space: v.space ?? 'mixed',
    ...(v.to ? { pointer: { ...v, literal: undefined } } : {}),
  });
}

function checkMapKeys(m: A.MapRef, cx: CheckContext): Type[] | undefined {
  if (!m.keys) return undefined;
  const types = m.keys.map((k) => checkExpr(k, cx));
  types.forEach((t, i) => {
    if (t.k !== 'error' && !isInt(t) && !isStr(t) && !isResolved(t) && t.k !== 'buf' && !isComposite(t))
      cx.bag.add(
        'E0302',
        `a map key must be an integer, a string, a buffer, a record, a tuple, an array, an address, a symbol or a stack, not ${typeName(t)}`,
        m.keys![i]!.span,
      );
  });
  return types;
}

/** Record (or check against) the map's kind and key types; first write wins. */
export function defineMap(
  m: A.MapRef,
  kind: MapKind,
  cx: CheckContext,
  span: A.Span,
  extra: {
    lhist?: LhistParams;
    strSize?: number;
    valueType?: Type;
    pointer?: Type;
    space?: AddressSpace | 'mixed';
    resolved?: ResolvedType;
  } = {},
): void {
  const keys = m.keys?.map((k) => cx.inst.types.get(k) ?? { k: 'error' as const });
  if (keys?.some((k) => k.k === 'error')) return;
  const prev = cx.maps.forWrite(m.name);
  if (!prev) {
    cx.maps.set(m.name, { name: m.name, kind, keys: keys?.map(normalizeKey), span, ...extra });
    return;
  }
  if (prev.kind !== kind) {
    cx.bag.add(
      'E0305',
      `${m.name} was first used as a ${describe(prev.kind)} map, here as a ${describe(kind)} map`,
      span,
      `first use: line ${prev.span.line}`,
    );
    return;
  }
  if (
    kind === 'lhist' &&
    prev.lhist &&
    extra.lhist &&
    (prev.lhist.min !== extra.lhist.min || prev.lhist.max !== extra.lhist.max || prev.lhist.step !== extra.lhist.step)
  ) {
    const p = prev.lhist;
    cx.bag.add(
      'E0305',
      `${m.name} was first used as lhist(..., ${p.min}, ${p.max}, ${p.step}), here with another range`,
      span,
      `first use: line ${prev.span.line}; one map has one set of buckets`,
    );
    return;
  }
  if (kind === 'resolved' && prev.resolved && extra.resolved && !sameValue(prev.resolved, extra.resolved)) {
    cx.bag.add(
      'E0305',
      `${m.name} was first used holding ${describeValue(prev.resolved)}, here ${describeValue(extra.resolved)}`,
      span,
      `first use: line ${prev.span.line}; one map holds one kind of value`,
    );
    return;
  }
  if (kind === 'str' && extra.strSize && extra.strSize > (prev.strSize ?? 0)) prev.strSize = extra.strSize;
  if (
    kind === 'value' &&
    prev.valueType &&
    extra.valueType &&
    !(sameShape(prev.valueType, extra.valueType) && sizeOf(prev.valueType) === sizeOf(extra.valueType))
  ) {
    cx.bag.add(
      'E0305',
      `${m.name} was first used to hold ${typeName(prev.valueType)}, here ${typeName(extra.valueType)}`,
      span,
      `first use: line ${prev.span.line}; one map holds one type`,
    );
    return;
  }
  if (extra.space !== prev.space) prev.space = 'mixed';
  unifyKeys(m.name, m.keys, keys, prev, cx, m.span);
}

function normalizeKey(t: Type): Type {
  return isInt(t) ? { k: 'int', bytes: 8, signed: t.signed || !!t.literal } : t;
}

/** Two resolved values a map may hold both of: the same kind, stacks of the same depth and mode, the same format. */
function sameValue(a: ResolvedType, b: ResolvedType): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function describeValue(t: ResolvedType): string {
  return t.k === 'ustack' || t.k === 'kstack' ? `${t.k}(${t.mode === 'perf' ? 'perf, ' : ''}${t.frames})` : typeName(t);
}

function describe(k: MapKind): string {
  return k === 'int'
    ? 'plain integer'
    : k === 'str'
      ? 'string'
      : k === 'value'
        ? 'record, tuple or array'
        : k === 'resolved'
          ? 'resolved value'
          : `${k}()`;
}

/** pton()'s type carries its constant bytes; a variable or a map holding them holds an array like any other. */
export function withoutConstant(t: Type): Type {
  if (t.k !== 'array' || !t.bytes) return t;
  const { bytes: _bytes, ...rest } = t;
  return rest;
}

/** Values a variable keeps raw for capc to resolve when printed (an address, a stack id, a time), and buf() bytes. */
function isHeld(t: Type): boolean {
  return isResolved(t) || t.k === 'buf';
}

/** typeName, with what tells two layouts of one kind apart (a stack's depth, a time's format). */
function heldName(t: Type): string {
  switch (t.k) {
    case 'ustack':
    case 'kstack':
      return `${typeName(t)} of ${t.frames} frames${t.mode === 'perf' ? ' (perf)' : ''}`;
    case 'strftime':
      return `time (strftime ${JSON.stringify(t.format)})`;
    case 'cgroup_path':
      return `cgroup path (cgroup_path filter ${JSON.stringify(t.filter)})`;
    default:
      return typeName(t);
  }
}

function describeHeld(t: Type): string {
  switch (t.k) {
    case 'ustack':
    case 'kstack':
      return 'stack depth and mode';
    case 'strftime':
      return 'strftime() format';
    case 'cgroup_path':
      return 'cgroup_path() filter';
    case 'buf':
      return 'buffer size';
    default:
      return 'kind of value';
  }
}
