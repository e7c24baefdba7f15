// bench/ringsize.ts — what capture ring size holds a stream at wire speed:
// 16 KiB TLS writes as fast as they go (bench/workloads/tls-frag.c), captured
// by accumulate() with --write-streams at several capture ring sizes, the C
// reference (bench/reference.ts) beside each, rounds interleaved. For each
// size: runs with no drop, bytes dropped, and the largest burst capc's
// capture thread saw (backlog + what the kernel dropped meanwhile), which is
// the ring the run would have needed. The default capture ring is chosen
// from this table.
import fs from 'node:fs';
import path from 'node:path';
import { capcBin } from '../tests/support/paths.js';
import { benchCert, buildWorkload, mkTemp, run, smoke, stat } from './lib.js';
import { buildReference, runReference } from './reference.js';
import { CAPC_ACCUMULATE } from './wirespeed.js';

const SIZES = (smoke ? [16] : [4, 8, 16, 32]).map((m) => m << 20);

interface Sample {
  dropped: number;
  peak: number;
}

export async function ringSizeBench(runs = 5, writes = 20000): Promise<string> {
  const frag = buildWorkload('tls-frag', ['-lssl', '-lcrypto']);
  const ref = buildReference();
  const { cert, key } = benchCert();
  const workload = [frag, cert, key, String(writes), '16384', '1'];
  const capc = new Map<number, Sample[]>(SIZES.map((s) => [s, []]));
  const c = new Map<number, number[]>(SIZES.map((s) => [s, []]));
  for (let i = 0; i < runs; i++) {
    for (const size of SIZES) {
      const work = mkTemp('capc-bench-ring-');
      try {
        const statsFile = path.join(work, 'stats.json');
        const r = await run(
          capcBin,
          [
            'run',
            '-q',
            '-o',
            '/dev/null',
            '--write-streams',
            path.join(work, 's'),
            '--capture-ring-size',
            String(size),
            '-e',
            CAPC_ACCUMULATE,
            '-c',
            workload.join(' '),
          ],
          { CAPC_STATS_FILE: statsFile },
        );
        if (r.code !== 0) throw new Error(`capc failed\n${r.stderr}`);
        const st = JSON.parse(fs.readFileSync(statsFile, 'utf8'));
        capc.get(size)!.push({
          dropped: st.counters['capture-drop-bytes:capc_payload'] ?? 0,
          peak: st.capture?.peakBurst ?? NaN,
        });
        const out = path.join(work, 'ref');
        fs.mkdirSync(out);
        c.get(size)!.push((await runReference(ref.ret, size, out, workload)).droppedBytes);
      } finally {
        fs.rmSync(work, { recursive: true, force: true });
      }
    }
  }
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  const rows = SIZES.map((size) => {
    const s = capc.get(size)!;
    const peak = stat(s.map((x) => x.peak));
    const total = writes * 16384;
    return (
      `| ${size / 2 ** 20} MiB | ${s.filter((x) => x.dropped === 0).length} of ${s.length} | ` +
      `${((100 * stat(s.map((x) => x.dropped)).median) / total).toFixed(2)}% (max ${((100 * Math.max(...s.map((x) => x.dropped))) / total).toFixed(2)}%) | ` +
      `${mib(peak.median)} (max ${mib(peak.max)}) | ${c.get(size)!.filter((x) => x === 0).length} of ${runs} |`
    );
  });
  return [
    '## Capture ring size at wire speed',
    '',
    `Workload: ${writes.toLocaleString('en')} SSL_writes of 16 KiB over loopback as fast as they go (bench/workloads/tls-frag.c), \`${CAPC_ACCUMULATE}\` with --write-streams and each capture ring size; the C reference with the same ring beside it. ` +
      `"Largest burst" is the most the capture thread ever found waiting plus what the kernel dropped in the same interval: the ring that run would have needed. ${runs} rounds, sizes interleaved.`,
    '',
    '| capture ring | capc runs with 0 drops | bytes dropped (median) | largest burst | C reference runs with 0 drops |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
