// runtime/bpf/bpf-stats.ts — the kernel's own per-program statistics, as
// bpftop shows them: how many times each program ran and the time it spent.
// The kernel counts only while someone holds the fd bpf_enable_stats(
// BPF_STATS_RUN_TIME) returned (the accounting adds two clock reads to every
// run), so capc holds it only while the terminal UI runs. Counts are read
// with bpf_obj_get_info_by_fd on each program fd.
import { errno, native, strerror } from '../ffi/libbpf.js';

const BPF_STATS_RUN_TIME = 0;
/**
 * struct bpf_prog_info (linux/bpf.h): run_time_ns at 192, run_cnt at 200
 * (checked with offsetof on Linux 6.x headers). The kernel copies
 * min(our size, its size) and requires any extra bytes we pass to be zero.
 */
const PROG_INFO_SIZE = 232;
const RUN_TIME_NS = 192;
const RUN_CNT = 200;

export interface ProgRunStats {
  /** Times the program ran while statistics were on. */
  runs: bigint;
  /** Total nanoseconds spent in it. */
  runTimeNs: bigint;
}

/** Holds kernel BPF run-time statistics on until close(). */
export class RunTimeStats {
  private constructor(private fd: number) {}

  /** Turn statistics on; returns why it could not, instead of throwing (the UI shows it). */
  static enable(): RunTimeStats | { error: string } {
    const fd = native().enable_stats(BPF_STATS_RUN_TIME) as number;
    if (fd < 0) return { error: `bpf_enable_stats: ${strerror(errno())}` };
    return new RunTimeStats(fd);
  }

  close(): void {
    if (this.fd < 0) return;
    native().close(this.fd);
    this.fd = -1;
  }
}

/** Run count and run time of one loaded program, or undefined if the kernel will not say. */
export function progRunStats(progFd: number): ProgRunStats | undefined {
  const info = Buffer.alloc(PROG_INFO_SIZE);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(PROG_INFO_SIZE, 0);
  if (native().obj_get_info_by_fd(progFd, info, len) !== 0) return undefined;
  if (len.readUInt32LE(0) < RUN_CNT + 8) return undefined;
  return { runTimeNs: info.readBigUInt64LE(RUN_TIME_NS), runs: info.readBigUInt64LE(RUN_CNT) };
}
