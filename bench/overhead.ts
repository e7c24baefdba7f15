// bench/overhead.ts — what capturing TLS plaintext costs the application, and
// how much of the plaintext each tool actually delivers: the seed-000 client
// (bench/workloads/tls-frag.c) writing as fast as it can, with no capture,
// with capc's accumulate(), with bpftrace 0.17 printing str(buf, len) on
// SSL_write (the usual one-liner; bpftrace strings stop at 200 bytes at
// most, 64 by default), and with BCC's sslsniff when it can run here.
// Rounds interleave the tools; throughput ratios are pair by pair against the
// uncaptured run of the same round.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { capcBin } from '../tests/support/paths.js';
import { benchCert, buildWorkload, mkTemp, run, stat, which } from './lib.js';

const SIZES = [20, 1000];

interface Result {
  wps: number;
  delivered: number;
}

/** Run `cmd` (a tracer), start the workload once it is attached, stop the tracer, count its output bytes. */
function traced(
  cmd: string,
  args: string[],
  marker: string,
  env: NodeJS.ProcessEnv,
  workload: string[],
): Promise<{ stdout: string; outBytes: number; code: number | null }> {
  return new Promise((resolve, reject) => {
    // fd 3: capc's --ready-fd pipe (CAPC_READY_FD=3); other tracers leave it alone.
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    let seen = false;
    let outBytes = 0;
    let text = '';
    let work = '';
    const go = async () => {
      const w = await run(workload[0]!, workload.slice(1));
      work = w.stdout;
      await new Promise((r) => setTimeout(r, 300)); // let the tracer drain
      child.kill('SIGINT');
    };
    const onData = (d: Buffer) => {
      if (seen) {
        outBytes += d.length;
        return;
      }
      text += d.toString();
      if (text.includes(marker)) {
        seen = true;
        go().catch(reject);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d) => (seen ? undefined : onData(d)));
    (child.stdio[3] as Readable).on('data', (d) => (seen ? undefined : onData(d)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!seen) reject(new Error(`${cmd} exited before attaching: ${text.slice(-2000)}`));
      else resolve({ stdout: work, outBytes, code });
    });
  });
}

export async function overheadBench(runs = 3, writes = 100000): Promise<string> {
  const frag = buildWorkload('tls-frag', ['-lssl', '-lcrypto']);
  const { cert, key } = benchCert();
  const bpftrace = which('bpftrace');
  const sslsniff = which('sslsniff-bpfcc');
  const wpsOf = (out: string) => Number(/writes_per_sec (\d+)/.exec(out)?.[1] ?? NaN);
  const sections: string[] = [];
  let sslsniffNote = sslsniff ? '' : 'sslsniff-bpfcc is not installed (`apt-get install bpfcc-tools`): no number.';
  if (sslsniff) {
    // BCC compiles at start-up and needs this kernel's headers.
    const probe = await run('timeout', ['15', sslsniff], {}, 30000);
    if (/Unable to find kernel headers|chdir\(.*build\)/.test(probe.stderr + probe.stdout)) {
      sslsniffNote = `sslsniff-bpfcc cannot run on this machine: BCC 0.26 compiles its programs at start-up and needs kernel headers, which this kernel (${fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}) has neither installed nor built in (CONFIG_IKHEADERS): no number.`;
    }
  }
  for (const size of SIZES) {
    const workload = [frag, cert, key, String(writes), String(size), '50'];
    const payload = writes * size;
    const base: number[] = [];
    const res = new Map<string, Result[]>();
    const ratios = new Map<string, number[]>();
    const add = (name: string, r: Result, b: number) => {
      (res.get(name) ?? res.set(name, []).get(name)!).push(r);
      (ratios.get(name) ?? ratios.set(name, []).get(name)!).push(r.wps / b);
    };
    for (let i = 0; i < runs; i++) {
      const b = wpsOf((await run(frag, workload.slice(1))).stdout);
      base.push(b);
      const stats = `${mkTemp('capc-bench-ovh-')}/stats.json`;
      const c = await traced(
        capcBin,
        ['run', '-q', '-o', '/dev/null', '-e', 'uprobe:libssl:SSL_write accumulate(conn, 1024) -> ringbuf'],
        'attached\n',
        { CAPC_READY_FD: '3', CAPC_STATS_FILE: stats },
        workload,
      );
      const st = JSON.parse(fs.readFileSync(stats, 'utf8'));
      add(
        'capc accumulate(conn, 1024) on SSL_write',
        { wps: wpsOf(c.stdout), delivered: (st.capture?.payloadBytes ?? 0) / payload },
        b,
      );
      if (bpftrace) {
        for (const strlen of [64, 200]) {
          const t = await traced(
            bpftrace,
            ['-e', 'uprobe:/usr/lib/x86_64-linux-gnu/libssl.so.3:SSL_write { printf("%s\\n", str(arg1, arg2)); }'],
            '__BPFTRACE_NOTIFY_PROBES_ATTACHED',
            { __BPFTRACE_NOTIFY_PROBES_ATTACHED: '1', BPFTRACE_STRLEN: String(strlen) },
            workload,
          );
          // Each write is one line: its bytes up to the string limit, and a newline.
          add(
            `bpftrace 0.17 printf("%s", str(buf, len)), BPFTRACE_STRLEN=${strlen}`,
            { wps: wpsOf(t.stdout), delivered: Math.max(0, t.outBytes - writes) / payload },
            b,
          );
        }
      }
    }
    const rows = [...res].map(([name, rs]) => {
      const w = stat(rs.map((r) => r.wps));
      const q = stat(ratios.get(name)!);
      return `| ${name} | ${Math.round(w.median)} (${Math.round(w.min)}–${Math.round(w.max)}) | ${q.median.toFixed(2)}× (${q.min.toFixed(2)}–${q.max.toFixed(2)}) | ${(stat(rs.map((r) => r.delivered)).median * 100).toFixed(1)}% |`;
    });
    sections.push(
      `### ${size}-byte writes`,
      '',
      '| capture | writes/s | vs no capture | plaintext delivered |',
      '|---|---|---|---|',
      `| none | ${Math.round(stat(base).median)} (${Math.round(stat(base).min)}–${Math.round(stat(base).max)}) | 1.00× | – |`,
      ...rows,
      `| BCC sslsniff | ${sslsniff && !sslsniffNote ? 'see below' : 'could not run'} | – | – |`,
      '',
    );
  }
  return [
    '## Application overhead: a TLS client under each capture tool',
    '',
    `Workload: bench/workloads/tls-frag.c, ${writes} SSL_writes per run over loopback as fast as the client can, each tool attached before it starts. ${runs} rounds, tools interleaved; medians (min–max), ratios pair by pair against the uncaptured run of the same round. "Delivered" is the share of the written plaintext that reached the tool's output (capc: captured payload bytes; bpftrace: printed bytes, each line holding at most BPFTRACE_STRLEN - 1 bytes of its write).`,
    '',
    ...sections,
    sslsniffNote,
    '',
  ].join('\n');
}
