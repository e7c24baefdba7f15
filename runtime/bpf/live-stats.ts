// runtime/bpf/live-stats.ts — what a loaded program's statistics say right
// now, as plain data: per-probe runs and run time (the kernel's BPF
// statistics) and the value of each counter the manifest declares (drops,
// full maps, loop limits). The terminal UI's snapshot and the exporters read
// the same shapes.
import type { ManifestCounter } from '../../compiler/index.js';

export interface ProbeStat {
  /** The probe as written, and its canonical name. */
  spec: string;
  name: string;
  role: string;
  /** Runs and run time since statistics were enabled; undefined when the kernel does not count. */
  hits?: number;
  runTimeNs?: number;
}

export interface CounterValue {
  kind: ManifestCounter['kind'];
  subject: string;
  value: number;
}
