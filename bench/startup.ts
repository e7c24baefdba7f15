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
import { THIRTY_SYSCALLS, thirtyTracepoints } from '../tests/support/programs.js';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fmtStat, mkTemp, retryHung, smoke, stat, timeToMarker, which } from './lib.js';
import { AUTO_RAW_FROM } from '../compiler/3-lower/lower-syscalls.js';

const PROGRAM = 'tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }';
const THIRTY = thirtyTracepoints('{ @[probe] = count(); }');
/** A block on the first n of the 30 syscall tracepoints. */
const firstN = (n: number) =>
  `${THIRTY_SYSCALLS.slice(0, n)
    .map((s) => `tracepoint:syscalls:sys_enter_${s}`)
    .join(',\n')} { @[probe] = count(); }`;
const DETACH_COUNTS = [1, 2, 5, 30];

export async function startupBench(runs = 5): Promise<string> {
  // Not in the smoke run: bpftrace 0.17 sometimes misses the SIGINT (timeToMarker), and each miss costs 20 s.
  const bpftrace = smoke ? undefined : which('bpftrace');
  const capc = (cache: string, prog = PROGRAM, extra: string[] = []) =>
    timeToMarker(capcBin, ['run', '-q', ...extra, '-e', prog], 'attached\n', {
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
  // Node alone, as capc's floor: started, then writing the marker at once and waiting for SIGINT (as the environment has it, and
  // without NODE_EXTRA_CA_CERTS, which Node 20 reads while starting up; bin/capc starts it without).
  const node = (env: NodeJS.ProcessEnv = {}) =>
    timeToMarker(
      process.execPath,
      ['-e', "require('fs').writeSync(3, 'attached\\n'); setInterval(() => {}, 1000)"],
      'attached\n',
      env,
    );
  const nodeAlone: number[] = [],
    nodeBare: number[] = [];
  // The floor of any Node tool running this object: Node, koffi, libbpf's open, load and attach of the same object
  // capc builds (its default form), and nothing of capc (bench/workloads/node-floor.mjs).
  const objDir = mkTemp('capc-bench-floor-');
  execFileSync(capcBin, ['build', '-o', objDir, '-e', PROGRAM], { stdio: 'ignore' });
  const floorScript = fileURLToPath(new URL('./workloads/node-floor.mjs', import.meta.url));
  const floor = () =>
    timeToMarker(process.execPath, [floorScript, path.join(objDir, 'program.bpf.o')], 'attached\n', {
      NODE_EXTRA_CA_CERTS: undefined,
    });
  const floorStart: number[] = [],
    overFloor: number[] = [];
  const extraCa = process.env.NODE_EXTRA_CA_CERTS;
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
    nodeAlone.push((await node()).startMs);
    nodeBare.push((await node({ NODE_EXTRA_CA_CERTS: undefined })).startMs);
    floorStart.push((await floor()).startMs);
    overFloor.push(w.startMs - floorStart[floorStart.length - 1]!);
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
  // Detach by form: perf events against raw tracepoints (--tracepoints), 1 to 30 probes, interleaved.
  const byForm = new Map<string, number[]>();
  const startByForm = new Map<string, number[]>();
  const push = (m: Map<string, number[]>, k: string, v: number) => m.set(k, [...(m.get(k) ?? []), v]);
  const formRatio = new Map<number, number[]>();
  for (const n of DETACH_COUNTS)
    for (const f of ['perf', 'raw']) await capc(warmCache, firstN(n), [`--tracepoints=${f}`]);
  for (let i = 0; i < runs; i++) {
    for (const n of DETACH_COUNTS) {
      const perf = await capc(warmCache, firstN(n), ['--tracepoints=perf']);
      const raw = await capc(warmCache, firstN(n), ['--tracepoints=raw']);
      push(byForm, `perf ${n}`, perf.stopMs);
      push(byForm, `raw ${n}`, raw.stopMs);
      push(startByForm, `perf ${n}`, perf.startMs);
      push(startByForm, `raw ${n}`, raw.startMs);
      formRatio.set(n, [...(formRatio.get(n) ?? []), raw.stopMs / perf.stopMs]);
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
    `| Node alone (\`node -e\` writing the marker), environment as is | ${fmtStat(stat(nodeAlone), 'ms')} | |`,
    ...(extraCa
      ? [`| Node alone, without NODE_EXTRA_CA_CERTS (as bin/capc starts it) | ${fmtStat(stat(nodeBare), 'ms')} | |`]
      : []),
    `| Node + koffi + libbpf running the same object, no capc code (bench/workloads/node-floor.mjs) | ${fmtStat(stat(floorStart), 'ms')} | |`,
    '',
    `Source cache against object cache only, pair by pair: ${stat(srcRatio).median.toFixed(2)}× (${stat(srcRatio).min.toFixed(2)}–${stat(srcRatio).max.toFixed(2)}). ${extraCa ? 'This environment sets NODE_EXTRA_CA_CERTS, which Node 20 reads (building its whole TLS root store) before any JavaScript runs; bin/capc starts Node without it.' : 'NODE_EXTRA_CA_CERTS is not set here.'} Warm capc minus Node alone (without the variable), pair by pair: ${stat(warm.map((w, i) => w - nodeBare[i]!)).median.toFixed(0)} ms.`,
    '',
    bpftrace
      ? `Warm capc / bpftrace, pair by pair: median ${stat(ratio).median.toFixed(2)}× (${stat(ratio).min.toFixed(2)}–${stat(ratio).max.toFixed(2)}). The Node floor / bpftrace: ${stat(floorStart.map((f, i) => f / btStart[i]!)).median.toFixed(2)}×.`
      : '',
    '',
    `Warm capc minus the Node floor (what capc's own code costs before attach), pair by pair: ${fmtStat(stat(overFloor), 'ms')}.`,
    '',
    `Detaching 30 tracepoints (one block on 30 \`syscalls:sys_enter_*\` tracepoints), SIGINT to exit: capc ${fmtStat(stat(capc30), 'ms')}` +
      (bpftrace
        ? `, bpftrace 0.17 ${fmtStat(stat(bt30), 'ms')}; capc / bpftrace ${stat(detachRatio).median.toFixed(2)}× (${stat(detachRatio).min.toFixed(2)}–${stat(detachRatio).max.toFixed(2)}). capc's default here runs the 30 as one raw tracepoint program (below); bpftrace attaches 30 perf events, each of whose detach waits for the kernel's RCU grace period.`
        : '.'),
    '',
    hangs.n
      ? `bpftrace 0.17 did not exit after SIGINT in ${hangs.n} run(s) (it stayed in epoll_wait; killed after 20 s); those runs were repeated and are not in the numbers.`
      : '',
    `SIGINT to exit by how the syscall tracepoints attach (\`--tracepoints=perf\`: a perf event each; \`raw\`: one program on the raw tracepoint sys_enter dispatching on the syscall number), one block on the first N of the same 30 tracepoints; ${runs} runs each, interleaved; median (min–max), raw / perf pair by pair. The default (\`auto\`) is raw from ${AUTO_RAW_FROM} syscall probe(s) up.`,
    '',
    '| probes | SIGINT to exit, perf events | SIGINT to exit, raw tracepoint | raw / perf | time to attached (warm), perf | time to attached (warm), raw |',
    '|---|---|---|---|---|---|',
    ...DETACH_COUNTS.map(
      (n) =>
        `| ${n} | ${fmtStat(stat(byForm.get(`perf ${n}`)!), 'ms')} | ${fmtStat(stat(byForm.get(`raw ${n}`)!), 'ms')} | ${stat(formRatio.get(n)!).median.toFixed(2)}× (${stat(formRatio.get(n)!).min.toFixed(2)}–${stat(formRatio.get(n)!).max.toFixed(2)}) | ${fmtStat(stat(startByForm.get(`perf ${n}`)!), 'ms')} | ${fmtStat(stat(startByForm.get(`raw ${n}`)!), 'ms')} |`,
    ),
    '',
  ];
  return lines.join('\n');
}
