// bench/syscall-forms.ts — what syscall tracepoints cost the traced machine in
// each form (--tracepoints=perf|raw): the CPU time of a process calling
// getppid(2) in a loop (bench/workloads/syscall-storm.c, its own user + system
// time per call) with no probe, with probes on other syscalls (untraced calls:
// what every syscall of the machine pays), and with its own syscall probed.
// A raw sys_enter program runs for every syscall and compares the number; a
// perf event's kernel path (perf_syscall_enter) tests a bit and returns. BPF
// statistics cannot compare the forms (the raw program's runs are every
// syscall's), so the traced process's CPU is the measure.
import { execFileSync, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { capcBin } from '../tests/support/paths.js';
import { THIRTY_SYSCALLS } from '../tests/support/programs.js';
import { buildWorkload, stat } from './lib.js';

const others = (n: number) =>
  `${THIRTY_SYSCALLS.slice(0, n)
    .map((s) => `tracepoint:syscalls:sys_enter_${s}`)
    .join(',\n')} { @[probe] = count(); }`;

const VARIANTS: { name: string; prog?: string; form?: string }[] = [
  { name: 'no probe' },
  { name: '1 probe on another syscall (openat), perf event', prog: others(1), form: 'perf' },
  { name: '1 probe on another syscall (openat), raw tracepoint', prog: others(1), form: 'raw' },
  { name: '30 probes on other syscalls, perf events', prog: others(30), form: 'perf' },
  { name: '30 probes on other syscalls, raw tracepoint', prog: others(30), form: 'raw' },
  {
    name: 'getppid itself counted, perf event',
    prog: 'tracepoint:syscalls:sys_enter_getppid { @ = count(); }',
    form: 'perf',
  },
  {
    name: 'getppid itself counted, raw tracepoint',
    prog: 'tracepoint:syscalls:sys_enter_getppid { @ = count(); }',
    form: 'raw',
  },
];

async function withCapc<T>(prog: string, form: string, fn: () => T): Promise<T> {
  const child = spawn(capcBin, ['run', '-q', '-o', '/dev/null', `--tracepoints=${form}`, '-e', prog], {
    env: { ...process.env, CAPC_READY_FD: '3' },
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`capc: not attached in 60 s\n${err}`)), 60000);
    (child.stdio[3] as Readable).on('data', (d: Buffer) => {
      if (d.toString().includes('attached')) {
        clearTimeout(t);
        resolve();
      }
    });
    child.on('exit', () => reject(new Error(`capc exited before attaching\n${err}`)));
  });
  try {
    return fn();
  } finally {
    child.kill('SIGINT');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
  }
}

export async function syscallFormsBench(runs = 5): Promise<string> {
  const storm = buildWorkload('syscall-storm');
  const cpu = () => {
    const out = execFileSync(storm, ['1', '1.5'], { encoding: 'utf8' });
    return Number(/cpu_ns_per_call ([\d.]+)/.exec(out)?.[1] ?? NaN);
  };
  const samples = VARIANTS.map(() => [] as number[]);
  const vsNone = VARIANTS.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    for (const [k, v] of VARIANTS.entries()) samples[k]!.push(v.prog ? await withCapc(v.prog, v.form!, cpu) : cpu());
    for (const k of VARIANTS.keys()) vsNone[k]!.push(samples[k]![i]! / samples[0]![i]!);
  }
  const rows = VARIANTS.map((v, k) => {
    const s = stat(samples[k]!);
    const r = stat(vsNone[k]!);
    return `| ${v.name} | ${s.median.toFixed(0)} ns (${s.min.toFixed(0)}–${s.max.toFixed(0)}) | ${r.median.toFixed(2)}× |`;
  });
  return [
    '### Syscall tracepoints: perf events against a raw tracepoint',
    '',
    `What the traced machine pays per syscall in each form: a process calling getppid(2) in a loop for 1.5 s (bench/workloads/syscall-storm.c), its own CPU time (user + system) per call. capc counts on the first N of the 30 syscall tracepoints of the start-up table (none is getppid: untraced calls), or on getppid's own. ${runs} rounds, variants interleaved; medians (min–max), ratio to the round's untraced run.`,
    '',
    '| probes | CPU per getppid() | vs no probe |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
