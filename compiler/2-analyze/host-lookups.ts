// compiler/2-analyze/host-lookups.ts — the questions some functions ask the
// machine when a program is compiled, asked in the collect pass (the only
// analysis pass with the Host): kaddr("sym") (is it in /proc/kallsyms?).
// check reads the answers from the instance; it never asks the host itself.
// (uaddr() and cgroupid() will ask here too: see docs/language.md.)
import type * as A from '../../grammar/ast.js';
import { forEachExprIn } from '../../grammar/walk.js';
import type { Host } from '../host.js';
import type { ProbeInstance } from './analyzed.js';

export type HostLookup = { fn: 'kaddr'; symbol: string; found: boolean };

const LOOKUP_FNS = new Set(['kaddr']);

function text(e: A.Expr | undefined): string | undefined {
  return e?.kind === 'Str' ? Buffer.from(e.value).toString('latin1') : undefined;
}

/** Ask the host what the instance's kaddr() calls need; answers go to `inst.lookups`. */
export function lookUp(inst: ProbeInstance, host: Host): void {
  const visit = (e: A.Expr) => {
    if (e.kind !== 'Call' || !LOOKUP_FNS.has(e.name)) return;
    const arg = text(e.args[0]);
    if (arg === undefined) return;
    inst.lookups.set(e, { fn: 'kaddr', symbol: arg, found: host.kernelSymbolExists(arg) });
  };
  forEachExprIn(inst.item, visit);
}
