// compiler/2-analyze/check-call.ts — checks calls to builtin functions:
// argument counts and types, printf formats against their arguments, str()
// sizes, and which address space a pointer is read from. Aggregations and
// whole-map statements are in check-aggregate.ts; values formatted in
// userspace (buf, ntop, usym, ustack, time, join) in check-output.ts.
import type * as A from '../../grammar/ast.js';
import { rawOffsets } from '../../grammar/literals.js';
import { didYouMean } from '../diagnostics/diagnostic.js';
import { AGGREGATION_DOCS, checkAggregation, checkClearZero, checkPrint } from './check-aggregate.js';
import { checkBuf, checkJoin, checkNtop, checkTime, checkUstack, checkUsym, defaultSpace } from './check-output.js';
import type { CheckContext } from './context.js';
import { checkSpaceCall } from './check-types.js';
import { convNeeds, parseFormat } from './printf-format.js';
import { AGG_FNS, ERROR, isInt, isResolved, isStr, typeName, VOID, type AggFn, type Type } from './types.js';
import { unifyKeys } from './map-keys.js';

type CheckExpr = (e: A.Expr, cx: CheckContext) => Type;

/** Largest str() capacity: strings live in ring records and per-CPU scratch, never on the stack. */
export const MAX_STR = 16384;

export const FUNCTIONS: Record<string, string> = {
  printf: 'printf(fmt, args...): print formatted output',
  str: 'str(ptr[, size]): read a NUL-terminated string',
  buf: 'buf(ptr, length): read raw bytes, printed with %r, %rx or %rh',
  exit: 'exit(): stop tracing, run END, print maps',
  ...AGGREGATION_DOCS,
  delete: 'delete(@m[key]): remove a map entry',
  print: 'print(@m[, top[, div]]) or print(value): print now',
  clear: 'clear(@m): remove every entry of a map',
  zero: 'zero(@m): set every value of a map to zero',
  time: 'time([fmt]): print the current time (strftime format)',
  join: 'join(argv[, delim]): print the strings of a char *[] array',
  ntop: 'ntop([af, ]addr): an IPv4 or IPv6 address as text',
  usym: 'usym(addr): the user symbol at an address',
  ustack: 'ustack or ustack(n): the user stack',
  kptr: 'kptr(addr): the address points into kernel memory',
  uptr: 'uptr(addr): the address points into user memory',
};

function argCount(e: A.CallExpr, cx: CheckContext, min: number, max: number, usage: string): boolean {
  const n = e.args.length;
  if (n < min || n > max) {
    cx.bag.add(
      'E0301',
      `${e.name}() takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}, got ${n}`,
      e.span,
      `usage: ${usage}`,
    );
    return false;
  }
  return true;
}

export function checkCall(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr): Type {
  if ((AGG_FNS as readonly string[]).includes(e.name))
    return checkAggregation(e.name as AggFn, e, cx, checkExpr, argCount);
  switch (e.name) {
    case 'buf':
      return checkBuf(e, cx, checkExpr, argCount);
    case 'ntop':
      return checkNtop(e, cx, checkExpr, argCount);
    case 'usym':
      return checkUsym(e, cx, checkExpr, argCount);
    case 'ustack':
      return checkUstack(e, cx, checkExpr, argCount);
    case 'time':
      return checkTime(e, cx, checkExpr, argCount);
    case 'join':
      return checkJoin(e, cx, checkExpr, argCount);
    case 'print':
      return checkPrint(e, cx, checkExpr, argCount);
    case 'clear':
    case 'zero':
      return checkClearZero(e, cx, checkExpr, argCount);
    case 'printf':
      return printf(e, cx, checkExpr);
    case 'kptr':
    case 'uptr':
      return checkSpaceCall(e, cx, checkExpr);
    case 'str':
      return str(e, cx, checkExpr);
    case 'exit': {
      if (!argCount(e, cx, 0, 1, 'exit() or exit(CODE)')) return VOID;
      let code = 0;
      if (e.args[0]) {
        checkExpr(e.args[0], cx);
        if (e.args[0].kind !== 'Int' || e.args[0].value < 0n || e.args[0].value > 255n) {
          cx.bag.add('E0302', 'exit() takes an integer literal from 0 to 255', e.args[0].span);
        } else code = Number(e.args[0].value);
      }
      cx.inst.calls.set(e, { fn: 'exit', code });
      return VOID;
    }
    case 'delete': {
      if (!argCount(e, cx, 1, 2, 'delete(@map[key]) or delete(@map, key)')) return VOID;
      const m = e.args[0]!;
      if (m.kind !== 'Map') {
        cx.bag.add('E0302', 'delete() needs a map entry: delete(@map[key])', m.span);
        return VOID;
      }
      const keyExprs = e.args[1] ? [e.args[1]] : m.keys;
      const keys = keyExprs?.map((k) => checkExpr(k, cx));
      const info = cx.maps.get(m.name);
      if (!info) {
        cx.bag.add('E0204', `map ${m.name} is deleted from but never assigned`, m.span);
        return VOID;
      }
      if (info.kind === 'hist' || info.kind === 'lhist') {
        cx.bag.add(
          'E0302',
          `delete() of one ${info.kind}() entry is not supported`,
          m.span,
          `clear(${m.name}) removes every entry; zero(${m.name}) empties the buckets`,
        );
        return VOID;
      }
      unifyKeys(m.name, keyExprs, keys, info, cx, m.span);
      cx.inst.calls.set(e, { fn: 'delete' });
      return VOID;
    }
    default: {
      for (const a of e.args) checkExpr(a, cx);
      cx.bag.add(
        'E0202',
        `unknown function '${e.name}'`,
        e.nameSpan,
        didYouMean(e.name, Object.keys(FUNCTIONS)) ?? `functions: ${Object.keys(FUNCTIONS).join(', ')}`,
      );
      return ERROR;
    }
  }
}

function printf(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr): Type {
  const [fmt, ...args] = e.args;
  const argTypes = args.map((a) => checkExpr(a, cx));
  if (!fmt || fmt.kind !== 'Str') {
    cx.bag.add(
      'E0302',
      'printf() needs a string literal as its first argument',
      fmt?.span ?? e.span,
      'printf("pid %d\\n", pid)',
    );
    return VOID;
  }
  cx.inst.types.set(fmt, { k: 'str', size: fmt.value.length + 1 });
  const { segments, argCount: want, problems } = parseFormat(fmt.value);
  for (const p of problems) {
    // Offsets are into the decoded bytes: map them back to the source text.
    const map = rawOffsets(fmt.raw);
    const from = map[Math.min(p.offset, map.length - 1)]!;
    const to = map[Math.min(p.offset + p.length, map.length - 1)]!;
    const span = {
      ...fmt.span,
      start: fmt.span.start + from,
      end: fmt.span.start + Math.max(to, from + 1),
      col: fmt.span.col + from,
      endCol: fmt.span.col + Math.max(to, from + 1),
    };
    cx.bag.add(
      'E0307',
      p.message,
      span,
      'conversions: %d %u %x %s %c %p %r, with flags and width (%-16s %08x); write %% for a percent sign',
    );
  }
  if (problems.length) return VOID;
  if (want !== args.length) {
    cx.bag.add(
      'E0308',
      `the format has ${want} conversion${want === 1 ? '' : 's'} but ${args.length} argument${args.length === 1 ? ' was' : 's were'} given`,
      want > args.length ? fmt.span : args[want]!.span,
    );
    return VOID;
  }
  for (const seg of segments) {
    if (!('conv' in seg)) continue;
    const t = argTypes[seg.arg]!;
    const a = args[seg.arg]!;
    if (t.k === 'error') continue;
    const need = convNeeds(seg.conv);
    const ok =
      need === 'str'
        ? isStr(t) || isResolved(t)
        : need === 'buf'
          ? t.k === 'buf'
          : need === 'int' || need === 'any-int'
            ? isInt(t)
            : false;
    if (!ok) {
      cx.bag.add(
        'E0309',
        `%${seg.conv} needs ${need === 'str' ? 'a string' : need === 'buf' ? 'a buffer from buf()' : 'an integer'}, but the argument is ${typeName(t)}`,
        a.span,
        isStr(t) || isResolved(t)
          ? 'print strings with %s'
          : t.k === 'buf'
            ? 'print buffers with %r (escaped), %rx (all hex escapes) or %rh (hex bytes)'
            : isInt(t) && need === 'str'
              ? t.space
                ? 'read the string first: str(ptr)'
                : 'print integers with %d'
              : need === 'buf'
                ? 'read the bytes with buf(ptr, length)'
                : undefined,
      );
    }
  }
  cx.inst.calls.set(e, { fn: 'printf', segments, format: Buffer.from(fmt.value).toString('latin1') });
  return VOID;
}

function str(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr): Type {
  if (!argCount(e, cx, 1, 2, 'str(ptr) or str(ptr, size)')) return ERROR;
  const t = checkExpr(e.args[0]!, cx);
  let size = cx.config.strlen;
  let dynamicLength = false;
  if (e.args[1]) {
    const n = e.args[1];
    const nt = checkExpr(n, cx);
    if (n.kind === 'Int') {
      if (n.value < 1n || n.value > BigInt(MAX_STR)) {
        cx.bag.add('E0310', `str() size must be from 1 to ${MAX_STR}`, n.span);
        return ERROR;
      }
      size = Number(n.value) + 1; // as bpftrace: str(p, 5) shows at most 5 characters
    } else if (isInt(nt)) {
      dynamicLength = true; // at most the length read at run time, capped by strlen
    } else if (nt.k !== 'error') {
      cx.bag.add('E0302', `str() length must be an integer, not ${typeName(nt)}`, n.span);
      return ERROR;
    }
  }
  if (t.k === 'error') return ERROR;
  if (isStr(t)) return { k: 'str', size: Math.min(t.size, size) };
  if (!isInt(t)) {
    cx.bag.add('E0302', `str() needs a pointer, not ${typeName(t)}`, e.args[0]!.span);
    return ERROR;
  }
  cx.inst.calls.set(e, { fn: 'str', size, space: defaultSpace(t, cx), dynamicLength });
  return { k: 'str', size };
}
