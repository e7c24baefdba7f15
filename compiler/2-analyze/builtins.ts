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
const ENTRY: ProbeKind[] = ['uprobe'];

export const BUILTIN_VARS: Record<string, BuiltinVar> = {
  pid: { type: all(U64), doc: 'process id (tgid) of the current task' },
  tid: { type: all(U64), doc: 'thread id of the current task' },
  uid: { type: all(U64), doc: 'user id of the current task' },
  gid: { type: all(U64), doc: 'group id of the current task' },
  nsecs: { type: all(U64), doc: 'monotonic time in nanoseconds (bpf_ktime_get_ns)' },
  elapsed: { type: all(U64), doc: 'nanoseconds since capc started the program' },
  cpu: { type: all(U64), doc: 'CPU the probe fired on' },
  comm: { type: all({ k: 'str', size: 16 }), doc: 'name of the current task (16 bytes)' },
  cpid: { type: all(U64), doc: 'pid of the command started with -c' },
  retval: {
    type: all(S64),
    only: ['uretprobe'],
    hint: (p) => (p === 'tracepoint' ? 'in a syscalls:sys_exit_* tracepoint the return value is args->ret' : 'retval is set only in return probes: uretprobe:BINARY:FUNC'),
    doc: 'return value of the probed function (uretprobe)',
  },
  args: {
    type: all({ k: 'args' }),
    only: ['tracepoint'],
    hint: (p) => (p === 'uprobe' || p === 'uretprobe' ? 'in uprobes the arguments are arg0, arg1, ...' : 'args exists only in tracepoint probes'),
    doc: 'the tracepoint record: args->FIELD (fields: capc list -v tracepoint:CAT:NAME)',
  },
  probe: { type: all({ k: 'str', size: 64 }), doc: 'full name of the probe that fired' },
  func: { type: all({ k: 'str', size: 64 }), only: ['uprobe', 'uretprobe'], doc: 'name of the probed function' },
};

for (let i = 0; i <= 9; i++) {
  BUILTIN_VARS[`arg${i}`] = {
    type: () => ({ k: 'int', bytes: 8, signed: false, space: 'user' }),
    only: ENTRY,
    hint: (p) =>
      p === 'uretprobe'
        ? `arguments are gone by the time a function returns; save it at entry: uprobe:... { @arg[tid] = arg${i}; }`
        : p === 'tracepoint'
          ? 'tracepoints have named arguments: args->NAME'
          : `arg${i} exists only in uprobes`,
    doc: `argument ${i} of the probed function (uprobe)`,
  };
}
