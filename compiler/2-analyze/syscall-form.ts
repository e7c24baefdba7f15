// compiler/2-analyze/syscall-form.ts — which syscalls:* tracepoints can run
// as raw tracepoints. Each `tracepoint:syscalls:sys_enter_X` (sys_exit_X) is
// fired by the kernel's perf_syscall_enter (_exit) from the raw tracepoint
// sys_enter(regs, id) (sys_exit(regs, ret)) when id is X's number; capc can
// attach one program to that raw tracepoint instead, dispatching on the number
// (compiler/3-lower/lower-syscalls.ts), which detaches in milliseconds where a
// perf event waits for an RCU grace period. collect resolves each probe's
// syscall number here (a host fact, runtime/host/syscall-numbers.ts);
// lowering chooses the form (`--tracepoints=perf|raw|auto`).
import type { DiagnosticBag } from '../diagnostics/diagnostic.js';
import type { Host } from '../host.js';
import type { ProbeInstance } from './analyzed.js';

/** `--tracepoints`: perf events, raw tracepoints, or capc's choice (plan in lower-syscalls.ts). */
export type TracepointForm = 'perf' | 'raw' | 'auto';
export const TRACEPOINT_FORMS: readonly TracepointForm[] = ['perf', 'raw', 'auto'];

export interface SyscallFormOptions {
  /** How syscalls:* tracepoints attach (default auto). */
  tracepoints?: TracepointForm;
}

/** A syscalls:sys_enter_X / sys_exit_X tracepoint as its raw tracepoint sees it. */
export interface SyscallEvent {
  event: 'sys_enter' | 'sys_exit';
  /** X's 64-bit syscall number on this machine. */
  nr: number;
}

/** The raw tracepoint and number behind a tracepoint, or why there is none; undefined when not a syscall tracepoint. */
export function syscallEvent(
  category: string,
  name: string,
  numbers: Record<string, number>,
): SyscallEvent | { unknown: string } | undefined {
  const m = /^(sys_enter|sys_exit)_(\w+)$/.exec(name);
  if (category !== 'syscalls' || !m) return undefined;
  const nr = Object.hasOwn(numbers, m[2]!) ? numbers[m[2]!] : undefined;
  if (nr === undefined) return { unknown: m[2]! };
  return { event: m[1] as SyscallEvent['event'], nr };
}

/**
 * Sets `inst.syscall` on every syscalls:* tracepoint probe whose number the
 * host knows. Under --tracepoints=raw a probe that could run raw but whose
 * number is unknown is an error (E0413); under auto it stays a perf event.
 */
export function resolveSyscallEvents(
  instances: ProbeInstance[],
  host: Host,
  options: SyscallFormOptions,
  bag: DiagnosticBag,
): void {
  if (options.tracepoints === 'perf') return;
  const syscalls = instances.filter((i) => i.attach.kind === 'tracepoint' && i.attach.category === 'syscalls');
  if (!syscalls.length) return;
  const numbers = host.syscallNumbers();
  // Under raw, one error per probe spec (a wildcard matches many), naming the syscalls.
  const unknown = new Map<ProbeInstance['spec'], string[]>();
  for (const inst of syscalls) {
    const a = inst.attach as Extract<ProbeInstance['attach'], { kind: 'tracepoint' }>;
    const ev = syscallEvent(a.category, a.name, numbers);
    if (!ev) continue;
    if ('nr' in ev) inst.syscall = ev;
    else if (options.tracepoints === 'raw' && !inst.capture)
      unknown.set(inst.spec, [...(unknown.get(inst.spec) ?? []), a.name]);
  }
  for (const [spec, names] of unknown)
    bag.add(
      'E0413',
      `cannot attach ${names.length === 1 ? `tracepoint:syscalls:${names[0]}` : `${names.length} of the tracepoints '${spec.text}' matches`} as a raw tracepoint: this machine's syscall number is not known${names.length === 1 ? '' : ` (${names.slice(0, 4).join(', ')}${names.length > 4 ? ', ...' : ''})`}`,
      spec.span,
      'capc reads the numbers from /usr/include/x86_64-linux-gnu/asm/unistd_64.h (linux-libc-dev), x86_64 only; a syscall newer than that header is not in it',
      'run with --tracepoints=auto (or perf) to attach it as a perf event',
    );
}
