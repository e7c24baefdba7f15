// compiler/2-analyze/host-lookups.ts — the questions some functions ask the
// machine when a program is compiled, asked in the collect pass (the only
// analysis pass with the Host): kaddr("sym") (is it in /proc/kallsyms?),
// uaddr("sym") (the symbol in the probe's binary, and the probed function,
// whose address tells where a position-independent binary is loaded), and
// cgroupid("/sys/fs/cgroup/...") (the cgroup's id; the host refuses a path
// another user controls). check reads the answers from the instance; it never
// asks the host itself.
import type * as A from '../../grammar/ast.js';
import { forEachExprIn } from '../../grammar/walk.js';
import type { ElfSymbolInfo, Host } from '../host.js';
import type { ProbeInstance } from './analyzed.js';

export type HostLookup =
  | { fn: 'kaddr'; symbol: string; found: boolean }
  /** uaddr(): in uprobes and USDT probes, `file` is the probe's binary; `func` the probed function's symbol (uprobes). */
  | { fn: 'uaddr'; symbol: string; file?: string; sym?: ElfSymbolInfo; func?: ElfSymbolInfo }
  | { fn: 'cgroupid'; path: string; id?: string; error?: string };

const LOOKUP_FNS = new Set(['kaddr', 'uaddr', 'cgroupid']);

function text(e: A.Expr | undefined): string | undefined {
  return e?.kind === 'Str' ? Buffer.from(e.value).toString('latin1') : undefined;
}

function ask(e: A.CallExpr, arg: string, inst: ProbeInstance, host: Host): HostLookup {
  switch (e.name) {
    case 'uaddr': {
      const a = inst.attach;
      if (a.kind !== 'uprobe' && a.kind !== 'usdt') return { fn: 'uaddr', symbol: arg };
      const sym = host.elfSymbol(a.path, arg);
      const func = a.kind === 'uprobe' ? host.elfSymbol(a.path, a.func) : undefined;
      return { fn: 'uaddr', symbol: arg, file: a.path, sym, func };
    }
    case 'cgroupid': {
      const r = host.cgroupId(arg);
      return r.ok ? { fn: 'cgroupid', path: arg, id: r.value } : { fn: 'cgroupid', path: arg, error: r.error };
    }
    default:
      return { fn: 'kaddr', symbol: arg, found: host.kernelSymbolExists(arg) };
  }
}

/** Ask the host what the instance's kaddr(), uaddr() and cgroupid() calls need; answers go to `inst.lookups`. */
export function lookUp(inst: ProbeInstance, host: Host): void {
  const visit = (e: A.Expr) => {
    if (e.kind !== 'Call' || !LOOKUP_FNS.has(e.name)) return;
    const arg = text(e.args[0]);
    if (arg === undefined) return;
    inst.lookups.set(e, ask(e, arg, inst, host));
  };
  forEachExprIn(inst.item, visit);
}
