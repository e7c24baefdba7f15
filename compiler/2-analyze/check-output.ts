// compiler/2-analyze/check-output.ts — functions whose values the kernel
// records raw and capc formats in userspace: buf() (bytes for %r), ntop()
// (addresses), usym() (symbols; stacks and the other resolved values are in
// check-resolved.ts), and the output statements time() and join().
import type * as A from '../../grammar/ast.js';
import { kindOf, type CheckContext } from './context.js';
import type { ProbeKind } from './probes.js';
import { ERROR, isInt, sizeOf, typeName, VOID, type AddressSpace, type Type } from './types.js';

type CheckExpr = (e: A.Expr, cx: CheckContext) => Type;
type ArgCount = (e: A.CallExpr, cx: CheckContext, min: number, max: number, usage: string) => boolean;

/** Largest buf(): bytes travel in ring records, never on the stack. */
export const MAX_BUF = 16384;
/** Frames a stack keeps at most (the kernel's PERF_MAX_STACK_DEPTH). */
export const MAX_STACK_FRAMES = 127;

const USER_CONTEXT: ProbeKind[] = [
  'uprobe',
  'uretprobe',
  'usdt',
  'tracepoint',
  'rawtracepoint',
  'profile',
  'interval',
  'software',
  'hardware',
  'watchpoint',
  'kprobe',
  'kretprobe',
  'fentry',
  'fexit',
];

/** Pointers read from user memory in uprobes and syscall tracepoints, kernel memory elsewhere. */
export function defaultSpace(t: Type, cx: CheckContext): AddressSpace {
  if (t.k === 'int' && t.space) return t.space;
  const kind = kindOf(cx);
  return kind === 'uprobe' || kind === 'uretprobe' || kind === 'usdt' ? 'user' : 'kernel';
}

/** buf(ptr, n) or buf(array). */
export function checkBuf(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr, argCount: ArgCount): Type {
  if (!argCount(e, cx, 1, 2, 'buf(ptr, length) or buf(array)')) return ERROR;
  const t = checkExpr(e.args[0]!, cx);
  const n = e.args[1];
  const nt = n ? checkExpr(n, cx) : undefined;
  if (t.k === 'error' || nt?.k === 'error') return ERROR;
  if (t.k === 'array') {
    if (n) {
      cx.bag.add('E0301', 'buf() of an array takes no length: the array has one', n.span);
      return ERROR;
    }
    // A __data_loc array's length is in the record: at most strlen bytes of it.
    const size = t.count ? t.count * sizeOf(t.elem) : cx.config.strlen;
    cx.inst.calls.set(e, { fn: 'buf', size, space: 'kernel', dynamicLength: !t.count });
    return { k: 'buf', size };
  }
  if (!isInt(t)) {
    cx.bag.add('E0302', `buf() needs a pointer, not ${typeName(t)}`, e.args[0]!.span);
    return ERROR;
  }
  if (!n || !nt) {
    cx.bag.add('E0301', 'buf() of a pointer needs a length', e.span, 'usage: buf(ptr, length)');
    return ERROR;
  }
  let size = cx.config.strlen;
  let dynamicLength = false;
  if (n.kind === 'Int') {
    if (n.value < 1n || n.value > BigInt(MAX_BUF)) {
      cx.bag.add('E0310', `buf() length must be from 1 to ${MAX_BUF}`, n.span);
      return ERROR;
    }
    size = Number(n.value);
  } else if (isInt(nt)) {
    dynamicLength = true; // at most strlen bytes, fewer when the length read at run time is smaller
  } else {
    cx.bag.add('E0302', `buf() length must be an integer, not ${typeName(nt)}`, n.span);
    return ERROR;
  }
  cx.inst.calls.set(e, { fn: 'buf', size, space: defaultSpace(t, cx), dynamicLength });
  return { k: 'buf', size };
}

/** ntop(addr), ntop(af, addr): addr an integer (IPv4) or a 4- or 16-byte array. */
export function checkNtop(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr, argCount: ArgCount): Type {
  if (!argCount(e, cx, 1, 2, 'ntop(addr) or ntop(af, addr)')) return ERROR;
  const types = e.args.map((a) => checkExpr(a, cx));
  if (types.some((t) => t.k === 'error')) return ERROR;
  const addr = types[types.length - 1]!;
  const addrExpr = e.args[e.args.length - 1]!;
  if (e.args.length === 2 && !isInt(types[0]!)) {
    cx.bag.add(
      'E0302',
      `ntop() address family must be an integer (2 for AF_INET, 10 for AF_INET6), not ${typeName(types[0]!)}`,
      e.args[0]!.span,
    );
    return ERROR;
  }
  let family: 'arg' | 4 | 6 = e.args.length === 2 ? 'arg' : 4;
  if (addr.k === 'inet' && e.args.length === 1) {
    // ntop(raddr): already an address (the connection's identity); printed as it is.
    cx.inst.calls.set(e, { fn: 'ntop', family: 'arg' });
    return addr;
  }
  if (addr.k === 'array' && addr.count === 0) {
    cx.bag.add(
      'E0302',
      `ntop() needs a 4- or 16-byte address, not ${typeName(addr)} (its length is known only at run time)`,
      addrExpr.span,
    );
    return ERROR;
  }
  if (addr.k === 'array') {
    const bytes = addr.count * sizeOf(addr.elem);
    if (bytes !== 4 && bytes !== 16 && addr.count !== 0) {
      cx.bag.add('E0302', `ntop() needs a 4- or 16-byte address, not ${typeName(addr)}`, addrExpr.span);
      return ERROR;
    }
    if (e.args.length === 1) family = bytes === 4 ? 4 : 6;
  } else if (!isInt(addr)) {
    cx.bag.add('E0302', `ntop() needs an address (an integer or a byte array), not ${typeName(addr)}`, addrExpr.span);
    return ERROR;
  }
  cx.inst.calls.set(e, { fn: 'ntop', family });
  return { k: 'inet' };
}

export function checkUsym(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr, argCount: ArgCount): Type {
  if (!argCount(e, cx, 1, 1, 'usym(address)')) return ERROR;
  const t = checkExpr(e.args[0]!, cx);
  if (t.k === 'error') return ERROR;
  if (!isInt(t)) {
    cx.bag.add('E0302', `usym() needs an address, not ${typeName(t)}`, e.args[0]!.span);
    return ERROR;
  }
  if (!userContext(e.span, cx, 'usym()')) return ERROR;
  cx.inst.calls.set(e, { fn: 'usym' });
  return { k: 'usym' };
}

export function userContext(span: A.Span, cx: CheckContext, what: string): boolean {
  const kind = kindOf(cx);
  if (USER_CONTEXT.includes(kind)) return true;
  cx.bag.add(
    'E0405',
    `${what} is not available in ${kind.toUpperCase()}`,
    span,
    'BEGIN and END run in capc itself, not in a traced process',
  );
  return false;
}

/** time([format]): print the current time, formatted by capc when the record is read. */
export function checkTime(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr, argCount: ArgCount): Type {
  if (!argCount(e, cx, 0, 1, 'time() or time("%H:%M:%S\\n")')) return VOID;
  let format = '%H:%M:%S\n';
  const f = e.args[0];
  if (f) {
    checkExpr(f, cx);
    if (f.kind !== 'Str') {
      cx.bag.add(
        'E0302',
        'time() needs a string literal format',
        f.span,
        'strftime conversions: time("%Y-%m-%d %H:%M:%S\\n")',
      );
      return VOID;
    }
    format = Buffer.from(f.value).toString('latin1');
  }
  cx.inst.calls.set(e, { fn: 'time', format });
  return VOID;
}

/** join(argv[, delim]): print the strings of a NULL-terminated char *[] (at most 16). */
export function checkJoin(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr, argCount: ArgCount): Type {
  if (!argCount(e, cx, 1, 2, 'join(array[, delimiter])')) return VOID;
  const t = checkExpr(e.args[0]!, cx);
  let delim = ' ';
  const d = e.args[1];
  if (d) {
    checkExpr(d, cx);
    if (d.kind !== 'Str') {
      cx.bag.add('E0302', 'join() delimiter must be a string literal', d.span);
      return VOID;
    }
    delim = Buffer.from(d.value).toString('latin1');
  }
  if (t.k === 'error') return VOID;
  if (!isInt(t)) {
    cx.bag.add(
      'E0302',
      `join() needs a pointer to an array of strings (char *[]), not ${typeName(t)}`,
      e.args[0]!.span,
    );
    return VOID;
  }
  cx.inst.calls.set(e, { fn: 'join', delim, space: defaultSpace(t, cx) });
  return VOID;
}
