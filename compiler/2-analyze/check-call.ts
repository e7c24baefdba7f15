// compiler/2-analyze/check-call.ts — checks calls to builtin functions:
// argument counts and types, printf formats against their arguments, str()
// sizes, and which address space a pointer is read from. Aggregations and
// whole-map statements are in check-aggregate.ts; values formatted in
// userspace in check-output.ts (buf, ntop, usym, time, join) and
// check-resolved.ts (stacks, ksym, macaddr, strftime, cgroup_path); functions
// with effects past the program (signal, system, cat) in check-effects.ts.
// The builtins defined as table entries (kaddr, bswap, uptr, kptr, uaddr,
// cgroupid, strncmp, strcontains: compiler/builtins/) are checked by their
// entry.
import type * as A from '../../grammar/ast.js';
import { didYouMean } from '../diagnostics/diagnostic.js';
import { AGGREGATION_DOCS, checkAggregation, checkClearZero, checkPrint } from './check-aggregate.js';
import { checkBuf, checkJoin, checkNtop, checkTime, checkUsym, defaultSpace } from './check-output.js';
import { checkCgroupPath, checkKsym, checkMacaddr, checkStack, checkStrftime } from './check-resolved.js';
import { checkCat, checkSignal, checkSystem } from './check-effects.js';
import { checkPton } from './check-strings.js';
import { BUILTINS, checkBuiltin } from '../builtins/index.js';
import { packetRefuses } from './check-packet.js';
import type { CheckContext } from './context.js';
import { checkFormatArgs } from './check-format.js';
import { AGG_FNS, ERROR, isInt, isStr, typeName, VOID, type AggFn, type Type } from './types.js';
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
  ustack: 'ustack, ustack(n), ustack(perf[, n]): the user stack',
  kstack: 'kstack, kstack(n), kstack(perf[, n]): the kernel stack',
  ksym: 'ksym(addr): the kernel function at an address',
  macaddr: 'macaddr(ptr): six bytes as a MAC address',
  strftime: 'strftime(fmt, nsecs): a time as text (strftime(3) conversions, %f for microseconds)',
  cgroup_path: 'cgroup_path(id[, filter]): the paths of a cgroup id',
  signal: 'signal(SIG) (--unsafe): send a signal to the current process',
  system: 'system(fmt, args...) (--unsafe): run a command',
  cat: 'cat(fmt, args...): print a file',
  pton: 'pton("addr"): an IPv4 or IPv6 address as its 4 or 16 bytes',
  ...Object.fromEntries([...BUILTINS.values()].map((b) => [b.name, b.doc])),
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
  if (packetRefuses(e.name, e.span, cx)) return ERROR;
  const builtin = BUILTINS.get(e.name);
  if (builtin) return checkBuiltin(builtin, e, cx, checkExpr);
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
    case 'kstack':
      return checkStack(e, cx, checkExpr, argCount, e.name === 'kstack');
    case 'ksym':
      return checkKsym(e, cx, checkExpr, argCount);
    case 'macaddr':
      return checkMacaddr(e, cx, checkExpr, argCount);
    case 'strftime':
      return checkStrftime(e, cx, checkExpr, argCount);
    case 'cgroup_path':
      return checkCgroupPath(e, cx, checkExpr, argCount);
    case 'signal':
      return checkSignal(e, cx, checkExpr, argCount);
    case 'system':
      return checkSystem(e, cx, checkExpr);
    case 'cat':
      return checkCat(e, cx, checkExpr);
    case 'pton':
      return checkPton(e, cx, checkExpr, argCount);
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
  const f = checkFormatArgs(e, cx, checkExpr);
  if (f) cx.inst.calls.set(e, { fn: 'printf', segments: f.segments, format: f.format });
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
