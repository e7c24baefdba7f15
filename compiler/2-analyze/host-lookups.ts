// compiler/2-analyze/host-lookups.ts — the questions some functions ask the
// machine when a program is compiled, asked in the collect pass (the only
// analysis pass with the Host): each builtin table entry with a lookUp
// (compiler/builtins/: kaddr("sym"), is it in /proc/kallsyms; uaddr("sym"),
// the symbol in the probe's binary; cgroupid("/sys/fs/cgroup/..."), the
// cgroup's id) is asked with its string literal argument. check reads the
// answers from the instance; it never asks the host itself.
import type * as A from '../../grammar/ast.js';
import { forEachExprIn } from '../../grammar/walk.js';
import { BUILTINS } from '../builtins/index.js';
import type { Host } from '../host.js';
import type { ProbeInstance } from './analyzed.js';

/** Ask the host what the instance's calls need; answers go to `inst.lookups`. */
export function lookUp(inst: ProbeInstance, host: Host): void {
  const visit = (e: A.Expr) => {
    if (e.kind !== 'Call') return;
    const ask = BUILTINS.get(e.name)?.lookUp;
    const arg = e.args[0];
    if (!ask || arg?.kind !== 'Str') return;
    inst.lookups.set(e, ask(Buffer.from(arg.value).toString('latin1'), inst, host));
  };
  forEachExprIn(inst.item, visit);
}
