// bench/ramp.ts — the rate at which each way of capturing fragments first
// loses data (seed 000: a ring overflowed at 500–600 queries/s until fragments
// were batched). The seed-000 workload (20-byte SSL_writes, 50 per message) is
// paced at rising rates for about a second each; at every rate, per-fragment
// printf, capture() and accumulate() run with capture rings of 256 KiB, 1 MiB
// and 4 MiB, and the kernel's drop counters say whether anything was lost.
// The ramp ends at the rate the traced program reaches with a probe attached
// (a uprobe trap costs ~20 us here), so "no drops" means none up to that.
import fs from 'node:fs';
import { capcBin } from '../tests/support/paths.js';
import { benchCert, buildWorkload, mkTemp, run, smoke } from './lib.js';

const RINGS = smoke ? (['1M'] as const) : (['256K', '1M', '4M'] as const);
const RATES = smoke ? [2000, 0] : [2000, 5000, 10000, 20000, 40000, 0]; // 0: as fast as it can
const VARIANTS = [
  {
    name: 'per-fragment printf("%s", str(buf, len)), 1 KiB strings',
    prog: 'uprobe:libssl:SSL_write { printf("%d %s\\n", conn, str(buf, len)); }',
    ring: (r: string) => ['--strlen', '1024', '--ringbuf-size', r],
  },
  {
    name: 'capture(conn, 1024)',
    prog: 'uprobe:libssl:SSL_write capture(conn, 1024) -> ringbuf',
    ring: (r: string) => ['--capture-ring-size', r],
  },
  {
    name: 'accumulate(conn, 1024)',
    prog: 'uprobe:libssl:SSL_write accumulate(conn, 1024) -> ringbuf',
    ring: (r: string) => ['--capture-ring-size', r],
  },
];

interface Step {
  rate: number;
  reached: number;
  drops: number;
}

export async function rampBench(): Promise<string> {
  const frag = buildWorkload('tls-frag', ['-lssl', '-lcrypto']);
  const { cert, key } = benchCert();
  const rows: string[] = [];
  const detail: string[] = [];
  for (const v of VARIANTS) {
    const cells: string[] = [];
    for (const ring of RINGS) {
      const steps: Step[] = [];
      for (const rate of RATES) {
        const writes = smoke ? 2000 : rate ? Math.max(2000, rate) : 60000; // about a second each
        const stats = `${mkTemp('capc-bench-ramp-')}/stats.json`;
        const r = await run(
          capcBin,
          [
            'run',
            '-q',
            '-o',
            '/dev/null',
            ...v.ring(ring),
            '-e',
            v.prog,
            '-c',
            `${frag} ${cert} ${key} ${writes} 20 50 ${rate}`,
          ],
          { CAPC_STATS_FILE: stats },
        );
        if (r.code !== 0) throw new Error(`${v.name} ${ring} ${rate}: capc failed\n${r.stderr}`);
        const st = JSON.parse(fs.readFileSync(stats, 'utf8'));
        const counters = st.counters as Record<string, number>;
        const drops = Object.entries(counters)
          .filter(([k]) => /^(ring-drop:capc_events|capture-drop-records)/.test(k))
          .reduce((n, [, x]) => n + x, 0);
        const reached = Number(/writes_per_sec (\d+)/.exec(r.stdout)?.[1] ?? NaN);
        steps.push({ rate, reached, drops });
        if (drops > 0) break;
      }
      const first = steps.find((s) => s.drops > 0);
      const top = Math.max(...steps.map((s) => s.reached));
      cells.push(first ? `**${fmtRate(first.reached)}** (${first.drops} records lost)` : `none up to ${fmtRate(top)}`);
      detail.push(
        `${v.name}, ${ring}: ${steps.map((s) => `${s.rate ? fmtRate(s.rate) : 'max'}→${fmtRate(s.reached)}${s.drops ? ` (${s.drops} lost)` : ''}`).join(', ')}`,
      );
    }
    rows.push(`| ${v.name} | ${cells.join(' | ')} |`);
  }
  return [
    '## Fragment capture: the write rate at which each form first drops',
    '',
    'Workload: bench/workloads/tls-frag.c, 20-byte SSL_writes (50 per message) paced at 2k, 5k, 10k, 20k, 40k writes/s and then unpaced, about a second per step; the ramp stops at the first step with a drop. ' +
      'Ring: the event ring for printf, the capture ring for capture()/accumulate(). A cell says the rate reached when records were first lost, or that none were lost up to the fastest rate the traced program reached with the uprobe attached.',
    '',
    `| capture | ${RINGS.map((r) => `${r} ring`).join(' | ')} |`,
    `|---|${RINGS.map(() => '---').join('|')}|`,
    ...rows,
    '',
    'Steps (target → reached):',
    '',
    ...detail.map((d) => `- ${d}`),
    '',
  ].join('\n');
}

function fmtRate(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(n >= 10000 ? 0 : 1)}k/s` : `${n}/s`;
}
