// runtime/bpf/features.ts — what this kernel supports, asked of the kernel
// itself (for `capc --info`): program types, map types and helpers through
// libbpf's feature probes (each loads a tiny program or creates a map), and
// the probe kinds whose support shows in sysfs/tracefs (a kprobe PMU, a
// breakpoint PMU, hardware counters; tcx links by the kernel's version;
// uprobe_multi links by creating one that must fail as they fail).
// Nothing is kept loaded.
import fs from 'node:fs';
import os from 'node:os';
import { native } from '../ffi/libbpf.js';
import { uprobeMultiSupport } from './uprobe-multi.js';

export type Support = 'yes' | 'no' | 'unknown';

const PROG = { kprobe: 2, sched_cls: 3, xdp: 6, tracepoint: 5, perf_event: 7, raw_tracepoint: 17 } as const;

const MAPS: [string, number][] = [
  ['hash', 1],
  ['array', 2],
  ['perf_event_array', 4],
  ['percpu hash', 5],
  ['percpu array', 6],
  ['stack_trace', 7],
  ['lru hash', 9],
  ['ringbuf', 27],
];

/** Helpers capc's programs call, by bpf_func_id (linux/bpf.h). */
const HELPERS: [string, number][] = [
  ['probe_read_user', 112],
  ['probe_read_user_str', 114],
  ['probe_read_kernel', 113],
  ['probe_read_kernel_str', 115],
  ['get_current_cgroup_id', 80],
  ['get_stackid', 27],
  ['get_numa_node_id', 42],
  ['send_signal', 109],
  ['ktime_get_boot_ns', 125],
  ['ringbuf_reserve', 131],
];

function answer(rc: number): Support {
  return rc === 1 ? 'yes' : rc === 0 ? 'no' : 'unknown';
}

const exists = (p: string) => fs.existsSync(p);

export interface KernelFeatures {
  helpers: [string, Support][];
  maps: [string, Support][];
  features: [string, string][];
  probes: [string, Support, string?][];
}

export function kernelFeatures(): KernelFeatures {
  const n = native();
  const prog = (t: number) => answer(n.probe_prog_type(t, null) as number);
  const kprobes = exists('/sys/bus/event_source/devices/kprobe') || exists('/sys/kernel/tracing/kprobe_events');
  return {
    helpers: HELPERS.map(([name, id]) => [name, answer(n.probe_helper(PROG.kprobe, id, null) as number)]),
    maps: MAPS.map(([name, id]) => [name, answer(n.probe_map_type(id, null) as number)]),
    features: [
      ['btf', exists('/sys/kernel/btf/vmlinux') ? 'yes' : 'no'],
      ['instruction limit', prog(PROG.raw_tracepoint) === 'yes' ? '1000000' : 'unknown'],
      ['libbpf', n.version_string() as string],
    ],
    probes: [
      ['tracepoint', prog(PROG.tracepoint)],
      ['rawtracepoint', prog(PROG.raw_tracepoint)],
      ['uprobe', exists('/sys/bus/event_source/devices/uprobe') ? 'yes' : 'no'],
      uprobeMulti(),
      ['usdt', exists('/sys/bus/event_source/devices/uprobe') ? 'yes' : 'no'],
      [
        'kprobe',
        kprobes ? 'yes' : 'no',
        kprobes ? undefined : 'no kprobe PMU and no kprobe_events: CONFIG_KPROBES is off',
      ],
      // libbpf cannot probe tracing programs without a target: loading one is the test.
      ['fentry/fexit', 'unknown', 'needs BPF trampolines; capc check of a program with one tells'],
      ['interval, profile, software', prog(PROG.perf_event)],
      [
        'hardware',
        exists('/sys/bus/event_source/devices/cpu') ? 'yes' : 'no',
        exists('/sys/bus/event_source/devices/cpu') ? undefined : 'no cpu PMU: no hardware counters',
      ],
      [
        'watchpoint',
        exists('/sys/bus/event_source/devices/breakpoint') ? 'yes' : 'no',
        exists('/sys/bus/event_source/devices/breakpoint') ? undefined : 'no breakpoint PMU',
      ],
      ['xdp', prog(PROG.xdp)],
      tcSupport(prog(PROG.sched_cls)),
    ],
  };
}

/** uprobe_multi links (the default form of uprobes where they exist: runtime/bpf/uprobe-multi.ts). */
function uprobeMulti(): [string, Support, string?] {
  const s = uprobeMultiSupport();
  return s.ok
    ? ['uprobe_multi links', 'yes']
    : ['uprobe_multi links', 'no', `${s.reason}: uprobes attach as perf events`];
}

/** tc probes attach as tcx links, which Linux has since 6.6 (no clsact fallback); libbpf has no probe for them. */
function tcSupport(schedCls: Support): [string, Support, string?] {
  if (schedCls !== 'yes') return ['tc', schedCls];
  const [major = 0, minor = 0] = os
    .release()
    .split('.')
    .map((x) => parseInt(x, 10));
  return major > 6 || (major === 6 && minor >= 6) ? ['tc', 'yes'] : ['tc', 'no', 'tcx links need Linux 6.6 or later'];
}
