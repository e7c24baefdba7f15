// runtime/session/stats-file.ts — CAPC_STATS_FILE: the session's numbers as
// JSON for benchmarks and tests (records and ring bytes read, the kernel's
// counters, BPF run time per program, CPU by thread since attach, peak RSS),
// written 0600 when the session ends.
import fs from 'node:fs';
import type { Manifest } from '../../compiler/index.js';
import { progRunStats } from '../bpf/bpf-stats.js';
import { readCounter } from '../bpf/maps-reader.js';
import type { BpfObject } from '../bpf/object.js';
import { writePrivateFile } from '../files/private-files.js';
import type { PrintfThreadStats } from '../format/printf-thread.js';
import type { RingReader } from '../ring/ringbuf.js';

/**
 * CPU seconds of this process's threads, by name (the main thread is `capc`, the capture thread
 * `capc-capture`, the printf thread `capc-printf`): the scheduler's nanoseconds where /proc has
 * them (sched), else clock ticks.
 */
export function threadCpu(): Record<string, number> {
  const out: Record<string, number> = {};
  const tick = 100; // USER_HZ
  try {
    for (const tid of fs.readdirSync('/proc/self/task')) {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      let cpu = (Number(f[11]) + Number(f[12])) / tick; // utime, stime
      try {
        const ns = /se\.sum_exec_runtime\s*:\s*([\d.]+)/.exec(fs.readFileSync(`/proc/self/task/${tid}/sched`, 'utf8'));
        if (ns) cpu = Number(ns[1]) / 1000; // ms with ns digits
      } catch {
        /* no sched file (CONFIG_SCHED_DEBUG off): ticks */
      }
      const key = name === 'capc' || name === 'capc-capture' || name === 'capc-printf' ? name : 'other';
      out[key] = (out[key] ?? 0) + cpu;
    }
  } catch {
    /* not Linux procfs: no breakdown */
  }
  return out;
}

export interface SessionNumbers {
  manifest: Manifest;
  statsFd: number;
  obj: BpfObject;
  rings: RingReader[];
  cpuAtAttach: NodeJS.CpuUsage | undefined;
  threadsAtAttach: Record<string, number> | undefined;
  capture: unknown;
  /** The events ring's reader: the printf thread's numbers (it has exited by now), or which thread read it. */
  printf: PrintfThreadStats | 'main' | 'js';
}

export function writeSessionStats(file: string, s: SessionNumbers): void {
  const counters: Record<string, number> = {};
  for (const c of s.manifest.counters) counters[`${c.kind}:${c.subject}`] = Number(readCounter(s.statsFd, c.index));
  const cpu = process.cpuUsage();
  const run = process.cpuUsage(s.cpuAtAttach);
  const rings = Object.fromEntries(s.rings.map((r) => [r.name, { records: r.records, ringBytes: r.ringBytes }]));
  // Per program: runs and ns in BPF (read before the object is closed; zero unless statistics were on).
  // Each with the probe it runs on (benchmarks tell the program's own probes from capc's learners and checks).
  const programs = Object.fromEntries(
    [
      ...s.manifest.probes.map((p) => [p.program, p.spec] as const),
      ...(s.manifest.capture ? [[s.manifest.capture.flushProgram, 'capture flush'] as const] : []),
    ]
      .map(([name, probe]) => [name, probe, progRunStats(s.obj.program(name).fd)] as const)
      .filter(([, , st]) => st)
      .map(([name, probe, st]) => [name, { probe, runs: Number(st!.runs), runTimeNs: Number(st!.runTimeNs) }]),
  );
  const threads = threadCpu();
  const pt = s.printf;
  const stats = {
    // CPU seconds by thread since attach (the capture thread's are in capture.threadCpu: it has exited by now).
    threads: Object.fromEntries(
      Object.entries(threads).map(([k, v]) => [k, Math.round((v - (s.threadsAtAttach?.[k] ?? 0)) * 1e4) / 1e4]),
    ),
    rings,
    capture: s.capture,
    printf:
      typeof pt === 'string'
        ? { drain: pt }
        : { drain: 'thread', ...pt, cpuSeconds: Math.round(pt.cpuSeconds * 1000) / 1000 },
    counters,
    programs,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    runCpuSeconds: (run.user + run.system) / 1e6,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  writePrivateFile(file, JSON.stringify(stats, null, 2) + '\n');
}
