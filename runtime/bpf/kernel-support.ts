// runtime/bpf/kernel-support.ts — when the kernel refuses a kind of probe
// (no CONFIG_KPROBES here; fentry/fexit loads are refused with EPERM), the
// error names the missing feature and suggests a tracepoint that sees the
// same event: sys_enter_X for X's syscall functions, a tracepoint with the
// function's own name, or a few well-known equivalents.
import fs from 'node:fs';
import type { ManifestProbe } from '../../compiler/index.js';
import { CapcError } from '../errors.js';
import { strerror } from '../ffi/libbpf.js';
import { systemHost } from '../host/system-host.js';

/** Kernel functions whose event a tracepoint also shows. */
const KNOWN: Record<string, string[]> = {
  vfs_read: ['syscalls:sys_enter_read'],
  vfs_write: ['syscalls:sys_enter_write'],
  vfs_open: ['syscalls:sys_enter_openat'],
  do_filp_open: ['syscalls:sys_enter_openat'],
  do_nanosleep: ['syscalls:sys_enter_nanosleep', 'syscalls:sys_enter_clock_nanosleep'],
  schedule: ['sched:sched_switch'],
  __schedule: ['sched:sched_switch'],
  finish_task_switch: ['sched:sched_switch'],
  wake_up_new_task: ['sched:sched_wakeup_new'],
  try_to_wake_up: ['sched:sched_wakeup'],
  do_exit: ['sched:sched_process_exit'],
  tcp_v4_connect: ['sock:inet_sock_set_state', 'tcp:tcp_connect'],
  tcp_v6_connect: ['sock:inet_sock_set_state'],
  tcp_set_state: ['sock:inet_sock_set_state'],
  tcp_retransmit_skb: ['tcp:tcp_retransmit_skb'],
  tcp_sendmsg: ['syscalls:sys_enter_sendto', 'syscalls:sys_enter_write'],
  tcp_recvmsg: ['syscalls:sys_enter_recvfrom', 'syscalls:sys_enter_read'],
  inet_csk_accept: ['syscalls:sys_exit_accept4', 'sock:inet_sock_set_state'],
  blk_account_io_start: ['block:block_io_start'],
  blk_mq_start_request: ['block:block_rq_issue'],
  kmem_cache_alloc: ['kmem:kmem_cache_alloc'],
  __kmalloc: ['kmem:kmalloc'],
  kfree: ['kmem:kfree'],
  handle_mm_fault: ['exceptions:page_fault_user'],
  security_bprm_check: ['sched:sched_process_exec'],
};

/** Tracepoints to use instead of a kprobe/fentry on `func` (at most 3). */
export function tracepointsFor(func: string, ret: boolean): string[] {
  const host = systemHost();
  const has = (cat: string, name: string) => {
    try {
      return host.tracepointNames(cat).includes(name);
    } catch {
      return false;
    }
  };
  const out: string[] = [];
  const add = (cat: string, name: string) => {
    const full = `tracepoint:${cat}:${name}`;
    if (has(cat, name) && !out.includes(full)) out.push(full);
  };
  const sys = /^(?:__x64_sys_|__ia32_sys_|__se_sys_|__do_sys_|do_sys_|ksys_|sys_)(.+)$/.exec(func);
  if (sys) {
    const stem = sys[1]!;
    for (const name of [stem, stem.replace(/\d+$/, ''), stem.replace(/_common$/, '')])
      add('syscalls', `sys_${ret ? 'exit' : 'enter'}_${name}`);
  }
  for (const tp of KNOWN[func] ?? []) {
    const [cat, name] = tp.split(':') as [string, string];
    add(cat, ret ? name.replace('sys_enter_', 'sys_exit_') : name);
  }
  try {
    for (const cat of host.tracepointCategories()) add(cat, func);
  } catch {
    /* no tracefs: no suggestion */
  }
  return out.slice(0, 3);
}

function suggestion(func: string, ret: boolean): string | undefined {
  const tps = tracepointsFor(func, ret);
  return tps.length
    ? `use a tracepoint instead: ${tps.join(' or ')}`
    : "tracepoints work on this kernel: capc list 'tracepoint:*' shows them";
}

/** A kprobe the kernel could not attach: say whether kprobes exist at all. */
export function kprobeError(
  probe: ManifestProbe,
  func: string,
  ret: boolean,
  err: number,
  libbpfLog: string,
): CapcError {
  const noPmu = !fs.existsSync('/sys/bus/event_source/devices/kprobe');
  const noEvents =
    !fs.existsSync('/sys/kernel/tracing/kprobe_events') && !fs.existsSync('/sys/kernel/debug/tracing/kprobe_events');
  const kind = ret ? 'kretprobe' : 'kprobe';
  if (noPmu && noEvents) {
    return new CapcError(
      'E0802',
      `cannot attach ${probe.spec}: this kernel has no kprobes (it was built without CONFIG_KPROBES: there is no kprobe PMU and no kprobe_events in tracefs)`,
      [suggestion(func, ret) ?? '', `the kernel said: ${strerror(err)}${libbpfLog ? ` (${libbpfLog})` : ''}`].filter(
        Boolean,
      ),
      probe.span,
    );
  }
  return new CapcError(
    'E0801',
    `cannot attach ${probe.spec}: ${kind} on ${func}: ${strerror(err)}`,
    [
      err === 2 ? `${func} may be inlined, static or marked notrace: it cannot be probed` : '',
      suggestion(func, ret) ?? '',
      libbpfLog,
    ].filter(Boolean),
    probe.span,
  );
}

/** An fentry/fexit program the kernel refused to load. */
export function fentryError(probe: ManifestProbe, func: string, ret: boolean, err: number): CapcError {
  return new CapcError(
    'E0802',
    `cannot attach ${probe.spec}: the kernel refuses ${ret ? 'fexit' : 'fentry'} programs (BPF trampolines): loading one failed with ${strerror(err)}`,
    [
      suggestion(func, ret) ?? '',
      'fentry/fexit need a kernel with CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS and BPF trampolines allowed (no lockdown policy forbidding them)',
    ].filter(Boolean),
    probe.span,
  );
}

/** A perf event the kernel could not open: a missing PMU (hardware counters in a VM) is named as such. */
export function perfEventError(probe: ManifestProbe, type: number, err: number, libbpfLog: string): CapcError {
  const kind = probe.attach.kind === 'perf' ? probe.attach.type : probe.attach.kind;
  if (
    type === 0 /* PERF_TYPE_HARDWARE */ &&
    (err === 2 || err === 95) &&
    !fs.existsSync('/sys/bus/event_source/devices/cpu')
  ) {
    return new CapcError(
      'E0802',
      `cannot attach ${probe.spec}: this machine has no hardware performance counters (perf_event_open: ${strerror(err)}; there is no cpu PMU in /sys/bus/event_source/devices, as in most virtual machines)`,
      ['software events count in the kernel and work everywhere: software:cpu-clock, software:page-faults, ...'],
      probe.span,
    );
  }
  if (
    type === 5 /* PERF_TYPE_BREAKPOINT */ &&
    (err === 2 || err === 95) &&
    !fs.existsSync('/sys/bus/event_source/devices/breakpoint')
  ) {
    return new CapcError(
      'E0802',
      `cannot attach ${probe.spec}: this kernel has no hardware breakpoints (perf_event_open: ${strerror(err)}; no breakpoint PMU)`,
      [],
      probe.span,
    );
  }
  const hints: string[] = [];
  if (err === 22 && type === 5)
    hints.push(
      'the address, length and mode must suit the CPU: x86 watches aligned 1, 2, 4 or 8 bytes; x needs the length of a long',
    );
  if (err === 13 || err === 1) hints.push('permission denied: run capc as root (perf_event_paranoid)');
  if (err === 24) hints.push('too many open files: raise the limit with ulimit -n');
  if (libbpfLog) hints.push(libbpfLog);
  return new CapcError(
    'E0801',
    `cannot attach ${probe.spec}: perf_event_open (${kind}): ${strerror(err)}`,
    hints,
    probe.span,
  );
}
