// bench/consumer.ts — how many small records capc's runtime reads, decodes
// and formats per second, against a C consumer (libbpf ring_buffer__poll +
// __consume, bench/workloads/rb-consume.c) reading the same producer in the
// same run: the same object capc builds for
//   tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { printf("%d %d\n", pid, tid); }
// fed by two threads calling getppid(2) as fast as they can for 3 s. The two
// consumers run alternately; each run reports records consumed per second,
// records dropped (the kernel's counter), the producer's rate (a consumer
// that takes CPU slows the producer on this 2-vCPU machine) and the
// consumer's CPU time. capc writes its output to /dev/null (-o): by
// default from the printf thread (runtime/native/capc-printf-thread.c), and
// for comparison from the main thread (CAPC_PRINTF_DRAIN=main, formatted
// natively: what capc did before the thread) and in JavaScript (=js).
import fs from 'node:fs';
import path from 'node:path';
import { capcBin } from '../tests/support/paths.js';
import { buildWorkload, mkTemp, run, stat, fmtStat } from './lib.js';

const PROGRAM = 'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { printf("%d %d\\n", pid, tid); }';

interface Sample {
  perSec: number;
  drops: number;
  producer: number;
  cpu: number;
  dropShare: number;
  /** CPU seconds of the printf thread, and of the main thread (capc only). */
  threadCpu?: number;
  mainCpu?: number;
}

export async function consumerBench(runs = 5, seconds = 3): Promise<string> {
  const storm = buildWorkload('syscall-storm');
  const consume = buildWorkload('rb-consume', ['-lbpf']);
  const dir = mkTemp('capc-bench-consumer-');
  const built = await run(capcBin, ['build', '-e', PROGRAM, '-o', dir]);
  if (built.code !== 0) throw new Error(`capc build failed: ${built.stderr}`);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
    rodata: { size: number; fields: { name: string; offset: number }[] };
    counters: { index: number; kind: string; subject: string }[];
  };
  const cpidOffset = manifest.rodata.fields.find((f) => f.name === 'cpid')!.offset;
  const dropIndex = manifest.counters.find((c) => c.kind === 'ring-drop' && c.subject === 'capc_events')!.index;
  const obj = fs.readdirSync(dir).find((f) => f.endsWith('.o'))!;
  const calls = (out: string) => Number(/calls (\d+) seconds ([\d.]+)/.exec(out)?.[1] ?? NaN);
  const callsPerSec = (out: string) => Number(/calls_per_sec (\d+)/.exec(out)?.[1] ?? NaN);
  const capc: Sample[] = [];
  const c: Sample[] = [];
  const ratios: number[] = [];
  const js: Sample[] = [];
  const main: Sample[] = [];
  const niced: Sample[] = [];
  const nicedRatios: number[] = [];
  const mainRatios: number[] = [];
  const load: string[] = [fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')];
  let statsFiles = 0;
  const capcRun = async (i: number, env: Record<string, string>): Promise<Sample> => {
    const stats = path.join(dir, `stats-${i}-${++statsFiles}.json`);
    const r = await run(capcBin, ['run', '-q', '-o', '/dev/null', '-e', PROGRAM, '-c', `${storm} 2 ${seconds}`], {
      CAPC_STATS_FILE: stats,
      ...env,
    });
    if (r.code !== 0) throw new Error(`capc failed: ${r.stderr}`);
    const st = JSON.parse(fs.readFileSync(stats, 'utf8'));
    const got = st.rings.capc_events.records as number;
    const drops = st.counters['ring-drop:capc_events'] as number;
    return {
      perSec: got / seconds,
      drops,
      producer: callsPerSec(r.stdout),
      cpu: st.runCpuSeconds,
      dropShare: drops / Math.max(1, calls(r.stdout)),
      threadCpu: st.printf?.drain === 'thread' ? st.printf.cpuSeconds : undefined,
      mainCpu: st.threads?.capc,
    };
  };
  for (let i = 0; i < runs; i++) {
    const a = await capcRun(i, {});
    capc.push(a);
    // The same run drained and formatted on the main thread (before the printf thread), and in JavaScript.
    main.push(await capcRun(i, { CAPC_PRINTF_DRAIN: 'main' }));
    // The printf thread at nice -10: it gets a CPU before the traced program when both are runnable.
    niced.push(await capcRun(i, { CAPC_PRINTF_NICE: '-10' }));
    js.push(await capcRun(i, { CAPC_PRINTF_DRAIN: 'js' }));
    const k = await run(consume, [
      path.join(dir, obj),
      String(cpidOffset),
      String(manifest.rodata.size),
      String(dropIndex),
      '--',
      storm,
      '2',
      String(seconds),
    ]);
    if (k.code !== 0) throw new Error(`rb-consume failed: ${k.stderr}`);
    const m = /records (\d+) drops (\d+) seconds ([\d.]+) cpu ([\d.]+)/.exec(k.stdout)!;
    const b: Sample = {
      perSec: Number(m[1]) / seconds,
      drops: Number(m[2]),
      producer: callsPerSec(k.stdout),
      cpu: Number(m[4]),
      dropShare: Number(m[2]) / Math.max(1, calls(k.stdout)),
    };
    c.push(b);
    ratios.push(a.perSec / b.perSec);
    mainRatios.push(main[main.length - 1]!.perSec / b.perSec);
    nicedRatios.push(niced[niced.length - 1]!.perSec / b.perSec);
    load.push(fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '));
  }
  const row = (name: string, xs: Sample[]) =>
    `| ${name} | ${fmtStat(stat(xs.map((x) => x.perSec / 1e6)), 'M/s', 2)} | ${fmtStat(stat(xs.map((x) => x.drops)), '', 0)} (${(stat(xs.map((x) => x.dropShare)).median * 100).toFixed(2)}% of hits) | ${xs.filter((x) => x.drops === 0).length}/${xs.length} | ${fmtStat(stat(xs.map((x) => x.producer / 1e6)), 'M/s', 2)} | ${stat(xs.map((x) => x.cpu)).median.toFixed(2)} s |`;
  const ratio = (xs: number[]) =>
    `${stat(xs).median.toFixed(2)}× (${stat(xs).min.toFixed(2)}–${stat(xs).max.toFixed(2)})`;
  const cpus = (xs: Sample[]) =>
    xs[0]?.threadCpu !== undefined
      ? `printf thread ${stat(xs.map((x) => x.threadCpu ?? 0)).median.toFixed(2)} s, main thread ${stat(xs.map((x) => x.mainCpu ?? 0)).median.toFixed(2)} s`
      : `main thread ${stat(xs.map((x) => x.mainCpu ?? 0)).median.toFixed(2)} s`;
  return [
    '## Consumer throughput: small records, capc against a C consumer',
    '',
    `Producer: two threads calling getppid(2) for ${seconds} s (bench/workloads/syscall-storm.c), probe \`${PROGRAM}\` (24-byte records). ` +
      `The C consumer (bench/workloads/rb-consume.c) loads the object \`capc build\` makes and reads the ring with libbpf; capc formats every record natively (runtime/native/capc-printf.c) and writes it to /dev/null from its printf thread (runtime/native/capc-printf-thread.c, the default for text output), and for comparison from Node's main thread (CAPC_PRINTF_DRAIN=main, capc before the thread) and formatted in JavaScript (=js). ${runs} runs each, alternating; medians (min–max). Load average (1, 5, 15 min) before each round and at the end: ${load.join('; ')}.`,
    '',
    '| consumer | records consumed/s | dropped | runs with 0 drops | producer calls/s | consumer CPU |',
    '|---|---|---|---|---|---|',
    row('capc run (printf thread)', capc),
    row('capc run, printf thread at nice -10 (CAPC_PRINTF_NICE=-10)', niced),
    row('capc run, CAPC_PRINTF_DRAIN=main (formatted natively on the main thread)', main),
    row('capc run, CAPC_PRINTF_DRAIN=js (printf formatted in JavaScript)', js),
    row('C, libbpf ring_buffer', c),
    '',
    `capc / C records consumed per second, pair by pair: printf thread ${ratio(ratios)}, at nice -10 ${ratio(nicedRatios)}, main thread ${ratio(mainRatios)}. ` +
      `CPU by thread (medians): printf thread row: ${cpus(capc)}; main-thread row: ${cpus(main)}. ` +
      "Goal: at least the C consumer's rate with zero drops. Both compete with the producer for the 2 vCPUs: a consumer that uses more CPU slows the producer it is measured against.",
    '',
  ].join('\n');
}
