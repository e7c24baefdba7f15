// bench/startup.ts — time from `capc run -e '<one tracepoint>'` to "probes
// attached", with a cold cache (vmlinux.h, precompiled header and object all
// built), a warm header cache but a program never seen, and a fully warm
// cache; against `bpftrace -e` on the same program, interleaved run by run.
// Also the time from SIGINT to exit (detach and teardown).
import { capcBin } from '../tests/support/paths.js';
import { fmtStat, mkTemp, stat, timeToMarker, which } from './lib.js';

const PROGRAM = 'tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }';

export async function startupBench(runs = 5): Promise<string> {
  const bpftrace = which('bpftrace');
  const capc = (cache: string, prog = PROGRAM) =>
    timeToMarker(capcBin, ['run', '-q', '-e', prog], '__CAPC_ATTACHED__', { CAPC_NOTIFY_ATTACHED: '1', CAPC_CACHE_DIR: cache });
  const bt = () => timeToMarker(bpftrace!, ['-e', PROGRAM], '__BPFTRACE_NOTIFY_PROBES_ATTACHED', { __BPFTRACE_NOTIFY_PROBES_ATTACHED: '1' });

  const warmCache = mkTemp('capc-bench-warm-');
  await capc(warmCache); // fill it
  const cold: number[] = [], newProg: number[] = [], warm: number[] = [], btStart: number[] = [], ratio: number[] = [];
  const capcStop: number[] = [], btStop: number[] = [];
  for (let i = 0; i < runs; i++) {
    cold.push((await capc(mkTemp('capc-bench-cold-'))).startMs);
    newProg.push((await capc(warmCache, PROGRAM.replace('{', `/pid != ${1000000 + i * 7919 + (Date.now() % 100000)}/ {`))).startMs);
    const w = await capc(warmCache);
    warm.push(w.startMs);
    capcStop.push(w.stopMs);
    if (bpftrace) {
      const b = await bt();
      btStart.push(b.startMs);
      btStop.push(b.stopMs);
      ratio.push(w.startMs / b.startMs);
    }
  }
  const lines = [
    '## Start-up: `run -e` to probes attached',
    '',
    `Program: \`${PROGRAM}\` (one tracepoint). ${runs} runs each, interleaved; median (min–max).`,
    '',
    '| case | time to attached | SIGINT to exit |',
    '|---|---|---|',
    `| capc, cold cache (vmlinux.h + precompiled header + object built) | ${fmtStat(stat(cold), 'ms')} | |`,
    `| capc, warm header cache, program not seen before (clang runs) | ${fmtStat(stat(newProg), 'ms')} | |`,
    `| capc, warm cache (object cached) | ${fmtStat(stat(warm), 'ms')} | ${fmtStat(stat(capcStop), 'ms')} |`,
    bpftrace ? `| bpftrace 0.17 | ${fmtStat(stat(btStart), 'ms')} | ${fmtStat(stat(btStop), 'ms')} |` : '| bpftrace | not installed: no number | |',
    '',
    bpftrace ? `Warm capc / bpftrace, pair by pair: median ${stat(ratio).median.toFixed(2)}× (${stat(ratio).min.toFixed(2)}–${stat(ratio).max.toFixed(2)}).` : '',
    '',
  ];
  return lines.join('\n');
}
