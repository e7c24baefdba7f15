// bench/wakeups.ts — what waking the consumer costs the traced program. One
// thread calls getppid(2) as fast as it can for 3 s (the other vCPU is left
// to the consumer) under: no probe; a count() probe (no records); a printf
// per call with a wake-up per record (config wakeup_bytes = 1); and the same
// printf with capc's default (R10: records submitted without a wake-up, one
// forced as the ring's unread bytes cross each quarter, drained on a timer
// otherwise), drained by capc's printf thread, and the last drained on
// Node's main thread as before that thread. Runs interleaved; ratios pair by
// pair within a round.
import fs from 'node:fs';
import { capcBin } from '../tests/support/paths.js';
import { buildWorkload, fmtStat, mkTemp, run, stat } from './lib.js';

const PRINTF = 'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { printf("%d %d\\n", pid, tid); }';
const VARIANTS: { name: string; prog: string; env?: Record<string, string> }[] = [
  { name: 'count() only (no records)', prog: 'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @n = count(); }' },
  { name: 'printf, a wake-up per record (wakeup_bytes = 1)', prog: `config = { wakeup_bytes = 1 }\n${PRINTF}` },
  { name: 'printf, capc default (R10)', prog: PRINTF },
  {
    name: 'printf, capc default (R10), drained on the main thread (CAPC_PRINTF_DRAIN=main)',
    prog: PRINTF,
    env: { CAPC_PRINTF_DRAIN: 'main' },
  },
];

export async function wakeupsBench(runs = 5, seconds = 3): Promise<string> {
  const storm = buildWorkload('syscall-storm');
  const rate = (out: string) => Number(/calls_per_sec (\d+)/.exec(out)?.[1] ?? NaN);
  const base: number[] = [];
  const got = new Map<string, { rate: number[]; drops: number[]; cpu: number[] }>(
    VARIANTS.map((v) => [v.name, { rate: [], drops: [], cpu: [] }]),
  );
  const defaultVsWake: number[] = [];
  for (let i = 0; i < runs; i++) {
    base.push(rate((await run(storm, ['1', String(seconds)])).stdout));
    const round = new Map<string, number>();
    for (const v of VARIANTS) {
      const stats = `${mkTemp('capc-bench-wake-')}/stats.json`;
      const r = await run(capcBin, ['run', '-q', '-o', '/dev/null', '-e', v.prog, '-c', `${storm} 1 ${seconds}`], {
        CAPC_STATS_FILE: stats,
        ...v.env,
      });
      if (r.code !== 0) throw new Error(`${v.name}: capc failed\n${r.stderr}`);
      const st = JSON.parse(fs.readFileSync(stats, 'utf8'));
      const g = got.get(v.name)!;
      g.rate.push(rate(r.stdout));
      g.drops.push(st.counters['ring-drop:capc_events'] ?? 0);
      g.cpu.push(st.runCpuSeconds);
      round.set(v.name, rate(r.stdout));
    }
    defaultVsWake.push(round.get(VARIANTS[2]!.name)! / round.get(VARIANTS[1]!.name)!);
  }
  const b = stat(base).median;
  const row = (name: string, xs: number[], drops?: number[], cpu?: number[]) =>
    `| ${name} | ${fmtStat(stat(xs.map((x) => x / 1e6)), 'M/s', 2)} | ${(stat(xs).median / b).toFixed(2)}× | ${drops ? stat(drops).median : '–'} | ${cpu ? `${stat(cpu).median.toFixed(2)} s` : '–'} |`;
  return [
    "## Wake-ups: the traced program's syscall rate",
    '',
    `Workload: one thread calling getppid(2) for ${seconds} s (bench/workloads/syscall-storm.c), each traced call a 24-byte printf record, written to /dev/null by capc's printf thread unless the row says otherwise. ${runs} rounds, variants interleaved; medians (min–max). Load average (1, 5, 15 min) at the start: ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}.`,
    '',
    '| probe | calls/s | vs untraced | records dropped | capc CPU |',
    '|---|---|---|---|---|',
    row('none (untraced)', base),
    ...VARIANTS.map((v) => row(v.name, got.get(v.name)!.rate, got.get(v.name)!.drops, got.get(v.name)!.cpu)),
    '',
    `capc's default against a wake-up per record, pair by pair: ${stat(defaultVsWake).median.toFixed(2)}× the calls/s (${stat(defaultVsWake).min.toFixed(2)}–${stat(defaultVsWake).max.toFixed(2)}).`,
    '',
  ].join('\n');
}
