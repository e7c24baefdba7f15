// compiler/2-analyze/check-expr.ts — types every expression and records it in
// the instance's side table; reports unknown names, bad operands and
// builtins used where they have no value.
import type * as A from '../../grammar/ast.js';
import { didYouMean } from '../diagnostics/diagnostic.js';
import { BUILTIN_VARS } from './builtins.js';
import { CAPTURE_NAMES, captureNameHint, captureNameType } from './check-capture.js';
import { checkCall } from './check-call.js';
import { checkPacketField, checkPacketIndex, isPacketField, isPacketIndex, packetIdent } from './check-packet.js';
import { checkStack } from './check-resolved.js';
import { checkAddressCompare, IDENT_NAMES, identNameType } from './check-identity.js';
import { kindOf, type CheckContext } from './context.js';
import { probeName } from './probes.js';
import { fieldShape, fieldType } from './tracepoint-fields.js';
import type { BtfParam, TracepointField } from '../host.js';
import {
  checkCast,
  checkDeref,
  checkIndexOf,
  checkMember,
  checkScriptName,
  checkSizeof,
  checkTuple,
} from './check-types.js';
import { checkArgs } from './check-args.js';
import {
  arithResult,
  ERROR,
  inSpace,
  isComposite,
  isResolved,
  isInt,
  isPointer,
  isStr,
  S64,
  sameShape,
  typeName,
  type Type,
} from './types.js';
import { unifyKeys } from './map-keys.js';

export function checkExpr(e: A.Expr, cx: CheckContext): Type {
  const t = typeOf(e, cx);
  cx.inst.types.set(e, t);
  return t;
}

function typeOf(e: A.Expr, cx: CheckContext): Type {
  switch (e.kind) {
    case 'Int':
      if (e.value > 2n ** 63n - 1n) return { k: 'int', bytes: 8, signed: false, literal: true };
      if (e.value < -(2n ** 63n)) {
        cx.bag.add(
          'E0106',
          `${e.value} is out of range: the smallest integer is -9223372036854775808`,
          e.span,
          'integers are 64-bit: literals range from -9223372036854775808 to 18446744073709551615',
        );
        return ERROR;
      }
      return { k: 'int', bytes: 8, signed: true, literal: true };
    case 'Str':
      return { k: 'str', size: e.value.length + 1 };
    case 'Var': {
      const v = cx.inst.vars.get(e.name);
      if (!v) {
        cx.bag.add(
          'E0203',
          `variable ${e.name} is used before it is assigned`,
          e.span,
          didYouMean(e.name, cx.inst.vars.keys()) ?? `assign it first: ${e.name} = ...;`,
        );
        return ERROR;
      }
      return v.type;
    }
    case 'Positional':
      return positional(e, cx);
    case 'Map':
      return mapRead(e, cx);
    case 'Ident':
      return ident(e, cx);
    case 'Call':
      return checkCall(e, cx, checkExpr);
    case 'Binary':
      return binary(e, cx);
    case 'Unary': {
      const t = checkExpr(e.operand, cx);
      if (t.k === 'error') return t;
      if (e.op === '*') return checkDeref(e, t, cx);
      if (e.op === '&') {
        cx.bag.add(
          'E0302',
          'the address-of operator is not supported',
          e.span,
          'values capc reads live in its own memory, which has no address a probe could use',
        );
        return ERROR;
      }
      if (!isInt(t)) {
        cx.bag.add('E0303', `operator '${e.op}' needs an integer, not ${typeName(t)}`, e.span);
        return ERROR;
      }
      return e.op === '!' ? S64 : { k: 'int', bytes: 8, signed: e.op === '-' ? true : t.signed };
    }
    case 'Ternary': {
      const c = checkExpr(e.cond, cx);
      if (c.k !== 'error' && !isInt(c))
        cx.bag.add('E0312', `a condition must be an integer, not ${typeName(c)}`, e.cond.span);
      const a = checkExpr(e.then, cx);
      const b = checkExpr(e.else, cx);
      if (a.k === 'error' || b.k === 'error') return ERROR;
      if (isInt(a) && isInt(b)) return arithResult(a, b);
      if (isStr(a) && isStr(b)) return { k: 'str', size: Math.max(a.size, b.size) };
      cx.bag.add('E0303', `both branches of ?: must have the same type (${typeName(a)} vs ${typeName(b)})`, e.span);
      return ERROR;
    }
    case 'Field':
      return field(e, cx);
    case 'Index':
      return index(e, cx);
    case 'Cast':
      return checkCast(e, cx, checkExpr);
    case 'Tuple':
      return checkTuple(e, cx, checkExpr);
    case 'Sizeof':
      return checkSizeof(e, cx, checkExpr);
    case 'Error':
      return ERROR;
  }
}

function positional(e: A.PositionalRef, cx: CheckContext): Type {
  const params = cx.options.positional ?? [];
  if (e.index === '#') return S64;
  const v = params[e.index - 1];
  if (v === undefined) {
    cx.bag.add(
      'E0205',
      `positional parameter $${e.index} was not given`,
      e.span,
      e.index <= 9
        ? `pass it after the script: capc run script.cap ${Array.from({ length: e.index }, (_, i) => `ARG${i + 1}`).join(' ')}`
        : `pass ${e.index} arguments after the script`,
    );
    return ERROR;
  }
  if (!/^-?\d+$/.test(v)) return { k: 'str', size: Buffer.byteLength(v) + 1 };
  const n = BigInt(v);
  if (n < -(2n ** 63n) || n > 2n ** 63n - 1n) {
    cx.bag.add(
      'E0106',
      `positional parameter $${e.index} is ${v}, which does not fit in 64 bits`,
      e.span,
      'numeric parameters are int64: from -9223372036854775808 to 9223372036854775807',
    );
    return ERROR;
  }
  return S64;
}

function ident(e: A.IdentExpr, cx: CheckContext): Type {
  const packet = packetIdent(e, cx);
  if (packet) return packet;
  const b = BUILTIN_VARS[e.name];
  const kind = kindOf(cx);
  if (CAPTURE_NAMES.includes(e.name)) {
    const t = captureNameType(e.name, cx.inst);
    if (t) return t;
    cx.bag.add('E0405', `'${e.name}' is not available in this probe`, e.span, captureNameHint());
    return ERROR;
  }
  if (IDENT_NAMES.includes(e.name)) return identNameType(e, cx);
  const capture = cx.inst.capture;
  if (capture && e.name === 'retval' && capture.at === 'return') return S64;
  if (capture && e.name === 'args') {
    cx.bag.add(
      'E0405',
      `'args' is not available in a capturing probe`,
      e.span,
      'the body runs when the call returns; use conn, buf and len',
    );
    return ERROR;
  }
  if (e.name === 'ustack' || e.name === 'kstack') return checkStack(e, cx, checkExpr, () => true, e.name === 'kstack');
  if (!b) {
    const named = checkScriptName(e, cx, checkExpr);
    if (named) return named;
    cx.bag.add(
      'E0201',
      `unknown identifier '${e.name}'`,
      e.span,
      didYouMean(e.name, [...Object.keys(BUILTIN_VARS), 'ustack', 'kstack', 'pkt', ...CAPTURE_NAMES, ...IDENT_NAMES]) ??
        (e.name.startsWith('arg') ? undefined : 'variables start with $ ($x), maps with @ (@x)'),
    );
    return ERROR;
  }
  if (b.only && !b.only.includes(kind)) {
    cx.bag.add(
      'E0405',
      `'${e.name}' is not available in ${kind === 'begin' || kind === 'end' ? kind.toUpperCase() : kind} probes`,
      e.span,
      b.hint?.(kind),
    );
    return ERROR;
  }
  const argN = /^arg(\d)$/.exec(e.name);
  if (argN) {
    const max = argCountOf(cx);
    if (max !== undefined && Number(argN[1]) >= max) {
      cx.bag.add(
        'E0405',
        `${probeName(cx.inst.attach)} has ${max} argument${max === 1 ? '' : 's'}: ${e.name} does not exist`,
        e.span,
        max ? `its arguments are arg0${max > 1 ? `...arg${max - 1}` : ''}` : undefined,
      );
      return ERROR;
    }
  }
  if (e.name === 'cpid') cx.uses.cpid = true;
  if (e.name === 'elapsed') cx.uses.elapsed = true;
  if (e.name === 'probe') return { k: 'str', size: probeName(cx.inst.attach).length + 1 };
  if (e.name === 'curtask') {
    const task = cx.types.recordType({ k: 'btf' }, false, 'task_struct');
    return task
      ? { k: 'int', bytes: 8, signed: false, space: 'kernel', to: { ...task, space: 'kernel' } }
      : { k: 'int', bytes: 8, signed: false, space: 'kernel' };
  }
  const at = cx.inst.attach;
  if (e.name === 'func' && (at.kind === 'uprobe' || at.kind === 'kprobe' || at.kind === 'fentry'))
    return { k: 'str', size: at.func.length + 1 };
  return b.type(kind);
}

/** How many arguments the probe has, when the kernel or the binary says (USDT, raw tracepoints, fentry). */
function argCountOf(cx: CheckContext): number | undefined {
  const a = cx.inst.attach;
  if (a.kind === 'usdt') return a.args;
  if (a.kind === 'rawtracepoint') return a.args.length || undefined;
  if (a.kind === 'fentry') return a.params.length;
  return undefined;
}

function mapRead(e: A.MapRef, cx: CheckContext): Type {
  const keys = e.keys?.map((k) => checkExpr(k, cx));
  const m = cx.maps.get(e.name);
  if (!m) {
    // Not written so far: check reads this body again once every map is known (analyze.ts); a map nobody writes is reported there.
    return { k: 'int', bytes: 8, signed: true };
  }
  unifyKeys(e.name, e.keys, keys, m, cx, e.span);
  if (m.kind === 'str') return { k: 'str', size: m.strSize ?? cx.config.strlen };
  if (m.kind === 'resolved' && m.resolved) return m.resolved;
  if (m.kind === 'value') return m.valueType!;
  if (m.kind === 'int' && m.pointer) {
    // A typed pointer keeps what it points to; writes from different spaces leave its space to the probe's default.
    if (m.space !== 'mixed') return m.pointer;
    const unplaced = { ...m.pointer };
    if (unplaced.k === 'int') delete unplaced.space;
    return unplaced;
  }
  if (m.kind !== 'int') {
    cx.bag.add(
      'E0313',
      `${e.name} holds a ${m.kind}() aggregation, which cannot be read inside a probe`,
      e.span,
      `${m.kind}() keeps one partial value per CPU and combines them when printing; to use a value in the kernel, keep a plain map: ${e.name}${e.keys ? '[...]' : ''}${m.kind === 'count' ? '++' : ' += ...'}`,
    );
    return ERROR;
  }
  return { k: 'int', bytes: 8, signed: true, ...(m.space && m.space !== 'mixed' ? { space: m.space } : {}) };
}

const ARITH = new Set(['+', '-', '*', '/', '%', '&', '|', '^', '<<', '>>']);
const COMPARE = new Set(['==', '!=', '<', '>', '<=', '>=']);

function binary(e: A.BinaryExpr, cx: CheckContext): Type {
  const l = checkExpr(e.left, cx);
  const r = checkExpr(e.right, cx);
  if (l.k === 'error' || r.k === 'error') return ERROR;
  if (e.op === '&&' || e.op === '||') {
    for (const [t, x] of [
      [l, e.left],
      [r, e.right],
    ] as const) {
      if (!isInt(t)) cx.bag.add('E0312', `'${e.op}' needs integer operands, not ${typeName(t)}`, x.span);
    }
    return S64;
  }
  if (COMPARE.has(e.op)) {
    if (isInt(l) && isInt(r)) return S64;
    if (isResolved(l) && isResolved(r) && !isIdentityAddress(e.left) && !isIdentityAddress(e.right)) {
      // bpftrace 0.17 takes `==` here but compares what is not the value for addresses and stacks.
      cx.bag.add(
        'E0303',
        `cannot compare ${typeName(l)} with ${typeName(r)}: capc resolves them only to print them`,
        e.opSpan,
        'compare what they are made from: the address or integer given to ntop(), ksym(), usym()...',
      );
      return ERROR;
    }
    const addr = checkAddressCompare(e, l, r, cx);
    if (addr) return addr;
    if (isStr(l) && isStr(r) && (e.op === '==' || e.op === '!=')) return S64;
    // Records, tuples and arrays of one shape compare byte for byte.
    if (isComposite(l) && (e.op === '==' || e.op === '!=')) {
      if (sameShape(l, r) && sizeOfEq(l, r)) return S64;
      cx.bag.add('E0303', `cannot compare ${typeName(l)} with ${typeName(r)}: they are not the same type`, e.opSpan);
      return ERROR;
    }
    cx.bag.add(
      'E0303',
      `cannot compare ${typeName(l)} with ${typeName(r)} using '${e.op}'`,
      e.opSpan,
      isStr(l) || isStr(r)
        ? 'strings can be compared with == and != against other strings, e.g. comm == "bash"'
        : undefined,
    );
    return ERROR;
  }
  if (ARITH.has(e.op)) {
    // Pointer arithmetic is scaled by the pointee's size: p + 1 is the next element.
    if ((e.op === '+' || e.op === '-') && isPointer(l) && isInt(r) && !isPointer(r))
      return { ...l, literal: undefined };
    if (e.op === '+' && isPointer(r) && isInt(l) && !isPointer(l)) return { ...r, literal: undefined };
    if (e.op === '-' && isPointer(l) && isPointer(r)) return { k: 'int', bytes: 8, signed: true };
    if (isInt(l) && isInt(r)) {
      if ((e.op === '/' || e.op === '%') && e.right.kind === 'Int' && e.right.value === 0n) {
        cx.bag.add('E0303', 'division by zero', e.right.span);
        return ERROR;
      }
      // Division is unsigned 64-bit, as in bpftrace.
      if (e.op === '/' || e.op === '%') return { k: 'int', bytes: 8, signed: false };
      // A pointer plus or minus an offset still points into the same memory (str(args->filename + 1) reads user memory).
      const space = e.op === '+' || e.op === '-' ? (l.space ?? (e.op === '+' ? r.space : undefined)) : undefined;
      const t = arithResult(l, r);
      return space && t.k === 'int' && (!l.space || !r.space) ? { ...t, space } : t;
    }
    cx.bag.add('E0303', `operator '${e.op}' needs integers, not ${typeName(l)} and ${typeName(r)}`, e.opSpan);
    return ERROR;
  }
  cx.bag.add('E0303', `unknown operator '${e.op}'`, e.opSpan);
  return ERROR;
}

function sizeOfEq(a: Type, b: Type): boolean {
  // pton()'s constant bytes are not part of its type's shape.
  const shape = (t: Type) =>
    JSON.stringify(t, (k, v: unknown) => (k === 'bytes' && v instanceof Uint8Array ? undefined : v));
  return shape(a) === shape(b) || (a.k === 'record' && b.k === 'record' && a.key === b.key);
}

/** `args->NAME` in raw tracepoints and fentry/fexit: a function argument by name (BTF), one u64 slot each. */
function paramField(e: A.FieldExpr, params: BtfParam[], probe: string, cx: CheckContext): Type {
  const i = params.findIndex((p) => p.name === e.field);
  if (i < 0) {
    const names = params.map((p) => p.name);
    cx.bag.add(
      'E0404',
      `${probe} has no argument '${e.field}'`,
      e.fieldSpan,
      didYouMean(e.field, names) ??
        (names.length
          ? `its arguments are: ${names.join(', ')}`
          : 'its arguments have no names in BTF: use arg0, arg1, ...'),
    );
    return ERROR;
  }
  const p = params[i]!;
  const f: TracepointField = { name: p.name, type: p.type, offset: i * 8, size: p.size, signed: p.signed };
  if (p.ctype?.k === 'ptr') {
    // A typed kernel pointer (BTF): args->sk->__sk_common.skc_family reads through it.
    cx.inst.fields.set(e, f);
    return inSpace(cx.types.fromC(p.ctype, { k: 'btf' }), 'kernel');
  }
  const shape = fieldShape(f);
  if (shape.shape !== 'int' && shape.shape !== 'pointer') {
    cx.bag.add('E0302', `argument '${e.field}' is a ${p.type}, which capc cannot read`, e.fieldSpan);
    return ERROR;
  }
  cx.inst.fields.set(e, f);
  return shape.shape === 'int'
    ? { k: 'int', bytes: shape.bytes, signed: shape.signed }
    : { k: 'int', bytes: 8, signed: false, space: 'kernel' };
}

/** `args->arr[i]`: an element of an array field; out of range reads 0. */
function index(e: A.IndexExpr, cx: CheckContext): Type {
  if (isPacketIndex(e)) return checkPacketIndex(e, cx, (x) => checkExpr(x, cx));
  const obj = checkExpr(e.object, cx);
  const i = checkExpr(e.index, cx);
  if (obj.k === 'error' || i.k === 'error') return ERROR;
  if (!isTracepointArray(e.object, cx)) return checkIndexOf(e, obj, i, cx);
  if (obj.k !== 'array') {
    cx.bag.add(
      'E0302',
      `${typeName(obj)} cannot be indexed`,
      e.span,
      obj.k === 'str' ? 'strings are compared whole: comm == "bash"' : 'array fields of tracepoints can: args->args[0]',
    );
    return ERROR;
  }
  if (!isInt(i)) {
    cx.bag.add('E0302', `an index must be an integer, not ${typeName(i)}`, e.index.span);
    return ERROR;
  }
  if (e.index.kind === 'Int' && (e.index.value < 0n || (obj.count > 0 && e.index.value >= BigInt(obj.count)))) {
    cx.bag.add('E0302', `index ${e.index.value} is out of range: the array has ${obj.count} elements`, e.index.span);
    return ERROR;
  }
  return obj.elem;
}

/** `args->arr`: an array field of the tracepoint record (read from the context, not through a pointer). */
function isTracepointArray(e: A.Expr, cx: CheckContext): boolean {
  return e.kind === 'Field' && cx.inst.fields.has(e) && cx.inst.types.get(e)?.k === 'array';
}

function field(e: A.FieldExpr, cx: CheckContext): Type {
  if (isPacketField(e)) return checkPacketField(e, cx);
  const obj = checkExpr(e.object, cx);
  if (obj.k === 'error') return ERROR;
  if (obj.k !== 'args') return checkMember(e, obj, cx);
  const attach = cx.inst.attach;
  if (attach.kind === 'uprobe') return checkArgs(e, attach, cx, checkExpr);
  if (attach.kind === 'rawtracepoint' || attach.kind === 'fentry')
    return paramField(e, attach.kind === 'fentry' ? attach.params : attach.args, probeName(attach), cx);
  if (attach.kind !== 'tracepoint') return ERROR;
  const f = attach.format.fields.find((x) => x.name === e.field);
  if (!f) {
    const names = attach.format.fields.map((x) => x.name);
    cx.bag.add(
      'E0404',
      `tracepoint ${attach.category}:${attach.name} has no field '${e.field}'`,
      e.fieldSpan,
      didYouMean(e.field, names) ?? `its fields are: ${names.join(', ')}`,
    );
    return ERROR;
  }
  const t = fieldType(f, attach.category, cx.config.strlen);
  if ('unsupported' in t && f.type.startsWith('__data_loc')) {
    cx.bag.add('E0302', `field '${e.field}' is a ${t.unsupported}; capc reads __data_loc strings only`, e.fieldSpan);
    return ERROR;
  }
  if ('unsupported' in t) {
    cx.bag.add('E0302', `field '${e.field}' is a ${t.unsupported}, which capc cannot read yet`, e.fieldSpan);
    return ERROR;
  }
  cx.inst.fields.set(e, f);
  // `struct __kernel_timespec *rqtp`: a pointer to a kernel record type (args->rqtp->tv_sec).
  const rec = /^(?:const )?(struct|union) (\w+) \*$/.exec(f.type.replace(/\s+/g, ' ').trim());
  if (rec && t.k === 'int' && t.space) {
    const to = cx.types.recordType({ k: 'btf' }, rec[1] === 'union', rec[2]!);
    if (to) return { ...t, to: { ...to, space: t.space } };
  }
  return t;
}

/** laddr, raddr: the connection's addresses, which compare with address literals (check-identity.ts). */
function isIdentityAddress(e: A.Expr): boolean {
  return e.kind === 'Ident' && (e.name === 'laddr' || e.name === 'raddr');
}
