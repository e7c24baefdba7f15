// runtime/bpf/perf-events.ts — perf_event_open(2) for the probes that are
// perf events: timers (interval, profile), software and hardware counters,
// and hardware breakpoints (watchpoints). Builds struct perf_event_attr
// (linux/perf_event.h, PERF_ATTR_SIZE_VER5 = 112 bytes used of 128) and
// returns the fd, or -errno.
import { errno, native } from '../ffi/libbpf.js';

export const PERF_TYPE = { hardware: 0, software: 1, breakpoint: 5 } as const;

/** HW_BREAKPOINT_R / _W / _X, or-ed (linux/hw_breakpoint.h). */
const BP_BITS: Record<string, number> = { r: 1, w: 2, x: 4 };

export interface PerfEventSpec {
  type: number;
  config: number;
  /** A sample every `period` events (or ns, for the clocks)... */
  period?: bigint;
  /** ...or `freq` samples a second. */
  freq?: number;
  breakpoint?: { address: bigint; length: number; mode: string };
}

const PERF_FLAG_FD_CLOEXEC = 8;
const SYS_perf_event_open = 298; // x86-64
const ATTR_FREQ = 1n << 10n;

/** The attr bytes for `spec` (exported for tests of the layout). */
export function perfEventAttr(spec: PerfEventSpec): Buffer {
  const attr = Buffer.alloc(128);
  attr.writeUInt32LE(spec.type, 0); // type
  attr.writeUInt32LE(attr.length, 4); // size
  attr.writeBigUInt64LE(BigInt(spec.config), 8); // config
  let flags = 0n;
  if (spec.freq !== undefined) {
    attr.writeBigUInt64LE(BigInt(spec.freq), 16); // sample_freq
    flags |= ATTR_FREQ;
  } else attr.writeBigUInt64LE(spec.period ?? 1n, 16); // sample_period
  attr.writeBigUInt64LE(flags, 40);
  if (spec.breakpoint) {
    const bits = [...spec.breakpoint.mode].reduce((a, c) => a | (BP_BITS[c] ?? 0), 0);
    attr.writeUInt32LE(bits, 52); // bp_type
    attr.writeBigUInt64LE(spec.breakpoint.address, 56); // bp_addr
    attr.writeBigUInt64LE(BigInt(spec.breakpoint.length), 64); // bp_len
  }
  return attr;
}

/** perf_event_open(attr, pid, cpu, -1, CLOEXEC): the fd, or -errno. */
export function openPerfEvent(spec: PerfEventSpec, cpu: number, pid: number): number {
  const n = native();
  const fd = Number(
    n.syscall(
      SYS_perf_event_open,
      'void *',
      perfEventAttr(spec),
      'int',
      pid,
      'int',
      cpu,
      'int',
      -1,
      'unsigned long',
      PERF_FLAG_FD_CLOEXEC,
    ),
  );
  return fd < 0 ? -errno() : fd;
}
