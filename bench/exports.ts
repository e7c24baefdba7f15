// bench/exports.ts — what each export costs at 100k events/s, side by side
// with plain text output on the same load in the same round: a workload
// writes 64 bytes to /dev/null 100,000 times a second; capc captures every
// write (`capture(conn, 64) -> ringbuf(64M)`: one capture event per write, a ring
// that holds the whole run so drops show a consumer that cannot keep up) and counts them,
// with text output to /dev/null, and then the same with --pcapng (a file in
// a temp dir), --metrics (scraped every second by this process) and --otlp
// (a local OTLP/HTTP receiver in this process that reads and discards the
// requests). Per mode: capc's CPU from attach to exit (CAPC_STATS_FILE),
// the kernel's capture drops, what the exporter reported lost (W0906), the
// rate the workload reached. Run alone with: npm run bench -- exports
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pickFreePort } from '../tests/support/db-servers.js';
import { capcBin } from '../tests/support/paths.js';
import { buildWorkload, fmtStat, mkTemp, run, smoke, stat } from './lib.js';

const RATE = 100_000;
const SECONDS = smoke ? 1 : 5;
const PROGRAM =
  'tracepoint:syscalls:sys_enter_write /pid == cpid/ { capture(conn, 64) -> ringbuf(64M); @writes = count(); }';

interface Sample {
  cpuS: number;
  drops: number;
  exportLost: number;
  rate: number;
  events: number;
}

type Mode = 'text' | 'pcapng' | 'metrics' | 'otlp';

async function receiver(): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server = http.createServer((req, res) => {
    req.on('data', () => {});
    req.on('end', () => {
      n++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => n,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function one(mode: Mode, workload: string): Promise<Sample> {
  const dir = mkTemp('capc-bench-exports-');
  const stats = path.join(dir, 'stats.json');
  const args = ['run', '-q', '--no-tui', '-o', '/dev/null'];
  let rx: Awaited<ReturnType<typeof receiver>> | undefined;
  let scraper: NodeJS.Timeout | undefined;
  if (mode === 'pcapng') args.push('--pcapng', path.join(dir, 'out.pcapng'));
  const port = mode === 'metrics' ? await pickFreePort() : 0;
  if (mode === 'metrics') args.push('--metrics', `127.0.0.1:${port}`);
  if (mode === 'otlp') {
    rx = await receiver();
    args.push('--otlp', rx.url);
  }
  args.push('-e', PROGRAM, '-c', `${workload} ${RATE} ${SECONDS}`);
  const child = run(capcBin, args, { CAPC_STATS_FILE: stats, NO_COLOR: '1' });
  if (mode === 'metrics')
    scraper = setInterval(
      () =>
        void fetch(`http://127.0.0.1:${port}/metrics`)
          .then((r) => r.text())
          .catch(() => {}),
      1000,
    );
  const r = await child;
  clearInterval(scraper);
  await rx?.close();
  if (r.code !== 0) throw new Error(`capc ${mode} failed: ${r.stderr}`);
  const s = JSON.parse(fs.readFileSync(stats, 'utf8')) as {
    runCpuSeconds: number;
    counters: Record<string, number>;
    capture?: { records: number };
  };
  const drops = Object.entries(s.counters)
    .filter(([k]) => k.startsWith('capture-drop-records'))
    .reduce((n, [, v]) => n + v, 0);
  const lost = [...r.stderr.matchAll(/W0906\]: \w+: (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
  const rate = Number(/\((\d+)\/s\)/.exec(r.stderr)?.[1] ?? r.stdout.match(/\((\d+)\/s\)/)?.[1] ?? 0);
  fs.rmSync(dir, { recursive: true, force: true });
  return { cpuS: s.runCpuSeconds, drops, exportLost: lost, rate, events: s.capture?.records ?? 0 };
}

export async function exportsBench(runs: number): Promise<string> {
  const workload = buildWorkload('write-rate');
  const modes: Mode[] = ['text', 'pcapng', 'metrics', 'otlp'];
  const results = new Map<Mode, Sample[]>(modes.map((m) => [m, []]));
  // Modes interleaved round by round, so a noisy neighbour hits all of them alike.
  for (let i = 0; i < runs; i++) for (const m of modes) results.get(m)!.push(await one(m, workload));
  const text = results.get('text')!;
  const rows = modes.map((m) => {
    const xs = results.get(m)!;
    const ratio = stat(xs.map((x, i) => x.cpuS / text[i]!.cpuS));
    return `| ${m === 'text' ? 'text output only (baseline)' : `text + --${m}`} | ${fmtStat(stat(xs.map((x) => x.cpuS)), 's', 2)} | ${m === 'text' ? '1.00×' : `${ratio.median.toFixed(2)}× (${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})`} | ${fmtStat(stat(xs.map((x) => x.drops)), '')} | ${fmtStat(stat(xs.map((x) => x.exportLost)), '')} | ${fmtStat(stat(xs.map((x) => x.rate / 1000)), 'k/s', 1)} |`;
  });
  return [
    '## Exports at 100k events/s',
    '',
    `A workload writes 64 bytes to /dev/null ${RATE.toLocaleString('en-US')} times a second for ${SECONDS} s; capc captures every write (\`${PROGRAM}\`, one capture event per write) with text output to /dev/null, alone and with each export. capc CPU is from attach to exit (CAPC_STATS_FILE); drops are the kernel's capture drops (R11); lost is what the exporter reported (W0906). --metrics is scraped once a second; --otlp sends to a local receiver that reads and discards. Median (min–max) of ${runs} rounds; ratios pair by pair within a round.`,
    '',
    '| mode | capc CPU | vs text | kernel drops | export lost | workload rate |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
