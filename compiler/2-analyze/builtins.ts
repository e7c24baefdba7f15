// compiler/2-analyze/builtins.ts — the builtin variables (`pid`, `comm`,
// `arg0`, `retval`, `args`, ...): their types and the probes they exist in.
import type { ProbeKind } from './probes.js';
import { S64, U64, type Type } from './types.js';

export interface BuiltinVar {
  type: (probe: ProbeKind) => Type;
  /** Probe kinds where the builtin has a value; undefined means all. */
  only?: ProbeKind[];
  /** Why it is missing elsewhere, and what to do instead. */
  hint?: (probe: ProbeKind) => string | undefined;
  doc: string;
}

const all = (t: Type) => () => t;
/** Probes whose arguments are arg0...: function entries, USDT, raw tracepoints. */
export const ARG_PROBES: ProbeKind[] = ['uprobe', 'usdt', 'kprobe', 'rawtracepoint', 'fentry', 'fexit'];
/** Probes that fire when a function returns. */
export const RETURN_PROBES: ProbeKind[] = ['uretprobe', 'kretprobe', 'fexit'];
/** Probes of a named function. */
const FUNC_PROBES: ProbeKind[] = ['uprobe', 'uretprobe', 'kprobe', 'kretprobe', 'fentry', 'fexit'];

export const BUILTIN_VARS: Record<string, BuiltinVar> = {
  pid: { type: all(U64), doc: 'process id (tgid) of the current task' },
  tid: { type: all(U64), doc: 'thread id of the current task' },
  uid: { type: all(U64), doc: 'user id of the current task' },
  gid: { type: all(U64), doc: 'group id of the current task' },
  nsecs: { type: all(U64), doc: 'monotonic time in nanoseconds (bpf_ktime_get_ns)' },
  elapsed: { type: all(U64), doc: 'nanoseconds since capc started the program' },
  cpu: { type: all(U64), doc: 'CPU the probe fired on' },
  cgroup: { type: all(U64), doc: 'cgroup v2 id of the current task' },
  numaid: { type: all(U64), doc: 'NUMA node of the CPU the probe fired on' },
  comm: { type: all({ k: 'str', size: 16 }), doc: 'name of the current task (16 bytes)' },
  cpid: { type: all(U64), doc: 'pid of the command started with -c' },
  retval: {
    type: all(S64),
    only: RETURN_PROBES,
    hint: (p) =>
      p === 'tracepoint'
        ? 'in a syscalls:sys_exit_* tracepoint the return value is args->ret'
        : 'retval is set only in return probes: uretprobe:BINARY:FUNC, kretprobe:FUNC, fexit:FUNC',
    doc: 'return value of the probed function (uretprobe, kretprobe, fexit)',
  },
  args: {
    type: all({ k: 'args' }),
    only: ['tracepoint', 'rawtracepoint', 'fentry', 'fexit', 'uprobe', 'uretprobe'],
    hint: (p) =>
      p === 'usdt' || p === 'kprobe'
        ? `in ${p === 'usdt' ? 'USDT probes' : `${p}s`} the arguments are arg0, arg1, ...`
        : 'args exists in tracepoint, rawtracepoint, fentry, fexit and uprobe probes',
    doc: "the tracepoint record or the function's arguments by name: args->FIELD (capc list -v PROBE lists them; uprobes need a binary built with -g)",
  },
  curtask: {
    type: all({ k: 'int', bytes: 8, signed: false, space: 'kernel' }),
    doc: 'the current task: a struct task_struct * (kernel BTF), as curtask->pid, curtask->real_parent->comm',
  },
  probe: { type: all({ k: 'str', size: 64 }), doc: 'full name of the probe that fired' },
  func: { type: all({ k: 'str', size: 64 }), only: FUNC_PROBES, doc: 'name of the probed function' },
};

for (let i = 0; i <= 9; i++) {
  BUILTIN_VARS[`arg${i}`] = {
    type: (p) => ({ k: 'int', bytes: 8, signed: false, space: p === 'uprobe' || p === 'usdt' ? 'user' : 'kernel' }),
    only: ARG_PROBES,
    hint: (p) =>
      p === 'uretprobe' || p === 'kretprobe'
        ? `arguments are gone by the time a function returns; save it at entry: ${p === 'uretprobe' ? 'uprobe' : 'kprobe'}:... { @arg[tid] = arg${i}; }`
        : p === 'tracepoint'
          ? 'tracepoints have named arguments: args->NAME'
          : `arg${i} exists in uprobe, usdt, kprobe, rawtracepoint, fentry and fexit probes`,
    doc: `argument ${i} of the probed function, USDT probe or raw tracepoint`,
  };
}
