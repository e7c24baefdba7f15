// compiler/2-analyze/check-host-values.ts — functions whose value the
// machine gives when the program is compiled (the answers were asked in the
// collect pass: host-lookups.ts): uaddr("sym"), the address of a symbol of
// the probe's binary, and cgroupid("/sys/fs/cgroup/..."), a cgroup's id.
import type * as A from '../../grammar/ast.js';
import type { CheckContext } from './context.js';
import { kindOf } from './context.js';
import { ERROR, U64, type Type } from './types.js';

type CheckExpr = (e: A.Expr, cx: CheckContext) => Type;
type ArgCount = (e: A.CallExpr, cx: CheckContext, min: number, max: number, usage: string) => boolean;

function literal(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr, usage: string): boolean {
  const a = e.args[0]!;
  checkExpr(a, cx);
  if (a.kind === 'Str') return true;
  cx.bag.add('E0302', `${e.name}() needs a string literal`, a.span, `usage: ${usage}`);
  return false;
}

/**
 * uaddr("sym"): the address of a symbol (a variable, a function) of the
 * traced binary, in uprobe, uretprobe and USDT probes, as in bpftrace. In a
 * binary loaded at a fixed address it is the symbol's address in the file;
 * in a position-independent one (a PIE, a library) the uprobe's own address
 * gives where the binary is loaded, so only a uprobe at a function's entry can
 * tell (bpftrace 0.17 gives the address in the file there too, which is not
 * where the symbol is).
 */
export function checkUaddr(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr, argCount: ArgCount): Type {
  if (!argCount(e, cx, 1, 1, 'uaddr("symbol")')) return ERROR;
  if (!literal(e, cx, checkExpr, 'uaddr("symbol")')) return ERROR;
  const kind = kindOf(cx);
  if (kind !== 'uprobe' && kind !== 'uretprobe' && kind !== 'usdt') {
    cx.bag.add(
      'E0405',
      `uaddr() is not available in ${kind === 'begin' || kind === 'end' ? kind.toUpperCase() : `${kind} probes`}`,
      e.span,
      'uaddr() names a symbol of the traced binary: use it in uprobe:BIN:FUNC, uretprobe:BIN:FUNC or usdt:BIN:PROBE',
    );
    return ERROR;
  }
  const found = cx.inst.lookups.get(e);
  if (found?.fn !== 'uaddr' || !found.file) return ERROR;
  if (!found.sym) {
    cx.bag.add(
      'E0407',
      `symbol '${found.symbol}' not found in ${found.file}`,
      e.args[0]!.span,
      'nm -D FILE lists them',
    );
    return ERROR;
  }
  const attach = cx.inst.attach;
  if (found.sym.pie) {
    if (kind !== 'uprobe' || attach.kind !== 'uprobe' || !found.func) {
      cx.bag.add(
        'E0405',
        `uaddr() is not available in ${kind} probes of ${found.file}: it is position-independent, and capc cannot tell where it is loaded there`,
        e.span,
        `take it in a uprobe, at a function's entry, and keep it for later: @addr[tid] = uaddr("${found.symbol}")`,
      );
      return ERROR;
    }
    cx.inst.calls.set(e, {
      fn: 'uaddr',
      value: found.sym.value,
      loadedFrom: { func: found.func.value, offset: attach.offset },
    });
  } else cx.inst.calls.set(e, { fn: 'uaddr', value: found.sym.value });
  return { k: 'int', bytes: 8, signed: false, space: 'user' };
}

/** cgroupid("/sys/fs/cgroup/unified/..."): the cgroup's id, a constant, for comparing with `cgroup`. */
export function checkCgroupid(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr, argCount: ArgCount): Type {
  if (!argCount(e, cx, 1, 1, 'cgroupid("/sys/fs/cgroup/unified/user.slice")')) return ERROR;
  if (!literal(e, cx, checkExpr, 'cgroupid("/sys/fs/cgroup/unified/user.slice")')) return ERROR;
  const found = cx.inst.lookups.get(e);
  if (found?.fn !== 'cgroupid') return ERROR;
  if (found.id === undefined) {
    cx.bag.add(
      'E0332',
      found.error ?? `failed to get cgroupid for path "${found.path}"`,
      e.args[0]!.span,
      'cgroup v2 directories are under the cgroup2 mount: grep cgroup2 /proc/mounts',
    );
    return ERROR;
  }
  cx.inst.calls.set(e, { fn: 'cgroupid', id: found.id });
  return U64;
}
