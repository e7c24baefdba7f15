// bench/startup.ts — time from `capc run -e '<one tracepoint>'` to "probes
// attached", with a cold cache (vmlinux.h, precompiled header and object all
// built), a warm header cache but a program never seen, and a fully warm
// cache; against `bpftrace -e` on the same program, interleaved run by run.
// Also the time from SIGINT to exit (detach and teardown), and the same for
// a program on 30 tracepoints, where detaching dominates (each tracepoint
// detach waits for an RCU grace period in the kernel).
import fs from 'node:fs';
import path from 'node:path';
import { capcBin } from '../tests/support/paths.js';
import { thirtyTracepoints } from '../tests/support/programs.js';
import { fmtStat, mkTemp, retryHung, smoke, stat, timeToMarker, which } from './lib.js';

const PROGRAM = 'tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }';
const THIRTY = thirtyTracepoints('{ @[probe] = count(); }');

export async function startupBench(runs = 5): Promise<string> {
  // Not in the smoke run: bpftrace 0.17 sometimes misses the SIGINT (timeToMarker), and each miss costs 20 s.
  const bpftrace = smoke ? undefined : which('bpftrace');
  const capc = (cache: string, prog = PROGRAM) =>
    timeToMarker(capcBin, ['run', '-q', '-e', prog], 'attached\n', {
      CAPC_READY_FD: '3',
      CAPC_CACHE_DIR: cache,
    });
  const hangs = { n: 0 };
  const bt = (prog = PROGRAM) =>
    retryHung(
      () =>
        timeToMarker(bpftrace!, ['-e', prog], '__BPFTRACE_NOTIFY_PROBES_ATTACHED', {
          __BPFTRACE_NOTIFY_PROBES_ATTACHED: '1',
        }),
      hangs,
    );

  const warmCache = mkTemp('capc-bench-warm-');
  await capc(warmCache); // fill it
  const cold: number[] = [],
    newProg: number[] = [],
    objOnly: number[] = [],
    warm: number[] = [],
    btStart: number[] = [],
    ratio: number[] = [];
  const srcRatio: number[] = [];
  const capcStop: number[] = [],
    btStop: number[] = [];
  for (let i = 0; i < runs; i++) {
    cold.push((await capc(mkTemp('capc-bench-cold-'))).startMs);
    newProg.push(
      (await capc(warmCache, PROGRAM.replace('{', `/pid != ${1000000 + i * 7919 + (Date.now() % 100000)}/ {`))).startMs,
    );
    // Before the source cache: the object is cached, but the compiler is loaded and runs.
    fs.rmSync(path.join(warmCache, 'src'), { recursive: true, force: true });
    const o = await capc(warmCache);
    objOnly.push(o.startMs);
    const w = await capc(warmCache);
    warm.push(w.startMs);
    srcRatio.push(w.startMs / o.startMs);
    capcStop.push(w.stopMs);
    if (bpftrace) {
      const b = await bt();
      btStart.push(b.startMs);
      btStop.push(b.stopMs);
      ratio.push(w.startMs / b.startMs);
    }
  }
  // Detach: 30 tracepoints, SIGINT to exit.
  const capc30: number[] = [];
  const bt30: number[] = [];
  const detachRatio: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c = await capc(warmCache, THIRTY);
    capc30.push(c.stopMs);
    if (bpftrace) {
      const b = await bt(THIRTY);
      bt30.push(b.stopMs);
      detachRatio.push(c.stopMs / b.stopMs);
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
    `| capc, object cached, compiler runs (before the source cache) | ${fmtStat(stat(objOnly), 'ms')} | |`,
    `| capc, warm cache (program cached: no compiler loaded) | ${fmtStat(stat(warm), 'ms')} | ${fmtStat(stat(capcStop), 'ms')} |`,
    bpftrace
      ? `| bpftrace 0.17 | ${fmtStat(stat(btStart), 'ms')} | ${fmtStat(stat(btStop), 'ms')} |`
      : '| bpftrace | not installed: no number | |',
    '',
    `Source cache against object cache only, pair by pair: ${stat(srcRatio).median.toFixed(2)}× (${stat(srcRatio).min.toFixed(2)}–${stat(srcRatio).max.toFixed(2)}). Starting Node 20 alone (node -e 0) takes ~70 ms on this machine, more than bpftrace's whole start-up.`,
    '',
    bpftrace
      ? `Warm capc / bpftrace, pair by pair: median ${stat(ratio).median.toFixed(2)}× (${stat(ratio).min.toFixed(2)}–${stat(ratio).max.toFixed(2)}).`
      : '',
    '',
    `Detaching 30 tracepoints (one block on 30 \`syscalls:sys_enter_*\` tracepoints), SIGINT to exit: capc ${fmtStat(stat(capc30), 'ms')}` +
      (bpftrace
        ? `, bpftrace 0.17 ${fmtStat(stat(bt30), 'ms')}; capc / bpftrace ${stat(detachRatio).median.toFixed(2)}× (${stat(detachRatio).min.toFixed(2)}–${stat(detachRatio).max.toFixed(2)}). capc detaches the links in parallel on libuv's thread pool; each one waits for the kernel's RCU grace period.`
        : '.'),
    '',
    hangs.n
      ? `bpftrace 0.17 did not exit after SIGINT in ${hangs.n} run(s) (it stayed in epoll_wait; killed after 20 s); those runs were repeated and are not in the numbers.`
      : '',
  ];
  return lines.join('\n');
}
