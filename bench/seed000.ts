// bench/seed000.ts — the scenario of seed 000: a TLS client sends messages as
// 50 writes of 20 bytes, as fast as it can, while capc captures them. Side by
// side in one run, interleaved: no capture; per-fragment capture (a printf
// of str(buf, len) with 1 KiB strings: one fixed ~1 KiB record per call, what
// the seed started with); capture(conn, 1024); accumulate(conn, 1024). For
// each: ring bytes and records per payload byte, drops, capc's CPU while
// capturing, and the workload's writes/s relative to no capture.
import fs from 'node:fs';
import { capcBin } from '../tests/support/paths.js';
import { benchCert, buildWorkload, mkTemp, run, stat } from './lib.js';

interface Sample {
  writesPerSec: number;
  ringBytes: number;
  records: number;
  payload: number;
  drops: number;
  cpu: number;
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

export async function seed000Bench(runs = 5, writes = 200000): Promise<string> {
  const frag = buildWorkload('tls-frag', ['-lssl', '-lcrypto']);
  const { cert, key } = benchCert();
  const workload = [frag, cert, key, String(writes), '20', '50'];
  const parse = (out: string) => Number(/writes_per_sec (\d+)/.exec(out)?.[1] ?? NaN);
  const base: number[] = [];
  const samples = new Map<string, Sample[]>(VARIANTS.map((v) => [v.name, []]));
  const ratios = new Map<string, number[]>(VARIANTS.map((v) => [v.name, []]));
  for (let i = 0; i < runs; i++) {
    const b = parse((await run(frag, workload.slice(1))).stdout);
    base.push(b);
    for (const v of VARIANTS) {
      const statsFile = `${mkTemp('capc-bench-st-')}/stats.json`;
      const r = await run(capcBin, ['run', '-q', ...v.extra, '-e', v.prog, '-c', workload.join(' ')], {
        CAPC_STATS_FILE: statsFile,
      });
      if (r.code !== 0) throw new Error(`${v.name}: capc failed\n${r.stderr}`);
      const st = JSON.parse(fs.readFileSync(statsFile, 'utf8'));
      const counters = st.counters as Record<string, number>;
      const drops = Object.entries(counters)
        .filter(([k]) => /^(ring-drop:capc_events|capture-drop-records)/.test(k))
        .reduce((n, [, x]) => n + x, 0);
      const wps = parse(r.stdout);
      samples.get(v.name)!.push({
        writesPerSec: wps,
        ringBytes: (st.capture?.ringBytes ?? 0) + st.rings.capc_events.ringBytes,
        records: (st.capture?.records ?? 0) + st.rings.capc_events.records,
        payload: writes * 20,
        drops,
        cpu: st.runCpuSeconds,
      });
      ratios.get(v.name)!.push(wps / b);
    }
  }
  const med = (xs: number[]) => stat(xs).median;
  const rows = VARIANTS.map((v) => {
    const s = samples.get(v.name)!;
    const rb = s.map((x) => x.ringBytes / x.payload);
    const rec = s.map((x) => (1000 * x.records) / x.payload);
    const r = stat(ratios.get(v.name)!);
    return `| ${v.name} | ${med(s.map((x) => x.writesPerSec)).toFixed(0)} (${r.median.toFixed(2)}×, ${r.min.toFixed(2)}–${r.max.toFixed(2)}) | ${med(rb).toFixed(2)} | ${med(rec).toFixed(2)} | ${med(s.map((x) => x.drops))} (max ${Math.max(...s.map((x) => x.drops))}) | ${med(s.map((x) => x.cpu)).toFixed(2)} |`;
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
    `Workload: bench/workloads/tls-frag.c, ${writes.toLocaleString('en')} SSL_write calls of 20 bytes over loopback (client and server threads in one process); capc probes SSL_write (return-time capture, so each call costs an entry and a return trap). Ring sizes as listed (the event ring for printf, the capture ring for capture/accumulate). ${runs} runs, variants interleaved; medians, ratios pair by pair against the uncaptured run just before.`,
    '',
    `No capture: ${med(base).toFixed(0)} writes/s (${stat(base).min.toFixed(0)}–${stat(base).max.toFixed(0)}).`,
    '',
    '| capture | writes/s (vs none) | ring bytes / payload byte | records / KiB of payload | drops (records) | capc CPU s while capturing |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    `accumulate vs per-fragment (4 MiB rings): ${ringRatio.toFixed(1)}× fewer ring bytes, ${recRatio.toFixed(1)}× fewer records (goal: ≥ 10×).`,
    `With 256 KiB rings: per-fragment dropped ${med(pfSmall.map((x) => x.drops))} records (median), accumulate ${med(accSmall.map((x) => x.drops))}.`,
    '',
  ].join('\n');
}
