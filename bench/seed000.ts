// bench/seed000.ts — the scenario of seed 000: a TLS client sends messages as
// 50 writes of 20 bytes, as fast as it can, while capc captures them. Side by
// side in one run, interleaved: no capture; per-fragment capture (a printf
// of str(buf, len) with 1 KiB strings: one fixed ~1 KiB record per call, what
// the seed started with); capture(conn, 1024); accumulate(conn, 1024). For
// each: ring bytes and records per payload byte, drops, capc's CPU while
// capturing, and the workload's writes/s relative to no capture. In the same
// rounds, the hand-written C reference (bench/reference.ts: seed 000's
// accumulator with libbpf and a C consumer), copying at SSL_write's entry
// (seed 000's design, one trap) and at its return (as capc's default), so
// BPF time per write and consumer CPU compare pair by pair. Every captured
// stream (capture, accumulate, the C reference) is checked byte for byte.
import fs from 'node:fs';
import path from 'node:path';
import { capcBin } from '../tests/support/paths.js';
import { benchCert, buildWorkload, mkTemp, run, stat } from './lib.js';
import { buildReference, checkTlsFragStream, egressFile, runReference } from './reference.js';
import { capcBpfNs, capcOtherBpfNs } from './wirespeed.js';

interface Sample {
  writesPerSec: number;
  ringBytes: number;
  records: number;
  payload: number;
  drops: number;
  cpu: number;
  bpfNsPerWrite: number;
  /** capc's other programs (identity learner, trackers, the W0908 check), per write; NaN for the C reference. */
  otherNsPerWrite: number;
  /** Share of the stream captured byte-exact (NaN: not a stream, printf). */
  kept: number;
}

const PER_FRAGMENT = 'uprobe:libssl:SSL_write { printf("%d %s\\n", conn, str(buf, len)); }';
const VARIANTS = [
  ...(['4M', '256K'] as const).flatMap((ring) => [
    {
      name: `per-fragment: printf("%s", str(buf, len)), 1 KiB strings, ${ring} ring`,
      prog: PER_FRAGMENT,
      extra: ['--strlen', '1024', '--ringbuf-size', ring],
    },
    {
      name: `capture(conn, 1024), ${ring} ring`,
      prog: 'uprobe:libssl:SSL_write capture(conn, 1024) -> ringbuf',
      extra: ['--capture-ring-size', ring],
    },
    {
      name: `accumulate(conn, 1024), ${ring} ring`,
      prog: 'uprobe:libssl:SSL_write accumulate(conn, 1024) -> ringbuf',
      extra: ['--capture-ring-size', ring],
    },
  ]),
  {
    name: 'accumulate(conn, 1024), 4M ring, writes captured at entry (one trap, requested length)',
    prog: 'config = { capture_writes_at_entry = 1 }\nuprobe:libssl:SSL_write accumulate(conn, 1024) -> ringbuf',
    extra: ['--capture-ring-size', '4M'],
  },
];

/** The C reference, in the same rounds: at SSL_write's return (as capc's default) and at its entry (seed 000). */
const REFS = [
  { name: 'C reference (hand-written accumulator, libbpf), at return, 4M ring', at: 'ret' as const },
  { name: 'C reference (hand-written accumulator, libbpf), at entry, 4M ring', at: 'entry' as const },
];
/** Which reference each capc row is compared with, pair by pair. */
const PAIRS: [number, number][] = [
  [2, 0],
  [6, 1],
];

export async function seed000Bench(runs = 5, writes = 200000): Promise<string> {
  const frag = buildWorkload('tls-frag', ['-lssl', '-lcrypto']);
  const ref = buildReference();
  const { cert, key } = benchCert();
  const workload = [frag, cert, key, String(writes), '20', '50'];
  const parse = (out: string) => Number(/writes_per_sec (\d+)/.exec(out)?.[1] ?? NaN);
  const base: number[] = [];
  const names = [...VARIANTS.map((v) => v.name), ...REFS.map((r) => r.name)];
  const samples = new Map<string, Sample[]>(names.map((n) => [n, []]));
  const ratios = new Map<string, number[]>(names.map((n) => [n, []]));
  const pairs = PAIRS.map(() => ({ bpf: [] as number[], cpu: [] as number[] }));
  for (let i = 0; i < runs; i++) {
    const b = parse((await run(frag, workload.slice(1))).stdout);
    base.push(b);
    const round = new Map<string, Sample>();
    for (const v of VARIANTS) {
      const work = mkTemp('capc-bench-st-');
      const statsFile = path.join(work, 'stats.json');
      const streams = path.join(work, 'streams');
      const stream = !v.prog.includes('printf');
      try {
        const r = await run(
          capcBin,
          [
            'run',
            '-q',
            ...(stream ? ['--write-streams', streams] : []),
            ...v.extra,
            '-e',
            v.prog,
            '-c',
            workload.join(' '),
          ],
          { CAPC_STATS_FILE: statsFile, CAPC_BPF_STATS: '1' },
        );
        if (r.code !== 0) throw new Error(`${v.name}: capc failed\n${r.stderr}`);
        const st = JSON.parse(fs.readFileSync(statsFile, 'utf8'));
        const counters = st.counters as Record<string, number>;
        const drops = Object.entries(counters)
          .filter(([k]) => /^(ring-drop:capc_events|capture-drop-records)/.test(k))
          .reduce((n, [, x]) => n + x, 0);
        const wps = parse(r.stdout);
        const chk = stream ? checkTlsFragStream(egressFile(streams), writes, 20, 50) : undefined;
        const s: Sample = {
          writesPerSec: wps,
          ringBytes: (st.capture?.ringBytes ?? 0) + st.rings.capc_events.ringBytes,
          records: (st.capture?.records ?? 0) + st.rings.capc_events.records,
          payload: writes * 20,
          drops,
          cpu: st.runCpuSeconds,
          bpfNsPerWrite: capcBpfNs(st) / writes,
          otherNsPerWrite: capcOtherBpfNs(st) / writes,
          kept: chk ? chk.kept / chk.total : NaN,
        };
        samples.get(v.name)!.push(s);
        round.set(v.name, s);
        ratios.get(v.name)!.push(wps / b);
      } finally {
        fs.rmSync(work, { recursive: true, force: true });
      }
    }
    for (const rf of REFS) {
      const work = mkTemp('capc-bench-ref-');
      try {
        const r = await runReference(rf.at === 'ret' ? ref.ret : ref.entry, 4 << 20, work, workload);
        const chk = checkTlsFragStream(egressFile(work), writes, 20, 50);
        const wps = parse(r.stdout);
        const s: Sample = {
          writesPerSec: wps,
          ringBytes: NaN,
          records: r.records,
          payload: writes * 20,
          drops: r.drops,
          cpu: r.cpu,
          bpfNsPerWrite: r.bpfNs / writes,
          otherNsPerWrite: NaN,
          kept: chk.kept / chk.total,
        };
        samples.get(rf.name)!.push(s);
        round.set(rf.name, s);
        ratios.get(rf.name)!.push(wps / b);
      } finally {
        fs.rmSync(work, { recursive: true, force: true });
      }
    }
    PAIRS.forEach(([c, r], k) => {
      const a = round.get(VARIANTS[c]!.name)!;
      const z = round.get(REFS[r]!.name)!;
      // A reference that used no measurable CPU (a short run: CPU comes in clock ticks) gives no ratio.
      if (z.bpfNsPerWrite > 0) pairs[k]!.bpf.push(a.bpfNsPerWrite / z.bpfNsPerWrite);
      if (z.cpu > 0) pairs[k]!.cpu.push(a.cpu / z.cpu);
    });
  }
  const med = (xs: number[]) => stat(xs).median;
  const rows = names.map((name) => {
    const s = samples.get(name)!;
    const rb = s.map((x) => x.ringBytes / x.payload);
    const rec = s.map((x) => (1000 * x.records) / x.payload);
    const r = stat(ratios.get(name)!);
    const kept = s.map((x) => 100 * x.kept);
    const bpf = stat(s.map((x) => x.bpfNsPerWrite));
    const other = med(s.map((x) => x.otherNsPerWrite));
    return (
      `| ${name} | ${med(s.map((x) => x.writesPerSec)).toFixed(0)} (${r.median.toFixed(2)}×, ${r.min.toFixed(2)}–${r.max.toFixed(2)}) | ` +
      `${Number.isNaN(med(rb)) ? '–' : med(rb).toFixed(2)} | ${med(rec).toFixed(2)} | ${med(s.map((x) => x.drops))} (max ${Math.max(...s.map((x) => x.drops))}) | ` +
      `${Number.isNaN(med(kept)) ? '–' : `${stat(kept).min.toFixed(1)}%`} | ${bpf.median.toFixed(0)} ns (${bpf.min.toFixed(0)}–${bpf.max.toFixed(0)}) | ${Number.isNaN(other) ? '–' : `${other.toFixed(0)} ns`} | ${med(s.map((x) => x.cpu)).toFixed(2)} |`
    );
  });
  const pairRows = PAIRS.map(([c, r], k) => {
    const cell = (xs: number[]) => {
      if (!xs.length) return '–';
      const x = stat(xs);
      return `${x.median.toFixed(2)}× (${x.min.toFixed(2)}–${x.max.toFixed(2)})`;
    };
    return `| ${VARIANTS[c]!.name} / ${REFS[r]!.name} | ${cell(pairs[k]!.bpf)} | ${cell(pairs[k]!.cpu)} |`;
  });
  const pf = samples.get(VARIANTS[0]!.name)!;
  const acc = samples.get(VARIANTS[2]!.name)!;
  const pfSmall = samples.get(VARIANTS[3]!.name)!;
  const accSmall = samples.get(VARIANTS[5]!.name)!;
  const ringRatio = med(pf.map((x) => x.ringBytes)) / med(acc.map((x) => x.ringBytes));
  const recRatio = med(pf.map((x) => x.records)) / med(acc.map((x) => x.records));
  return [
    '## Seed 000: 20-byte TLS writes (50 per message), as fast as possible',
    '',
    `Workload: bench/workloads/tls-frag.c, ${writes.toLocaleString('en')} SSL_write calls of 20 bytes over loopback (client and server threads in one process); capc probes SSL_write (return-time capture, so each call costs an entry and a return trap, unless the row says entry). Ring sizes as listed (the event ring for printf, the capture ring for capture/accumulate). ` +
      `capture and accumulate write the stream with --write-streams and it is compared byte for byte with what was sent ("kept" is the worst run). ` +
      `The C reference rows run seed 000's accumulator written by hand (bench/workloads/ref-acc.bpf.c, a libbpf C consumer writing the stream to a file) in the same rounds. ` +
      `BPF per write: run_time_ns of the SSL_write programs (entry and return halves) / writes, from the kernel's statistics; capc's other programs, per write: the identity learner (on every syscall of the scope), the TLS close and process-tree trackers, and W0908's counters on the TLS functions the program does not probe (here SSL_read, which the server calls once per write), which the C reference does not have. ${runs} runs, variants interleaved; medians, ratios pair by pair against the uncaptured run just before.`,
    '',
    `No capture: ${med(base).toFixed(0)} writes/s (${stat(base).min.toFixed(0)}–${stat(base).max.toFixed(0)}).`,
    '',
    "| capture | writes/s (vs none) | ring bytes / payload byte | records / KiB of payload | drops (records) | kept byte-exact | BPF per write | capc's other programs per write | CPU s while capturing |",
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    'capc against the C reference, pair by pair in each round:',
    '',
    '| pair | BPF per write | consumer CPU |',
    '|---|---|---|',
    ...pairRows,
    '',
    "Goal: accumulate's BPF time per write at most 1.1× the C reference's.",
    '',
    `accumulate vs per-fragment (4 MiB rings): ${ringRatio.toFixed(1)}× fewer ring bytes, ${recRatio.toFixed(1)}× fewer records (goal: ≥ 10×).`,
    `With 256 KiB rings: per-fragment dropped ${med(pfSmall.map((x) => x.drops))} records (median), accumulate ${med(accSmall.map((x) => x.drops))}.`,
    '',
  ].join('\n');
}
