// bench/tlsstacks.ts — what `capc run --tls` costs on each TLS stack: a
// client sends 20-byte writes as fast as it can over loopback (OpenSSL in C,
// GnuTLS in C, Go's crypto/tls, node's built-in OpenSSL), untraced and with
// capc capturing every stack (accumulate(conn, 1024)), interleaved. Reported:
// the workload's writes/s (ratio to untraced, pair by pair) and the kernel's
// BPF run time per call of the write function (its entry and return programs
// together, from run_time_ns / run_cnt with kernel.bpf_stats_enabled).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { capcBin, repoRoot } from '../tests/support/paths.js';
import { readySaid } from '../tests/support/ready.js';
import { goPeer } from '../tests/support/tls-stacks.js';
import { TLS_PROGRAM } from '../runtime/cli/run.js';
import { benchCert, buildWorkload, run, stat } from './lib.js';

interface Stack {
  name: string;
  cmd: () => [string, string[]];
  /** The write function(s) whose programs' cost is reported. */
  funcs: string[];
}

type ProgStats = Map<number, { name?: string; run_time_ns?: number; run_cnt?: number }>;

function progs(): ProgStats {
  const all = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' }) || '[]') as {
    id: number;
    name?: string;
    run_time_ns?: number;
    run_cnt?: number;
  }[];
  return new Map(all.map((p) => [p.id, p]));
}

/** BPF program name (as the kernel keeps it: 15 characters) -> the function it is on. */
function programFunctions(): Map<string, string> {
  const out = execFileSync(capcBin, ['emit', '--manifest', '-e', TLS_PROGRAM], { encoding: 'utf8' });
  const m = JSON.parse(out) as { probes: { program: string; role?: string; attach: { func?: string } }[] };
  return new Map(
    m.probes
      .filter((p) => p.role === 'capture-entry' || p.role === 'capture-return')
      .map((p) => [p.program.slice(0, 15), p.attach.func ?? '']),
  );
}

const parse = (out: string) => Number(/writes_per_sec (\d+)/.exec(out)?.[1] ?? NaN);

/**
 * capc --tls -c WORKLOAD: the command is held until capc has attached, and each
 * new executable is held at exec until discovery has attached to it, so every
 * call is traced. The workload waits on stdin after printing its rate
 * (FRAG_HOLD_AT_END), while capc's programs are still loaded and can be read.
 */
async function traced(stack: Stack, fnOf: Map<string, string>): Promise<{ wps: number; ns: number }> {
  const [cmd, args] = stack.cmd();
  // This capc's programs, by the ids it reports (other sessions load programs with the same names).
  const mine = new Set<number>();
  const child = spawn(capcBin, ['run', '-q', '--no-tui', '--tls', '-c', [cmd, ...args].join(' ')], {
    env: { ...process.env, CAPC_READY_FD: '3', FRAG_HOLD_AT_END: '1' },
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  let start: ProgStats | undefined;
  const done = new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`capc --tls: no result in 300 s\n${err}`)), 300000);
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    let ready = '';
    (child.stdio[3] as Readable).on('data', (d: Buffer) => {
      ready += d.toString();
      const said = readySaid(ready);
      for (const id of said.ids) mine.add(id);
      if (!start && said.attached) start = progs();
    });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/writes_per_sec \d+/.test(out)) {
        clearTimeout(t);
        resolve(out);
      }
    });
    child.on('exit', () => reject(new Error(`capc exited before the workload's result\n${err}`)));
  });
  const result = await done;
  const end = progs();
  child.stdin!.end('\n');
  await new Promise((res) => (child.exitCode !== null ? res(undefined) : child.once('exit', res)));
  let ns = 0;
  for (const [id, p] of end) {
    if (!mine.has(id) || !stack.funcs.includes(fnOf.get(p.name ?? '') ?? '')) continue;
    const dn = (p.run_time_ns ?? 0) - (start?.get(id)?.run_time_ns ?? 0);
    const dc = (p.run_cnt ?? 0) - (start?.get(id)?.run_cnt ?? 0);
    if (dc > 0) ns += dn / dc;
  }
  return { wps: parse(result), ns };
}

export async function tlsStacksBench(runs = 5, writes = 100000): Promise<string> {
  const { cert, key } = benchCert();
  const frag = buildWorkload('tls-frag', ['-lssl', '-lcrypto']);
  const gnutls = buildWorkload('gnutls-frag', ['-lgnutls']);
  const go = goPeer();
  const n = String(writes);
  const STACKS: Stack[] = [
    { name: 'OpenSSL 3 (libssl.so.3), C', cmd: () => [frag, [cert, key, n, '20', '50']], funcs: ['SSL_write'] },
    {
      name: 'GnuTLS 3.7 (libgnutls.so.30), C',
      cmd: () => [gnutls, [cert, key, n, '20']],
      funcs: ['gnutls_record_send', 'gnutls_record_send2'],
    },
    { name: 'Go 1.19 crypto/tls', cmd: () => [go, ['frag', cert, key, n, '20']], funcs: ['crypto/tls.(*Conn).Write'] },
    {
      name: 'node 20 (OpenSSL built in; node coalesces queued writes)',
      cmd: () => ['node', [path.join(repoRoot, 'bench/workloads/node-frag.cjs'), cert, key, n, '20']],
      funcs: ['SSL_write'],
    },
  ];
  const statsWas = fs.readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim();
  fs.writeFileSync('/proc/sys/kernel/bpf_stats_enabled', '1');
  const fnOf = programFunctions();
  const rows: string[] = [];
  try {
    for (const s of STACKS) {
      const base: number[] = [];
      const withCapc: number[] = [];
      const ratio: number[] = [];
      const ns: number[] = [];
      for (let i = 0; i < runs; i++) {
        const [cmd, args] = s.cmd();
        const b = parse((await run(cmd, args)).stdout);
        const t = await traced(s, fnOf);
        base.push(b);
        withCapc.push(t.wps);
        ratio.push(t.wps / b);
        ns.push(t.ns);
      }
      const r = stat(ratio);
      rows.push(
        `| ${s.name} | ${stat(base).median.toFixed(0)} | ${stat(withCapc).median.toFixed(0)} (${r.median.toFixed(2)}×, ${r.min.toFixed(2)}–${r.max.toFixed(2)}) | ${stat(ns).median.toFixed(0)} (${stat(ns).min.toFixed(0)}–${stat(ns).max.toFixed(0)}) |`,
      );
    }
  } finally {
    fs.writeFileSync('/proc/sys/kernel/bpf_stats_enabled', statsWas);
  }
  return [
    '## Every TLS stack: capture cost per stack (`capc run --tls`)',
    '',
    `Workload: ${writes.toLocaleString('en')} writes of 20 bytes over loopback, client and server in one process, as fast as possible: bench/workloads/tls-frag.c (OpenSSL), bench/workloads/gnutls-frag.c (GnuTLS), the Go test peer's frag mode, bench/workloads/node-frag.cjs. capc runs \`--tls\` system-wide (every stack attached), capturing at return (an entry and a return probe per call; Go's return probes sit on its RET instructions). ${runs} runs, untraced and traced interleaved; medians (min–max), ratios pair by pair. BPF ns per call: the write function's entry and return programs together (GnuTLS: gnutls_record_send jumps into gnutls_record_send2, so both pairs run, the inner one finding it is nested), from the kernel's BPF statistics; the traps themselves (about 20 µs each here, measured.md) are not in it.`,
    '',
    '| stack | writes/s untraced | writes/s with capc --tls (vs untraced) | BPF ns per write call |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
