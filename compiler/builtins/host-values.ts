// compiler/builtins/host-values.ts — functions whose value the machine gives
// when the program is compiled, asked in the collect pass (host-lookups.ts
// runs each entry's lookUp): uaddr("sym"), the address of a symbol of the
// probe's binary, and cgroupid("/sys/fs/cgroup/..."), a cgroup's id. One
// table entry each (builtin.ts).
import type * as A from '../../grammar/ast.js';
import type { CheckContext } from '../2-analyze/context.js';
import { kindOf } from '../2-analyze/context.js';
import { U64 } from '../2-analyze/types.js';
import { bin, call, cast, id, num } from '../3-lower/c-ir.js';
import type { ElfSymbolInfo } from '../host.js';
import { defineBuiltin, type CheckExpr } from './builtin.js';

function literal(e: A.CallExpr, cx: CheckContext, checkExpr: CheckExpr, usage: string): boolean {
  const a = e.args[0]!;
  checkExpr(a, cx);
  if (a.kind === 'Str') return true;
  cx.bag.add('E0302', `${e.name}() needs a string literal`, a.span, `usage: ${usage}`);
  return false;
}

/** In uprobes and USDT probes, `file` is the probe's binary; `func` the probed function's symbol (uprobes). */
interface UaddrAnswer {
  symbol: string;
  file?: string;
  sym?: ElfSymbolInfo;
  func?: ElfSymbolInfo;
}

/**
 * uaddr("sym"): the address of a symbol (a variable, a function) of the
 * traced binary, in uprobe, uretprobe and USDT probes, as in bpftrace. In a
 * binary loaded at a fixed address it is the symbol's address in the file;
 * in a position-independent one (a PIE, a library) the uprobe's own address
 * gives where the binary is loaded, so only a uprobe at a function's entry can
 * tell (bpftrace 0.17 gives the address in the file there too, which is not
 * where the symbol is). data: the address in the file (decimal); loadedFrom:
 * the probed function's address and the probe's offset in it.
 */
export const UADDR = defineBuiltin<{ value: string; loadedFrom?: { func: string; offset: number } }, UaddrAnswer>({
  name: 'uaddr',
  usage: 'uaddr("symbol")',
  doc: 'uaddr("symbol"): the address of a symbol of the traced binary',
  arity: [1, 1],
  lookUp(symbol, inst, host) {
    const a = inst.attach;
    if (a.kind !== 'uprobe' && a.kind !== 'usdt') return { symbol };
    const sym = host.elfSymbol(a.path, symbol);
    const func = a.kind === 'uprobe' ? host.elfSymbol(a.path, a.func) : undefined;
    return { symbol, file: a.path, sym, func };
  },
  check(e, cx, checkExpr, found) {
    if (!literal(e, cx, checkExpr, this.usage)) return undefined;
    const kind = kindOf(cx);
    if (kind !== 'uprobe' && kind !== 'uretprobe' && kind !== 'usdt') {
      cx.bag.add(
        'E0405',
        `uaddr() is not available in ${kind === 'begin' || kind === 'end' ? kind.toUpperCase() : `${kind} probes`}`,
        e.span,
        'uaddr() names a symbol of the traced binary: use it in uprobe:BIN:FUNC, uretprobe:BIN:FUNC or usdt:BIN:PROBE',
      );
      return undefined;
    }
    if (!found?.file) return undefined;
    if (!found.sym) {
      cx.bag.add(
        'E0407',
        `symbol '${found.symbol}' not found in ${found.file}`,
        e.args[0]!.span,
        'nm -D FILE lists them',
      );
      return undefined;
    }
    const type = { k: 'int' as const, bytes: 8 as const, signed: false, space: 'user' as const };
    const attach = cx.inst.attach;
    if (!found.sym.pie) return { type, data: { value: found.sym.value } };
    if (kind !== 'uprobe' || attach.kind !== 'uprobe' || !found.func) {
      cx.bag.add(
        'E0405',
        `uaddr() is not available in ${kind} probes of ${found.file}: it is position-independent, and capc cannot tell where it is loaded there`,
        e.span,
        `take it in a uprobe, at a function's entry, and keep it for later: @addr[tid] = uaddr("${found.symbol}")`,
      );
      return undefined;
    }
    return { type, data: { value: found.sym.value, loadedFrom: { func: found.func.value, offset: attach.offset } } };
  },
  lowerInt(_b, _e, { value, loadedFrom }) {
    const v = num(BigInt(value), true);
    if (!loadedFrom) return { e: v, unsigned: true };
    // A position-independent binary: the uprobe fired at (load address + function + offset), +1 after the int3.
    const fn = BigInt(loadedFrom.func) + BigInt(loadedFrom.offset);
    const base = bin(
      '&',
      bin('-', cast('__u64', call('PT_REGS_IP', id('ctx'))), num(fn, true)),
      num(~4095n & (2n ** 64n - 1n), true),
    );
    return { e: bin('+', base, v), unsigned: true };
  },
});

/** cgroupid("/sys/fs/cgroup/unified/..."): the cgroup's id, a constant, for comparing with `cgroup`. */
export const CGROUPID = defineBuiltin<{ id: string }, { path: string; id?: string; error?: string }>({
  name: 'cgroupid',
  usage: 'cgroupid("/sys/fs/cgroup/unified/user.slice")',
  doc: 'cgroupid("/sys/fs/cgroup/..."): the id of a cgroup',
  arity: [1, 1],
  lookUp(path, _inst, host) {
    // The host refuses a path another user controls (E0332).
    const r = host.cgroupId(path);
    return r.ok ? { path, id: r.value } : { path, error: r.error };
  },
  check(e, cx, checkExpr, found) {
    if (!literal(e, cx, checkExpr, this.usage)) return undefined;
    if (!found) return undefined;
    if (found.id === undefined) {
      cx.bag.add(
        'E0332',
        found.error ?? `failed to get cgroupid for path "${found.path}"`,
        e.args[0]!.span,
        'cgroup v2 directories are under the cgroup2 mount: grep cgroup2 /proc/mounts',
      );
      return undefined;
    }
    return { type: U64, data: { id: found.id } };
  },
  lowerInt: (_b, _e, { id }) => ({ e: num(BigInt(id), true), unsigned: true }),
});
