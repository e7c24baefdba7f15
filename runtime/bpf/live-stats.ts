// runtime/bpf/live-stats.ts — what a loaded program's statistics say right
// now, as plain data: per-probe runs and run time (the kernel's BPF
// statistics) and the value of each counter the manifest declares (drops,
// full maps, loop limits). The terminal UI's snapshot and the exporters read
// the same shapes.
import type { ManifestCounter, ManifestProbe } from '../../compiler/index.js';

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

/**
 * What per-probe statistics are reported for: each attached program once.
 * The kernel counts programs, and the syscall probes a raw tracepoint runs
 * (attach.via) share its dispatcher, whose runs are every syscall of the
 * machine: they are one row, named after the raw tracepoint and the probes.
 */
export function statSubjects(probes: ManifestProbe[]): { spec: string; name: string; role: string; program: string }[] {
  const out: { spec: string; name: string; role: string; program: string }[] = [];
  const shared = new Map<
    string,
    { specs: Set<string>; n: number; row: (typeof out)[number]; via: string; name: string }
  >();
  for (const p of probes) {
    if (p.attach.kind === 'begin' || p.attach.kind === 'end') continue;
    if (p.attach.kind === 'tracepoint' && p.attach.via) {
      const g = shared.get(p.program);
      if (g) {
        g.specs.add(p.spec);
        g.n++;
        continue;
      }
      const row = { spec: '', name: '', role: p.role ?? 'probe', program: p.program };
      shared.set(p.program, { specs: new Set([p.spec]), n: 1, row, via: p.attach.via, name: p.name });
      out.push(row);
      continue;
    }
    out.push({ spec: p.spec, name: p.name, role: p.role ?? 'probe', program: p.program });
  }
  for (const g of shared.values()) {
    g.row.spec = [...g.specs].join(', ');
    // One probe keeps its own name (its row is its program's, as with a perf event).
    g.row.name = g.n === 1 ? g.name : `rawtracepoint:${g.via} (${g.n} syscall probes)`;
  }
  return out;
}
