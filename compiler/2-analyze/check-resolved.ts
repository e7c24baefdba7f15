// compiler/2-analyze/check-resolved.ts — values the kernel records raw and
// capc turns into text when it prints them: stacks (ustack and kstack, with
// bpftrace's modes), kernel symbols (ksym), MAC addresses (macaddr), times
// (strftime) and cgroup paths (cgroup_path). Like ntop() and usym() they are
// printed with %s or print(), or used as map keys.
import type * as A from '../../grammar/ast.js';
import type { CheckContext } from './context.js';
import { defaultSpace, MAX_STACK_FRAMES, userContext } from './check-output.js';
import { ERROR, isInt, sizeOf, typeName, type StackMode, type Type } from './types.js';

type CheckExpr = (e: A.Expr, cx: CheckContext) => Type;
type ArgCount = (e: A.CallExpr, cx: CheckContext, min: number, max: number, usage: string) => boolean;

/**
 * `ustack`, `ustack(n)`, `ustack(perf)`, `ustack(perf, n)` and the same for
 * `kstack`: the mode is a bare word, `bpftrace` (symbol+offset) or `perf`
 * (address symbol+offset (module)).
 */
export function checkStack(
  e: A.CallExpr | A.IdentExpr,
  cx: CheckContext,
  checkExpr: CheckExpr,
  argCount: ArgCount,
  kernel: boolean,
): Type {
  const name = kernel ? 'kstack' : 'ustack';
  let frames = MAX_STACK_FRAMES;
  let mode: StackMode = 'bpftrace';
  if (e.kind === 'Call') {
    if (!argCount(e, cx, 1, 2, `${name}, ${name}(frames), ${name}(perf) or ${name}(perf, frames)`)) return ERROR;
    let args = e.args;
    const m = args[0]!;
    if (m.kind === 'Ident' && (m.name === 'perf' || m.name === 'bpftrace')) {
      mode = m.name;
      args = args.slice(1);
    } else if (m.kind === 'Ident' || args.length === 2) {
      cx.bag.add('E0302', `${name}() mode must be bpftrace or perf`, m.span, `e.g. ${name}(perf, 10)`);
      return ERROR;
    }
    const n = args[0];
    if (n) {
      checkExpr(n, cx);
      if (n.kind !== 'Int' || n.value < 1n || n.value > BigInt(MAX_STACK_FRAMES)) {
        cx.bag.add('E0310', `${name}() frames must be an integer literal from 1 to ${MAX_STACK_FRAMES}`, n.span);
        return ERROR;
      }
      frames = Number(n.value);
    }
    cx.inst.calls.set(e, { fn: name, frames, mode });
  }
  // A kernel stack exists everywhere (in BEGIN and END it is capc's own system call); a user stack needs a traced process.
  if (!kernel && !userContext(e.span, cx, 'ustack')) return ERROR;
  return { k: name, frames, mode };
}

function intArg(e: A.CallExpr, i: number, cx: CheckContext, checkExpr: CheckExpr, what: string): boolean {
  const a = e.args[i]!;
  const t = checkExpr(a, cx);
  if (t.k === 'error') return false;
  if (isInt(t)) return true;
  cx.bag.add('E0302', `${e.name}() needs ${what}, not ${typeName(t)}`, a.span);
  return false;
}

function literalArg(
  e: A.CallExpr,
  i: number,
  cx: CheckContext,
  checkExpr: CheckExpr,
  usage: string,
): string | undefined {
  const a = e.args[i]!;
  checkExpr(a, cx);
  if (a.kind === 'Str') return Buffer.from(a.value).toString('latin1');
  cx.bag.add('E0302', `${e.name}() needs a string literal here`, a.span, `usage: ${usage}`);
  return undefined;
}

/** ksym(addr): the kernel function at an address. */
export function checkKsym(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr, argCount: ArgCount): Type {
  if (!argCount(e, cx, 1, 1, 'ksym(address)') || !intArg(e, 0, cx, checkExpr, 'an address')) return ERROR;
  cx.inst.calls.set(e, { fn: 'ksym' });
  return { k: 'ksym' };
}

/** macaddr(ptr) or macaddr(array field): six bytes as a MAC address. */
export function checkMacaddr(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr, argCount: ArgCount): Type {
  if (!argCount(e, cx, 1, 1, 'macaddr(pointer) or macaddr(array)')) return ERROR;
  const a = e.args[0]!;
  const t = checkExpr(a, cx);
  if (t.k === 'error') return ERROR;
  if (t.k === 'array') {
    if (a.kind !== 'Field' || (t.count && sizeOf(t) < 6)) {
      cx.bag.add('E0302', `macaddr() needs at least 6 bytes, not ${typeName(t)}`, a.span);
      return ERROR;
    }
    cx.inst.calls.set(e, { fn: 'macaddr', space: 'kernel' });
    return { k: 'macaddr' };
  }
  if (!isInt(t)) {
    cx.bag.add('E0302', `macaddr() needs a pointer to 6 bytes, not ${typeName(t)}`, a.span);
    return ERROR;
  }
  cx.inst.calls.set(e, { fn: 'macaddr', space: defaultSpace(t, cx) });
  return { k: 'macaddr' };
}

/** strftime(fmt, ns): ns since boot (nsecs), printed in local time with strftime(3)'s format and %f (microseconds). */
export function checkStrftime(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr, argCount: ArgCount): Type {
  if (!argCount(e, cx, 2, 2, 'strftime("%H:%M:%S", nsecs)')) return ERROR;
  const format = literalArg(e, 0, cx, checkExpr, 'strftime("%H:%M:%S", nsecs)');
  if (!intArg(e, 1, cx, checkExpr, 'nanoseconds (nsecs)') || format === undefined) return ERROR;
  cx.inst.calls.set(e, { fn: 'strftime', format });
  return { k: 'strftime', format };
}

/** cgroup_path(id[, filter]): the cgroup's paths in the hierarchies whose names match filter (a wildcard). */
export function checkCgroupPath(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr, argCount: ArgCount): Type {
  if (!argCount(e, cx, 1, 2, 'cgroup_path(cgroup) or cgroup_path(cgroup, "unified")')) return ERROR;
  const ok = intArg(e, 0, cx, checkExpr, 'a cgroup id');
  const filter = e.args[1] ? literalArg(e, 1, cx, checkExpr, 'cgroup_path(cgroup, "unified")') : '*';
  if (!ok || filter === undefined) return ERROR;
  cx.inst.calls.set(e, { fn: 'cgroup_path', filter });
  return { k: 'cgroup_path', filter };
}
