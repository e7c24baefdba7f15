// bench/wirespeed.ts — large TLS writes at full speed: bench/workloads/
// tls-frag.c sends 16 KiB SSL_writes over loopback as fast as it can (about
// 400 MB/s of plaintext here), and each capture writes the stream to a file,
// verified byte for byte against what was sent (holes only where the kernel
// counted a drop). Side by side in one run, interleaved round by round: no
// capture; the hand-written C reference (bench/reference.ts) with the 8 MiB
// ring it was first measured with and with capc's default ring; capc's
// accumulate() and capture() with default settings (`capc run -q
// --write-streams DIR`, text output to /dev/null). For each: the write rate,
// the share of plaintext kept, drops, the consumer's CPU, BPF ns per write;
// capc / C ratios are taken pair by pair within a round.
import fs from 'node:fs';
import path from 'node:path';
import { capcBin } from '../tests/support/paths.js';
import { benchCert, buildWorkload, mkTemp, run, stat } from './lib.js';
import { buildReference, checkTlsFragStream, egressFile, runReference } from './reference.js';

const FRAG = 16384;

interface Sample {
  wps: number;
  kept: number;
  drops: number;
  cpu: number;
  bpfNsPerWrite: number;
  /** capc: the capture thread's CPU while draining, and its start-up (before attach). */
  thread?: number;
  threadStartup?: number;
  /** capc: the main thread's CPU after attach, and Node's own threads' (garbage collection, compiler, libuv's pool). */
  main?: number;
  nodeThreads?: number;
}

interface Variant {
  name: string;
  kind: 'ref' | 'capc';
  /** capc: the program; ref: the ring size. */
  prog?: string;
  ring?: number;
  extra?: string[];
  env?: Record<string, string>;
}

export const CAPC_ACCUMULATE = 'uprobe:libssl:SSL_write accumulate(conn, 1024) -> ringbuf';
export const CAPC_CAPTURE = 'uprobe:libssl:SSL_write capture(conn, 1024) -> ringbuf';

/** capc's default capture ring, from the manifest of a default program. */
export async function capcDefaultCaptureRing(): Promise<number> {
  const r = await run(capcBin, ['emit', '--manifest', '-e', CAPC_ACCUMULATE]);
  if (r.code !== 0) throw new Error(r.stderr);
  return (JSON.parse(r.stdout) as { capture: { sink: { size: number } } }).capture.sink.size;
}

const mib = (n: number) => `${n / 2 ** 20} MiB`;

/** BPF ns of a capc run's SSL_write programs (entry and return halves; not the flush program capc runs itself). */
type ProgramStats = { programs?: Record<string, { probe?: string; runs: number; runTimeNs: number }> };

/** The probe the capture benchmarks capture on: its programs (entry and return halves) are the capture's own cost. */
export const CAPTURED_PROBE = 'uprobe:libssl:SSL_write';

/** BPF ns the programs on the captured probe ran (what the C reference's programs do). */
export function capcBpfNs(stats: ProgramStats): number {
  return Object.values(stats.programs ?? {})
    .filter((p) => p.probe === CAPTURED_PROBE)
    .reduce((n, p) => n + p.runTimeNs, 0);
}

/**
 * BPF ns of capc's other programs (the identity learner on every syscall, the TLS close and scope trackers, the
 * W0908 check's counters on TLS functions the program does not probe; not the idle flush): what a capture costs
 * beyond what the C reference does.
 */
export function capcOtherBpfNs(stats: ProgramStats): number {
  return Object.values(stats.programs ?? {})
    .filter((p) => p.probe !== CAPTURED_PROBE && p.probe !== 'capture flush')
    .reduce((n, p) => n + p.runTimeNs, 0);
}

export async function wirespeedBench(runs = 5, writes = 20000): Promise<string> {
  const frag = buildWorkload('tls-frag', ['-lssl', '-lcrypto']);
  const ref = buildReference();
  const { cert, key } = benchCert();
  const workload = [frag, cert, key, String(writes), String(FRAG), '1'];
  const defaultRing = await capcDefaultCaptureRing();
  const VARIANTS: Variant[] = [
    { name: `C reference, ${mib(8 << 20)} ring`, kind: 'ref', ring: 8 << 20 },
    { name: `C reference, ${mib(defaultRing)} ring (capc's default)`, kind: 'ref', ring: defaultRing },
    { name: 'capc accumulate(conn, 1024), defaults', kind: 'capc', prog: CAPC_ACCUMULATE },
    { name: 'capc capture(conn, 1024), defaults', kind: 'capc', prog: CAPC_CAPTURE },
    {
      name: 'capc accumulate(conn, 1024), JavaScript drain (CAPC_CAPTURE_DRAIN=js)',
      kind: 'capc',
      prog: CAPC_ACCUMULATE,
      env: { CAPC_CAPTURE_DRAIN: 'js' },
    },
  ];
  const parse = (out: string) => Number(/writes_per_sec (\d+)/.exec(out)?.[1] ?? NaN);
  const base: number[] = [];
  const samples = new Map<string, Sample[]>(VARIANTS.map((v) => [v.name, []]));
  const vsRef = new Map<string, { cpu: number[]; perByte: number[]; bpf: number[] }>(
    VARIANTS.map((v) => [v.name, { cpu: [], perByte: [], bpf: [] }]),
  );
  for (let i = 0; i < runs; i++) {
    base.push(parse((await run(frag, workload.slice(1))).stdout));
    let refSample: Sample | undefined;
    for (const v of VARIANTS) {
      const work = mkTemp('capc-bench-ws-');
      const out = path.join(work, 'streams');
      try {
        let s: Sample;
        if (v.kind === 'ref') {
          fs.mkdirSync(out, { mode: 0o700 });
          const r = await runReference(ref.ret, v.ring!, out, workload);
          const chk = checkTlsFragStream(egressFile(out), writes, FRAG, 1);
          s = {
            wps: parse(r.stdout),
            kept: chk.kept / chk.total,
            drops: r.drops,
            cpu: r.cpu,
            bpfNsPerWrite: r.bpfNs / writes,
          };
          refSample ??= s;
        } else {
          const statsFile = path.join(work, 'stats.json');
          const r = await run(
            capcBin,
            [
              'run',
              '-q',
              '-o',
              '/dev/null',
              '--write-streams',
              out,
              ...(v.extra ?? []),
              '-e',
              v.prog!,
              '-c',
              workload.join(' '),
            ],
            { CAPC_STATS_FILE: statsFile, CAPC_BPF_STATS: '1', ...v.env },
          );
          if (r.code !== 0) throw new Error(`${v.name}: capc failed\n${r.stderr}`);
          const st = JSON.parse(fs.readFileSync(statsFile, 'utf8'));
          const chk = checkTlsFragStream(egressFile(out), writes, FRAG, 1);
          s = {
            wps: parse(r.stdout),
            kept: chk.kept / chk.total,
            drops: st.counters['capture-drop-records:capc_payload'] ?? 0,
            cpu: st.runCpuSeconds,
            bpfNsPerWrite: capcBpfNs(st) / writes,
            thread: st.capture?.threadCpu?.draining,
            threadStartup: st.capture?.threadCpu?.startup,
            main: st.threads?.capc,
            nodeThreads: st.threads?.other,
          };
          // A reference that used no measurable CPU (a short run: CPU comes in clock ticks) gives no ratio.
          if (refSample && refSample.cpu > 0) {
            vsRef.get(v.name)!.cpu.push(s.cpu / refSample.cpu);
            // A consumer that lost bytes also wrote fewer: per byte kept is the fair ratio when either lost some.
            vsRef.get(v.name)!.perByte.push(s.cpu / s.kept / (refSample.cpu / refSample.kept));
          }
          if (refSample && refSample.bpfNsPerWrite > 0)
            vsRef.get(v.name)!.bpf.push(s.bpfNsPerWrite / refSample.bpfNsPerWrite);
        }
        samples.get(v.name)!.push(s);
      } finally {
        fs.rmSync(work, { recursive: true, force: true });
      }
    }
  }
  const med = (xs: number[]) => stat(xs).median;
  const range = (xs: number[], d = 2) => `${stat(xs).min.toFixed(d)}–${stat(xs).max.toFixed(d)}`;
  const rows = VARIANTS.map((v) => {
    const s = samples.get(v.name)!;
    const wps = s.map((x) => x.wps);
    const kept = s.map((x) => 100 * x.kept);
    const clean = s.filter((x) => x.drops === 0).length;
    const cpu = s.map((x) => x.cpu);
    const bpf = s.map((x) => x.bpfNsPerWrite);
    const r = vsRef.get(v.name)!;
    const ratio = (xs: number[]) => (xs.length ? `${med(xs).toFixed(2)}× (${range(xs)})` : '–');
    return (
      `| ${v.name} | ${med(wps).toFixed(0)} (${range(wps, 0)}) | ${med(kept).toFixed(1)}% (${range(kept, 1)}) | ${clean} of ${s.length} | ` +
      `${med(s.map((x) => x.drops))} | ${med(cpu).toFixed(2)} s (${range(cpu)}) | ${ratio(r.cpu)} | ${ratio(r.perByte)} | ${med(bpf).toFixed(0)} ns | ${ratio(r.bpf)} |`
    );
  });
  return [
    '## Wire speed: 16 KiB TLS writes, as fast as possible',
    '',
    `Workload: bench/workloads/tls-frag.c, ${writes.toLocaleString('en')} SSL_write calls of 16 KiB (${((writes * FRAG) / 2 ** 20).toFixed(0)} MiB of plaintext) over loopback, client and server threads in one process. ` +
      `Every capture writes the stream to a file, compared byte for byte with what was sent (a hole is allowed only where the kernel counted a drop). ` +
      `The C reference (bench/workloads/ref-acc.bpf.c, ref-acc.c) is seed 000's accumulator written by hand with libbpf, copying at SSL_write's return as capc does, big fragments in 16 KiB records reserved in the ring, and a C consumer writing the file through a 256 KiB buffer. ` +
      `capc runs with default settings: \`capc run -q -o /dev/null --write-streams DIR -e PROG -c WORKLOAD\`. ` +
      `Consumer CPU is the capturing process's CPU from attach to exit (all its threads). ${runs} rounds, variants interleaved; medians (min–max); capc / C ratios pair by pair against the C reference with the 8 MiB ring in the same round.`,
    '',
    `No capture: ${med(base).toFixed(0)} writes/s (${range(base, 0)}), ${((med(base) * FRAG) / 1e6).toFixed(0)} MB/s.`,
    '',
    '| capture | writes/s | plaintext kept | runs with 0 drops | drops (records) | consumer CPU | CPU vs C | CPU per byte kept vs C | BPF per write | BPF vs C |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    ...VARIANTS.filter((v) => v.kind === 'capc').map((v) => {
      const s = samples.get(v.name)!;
      const th = s.map((x) => x.thread ?? NaN);
      const st = s.map((x) => x.threadStartup ?? NaN);
      const main = s.map((x) => x.main ?? NaN);
      const other = s.map((x) => x.nodeThreads ?? NaN);
      return `${v.name}: the capture thread used ${med(th).toFixed(2)} s (${range(th)}) of that consumer CPU, the main thread ${med(main).toFixed(3)} s (${range(main, 3)}), Node's own threads ${med(other).toFixed(3)} s (${range(other, 3)}); the capture thread's start-up, ${med(st).toFixed(3)} s, happens while the program loads, before attach.`;
    }),
    '',
    "Goal: capc's defaults keep 100% byte-exact with 0 drops in 5 of 5 runs, consumer CPU at most 1.5× the C reference's.",
    '',
  ].join('\n');
}
