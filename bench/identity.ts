// bench/identity.ts — what learning connection identity costs, measured
// against the capc before it (commit BASE: main before identity was merged,
// built once into a temp dir from `git archive`), side by side in one run,
// interleaved round by round, both builds running the same program:
//   uprobe:libssl:SSL_write /comm == "..."/ accumulate(conn, 1024) -> ringbuf
// - on the seed-000 writer (tls-frag: 20-byte SSL_write calls as fast as it
//   can): the kernel's BPF run time of the capture programs per SSL_write
//   (entry, return, close watchers; kernel.bpf_stats_enabled), and the
//   writer's own CPU time per write (user + system, which includes the
//   uprobe traps), relative to untraced;
// - the identity learner capc adds (raw_tp/sys_enter): ns per hit, and how
//   many hits the machine's syscalls gave it;
// - a process that is never inside an SSL call (rw-storm: 1-byte read and
//   write syscalls, the worst case): its CPU time per syscall under each
//   build (BPF statistics off, as in normal use), relative to untraced.
// CPU time rather than wall-clock rates: the machine is shared, and other
// work stretches wall time far more than it changes a process's own CPU
// time. The writer runs under a name of its own so the predicate keeps other
// processes' TLS out of the numbers.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { capcBin, repoRoot } from '../tests/support/paths.js';
import { benchCert, buildWorkload, machine, mkTemp, progsOf, run, stat } from './lib.js';

/**
 * capc before connection identity: main when identity was merged onto it (the TLS stacks, decoders and
 * exports included). The identity branch's own parent, before those, was fb4e5d9.
 */
const BASE = process.env.BENCH_IDENTITY_BASE ?? 'd2fc32b382ea716889b7f62e718f8e6aa2689def';

interface Prog {
  run_time_ns?: number;
  run_cnt?: number;
  name?: string;
}

function progs(): Map<number, Prog> {
  const all = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' }) || '[]') as (Prog & {
    id: number;
  })[];
  return new Map(all.map((p) => [p.id, p]));
}

/**
 * capc as it was at `commit`, built once (dependencies shared with this checkout). Kept under the checkout's own
 * tmp/ (gitignored), not /tmp: the benchmark runs as root and executes what it finds there, so the directory must
 * not be one another user could have made first.
 */
function baselineCapc(commit: string): string {
  const full = execFileSync('git', ['-C', repoRoot, 'rev-parse', commit], { encoding: 'utf8' }).trim();
  const dir = path.join(repoRoot, 'tmp', `capc-base-${full.slice(0, 12)}`);
  if (!fs.existsSync(path.join(dir, 'dist', 'capc.mjs'))) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    execFileSync('sh', ['-c', `git -C "${repoRoot}" archive ${full} | tar -x -C "${dir}"`]);
    fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
    execFileSync('npm', ['run', 'build'], { cwd: dir, stdio: 'ignore' });
  }
  return path.join(dir, 'bin', 'capc');
}

/** Program name -> role, from the build's own manifest. */
function roles(capc: string, prog: string): Map<string, string> {
  const m = JSON.parse(execFileSync(capc, ['emit', '--manifest', '-e', prog], { encoding: 'utf8' })) as {
    probes: { program: string; role?: string }[];
  };
  return new Map(m.probes.map((p) => [p.program.slice(0, 15), p.role ?? 'probe']));
}

interface Sample {
  capNsPerWrite: number;
  learnerNsPerHit: number;
  learnerHits: number;
  /** The writer's CPU (user + system) per SSL_write, ns. */
  writeCpuNs: number;
  /** rw-storm's CPU per syscall, ns. */
  rwCpuNs: number;
}

/** Run a command; its own CPU time (user + system, from the shell's `times`) and its output. */
async function runCpu(cmd: string[]): Promise<{ stdout: string; cpuSeconds: number }> {
  const r = await run('bash', ['-c', '"$@" && times', 'bash', ...cmd]);
  if (r.code !== 0) throw new Error(`${cmd.join(' ')} failed: ${r.stderr}`);
  // `times` prints the shell's user and system time, then its children's.
  const m = [...r.stdout.matchAll(/(\d+)m([\d.]+)s (\d+)m([\d.]+)s/g)].pop()!;
  return { stdout: r.stdout, cpuSeconds: Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]) };
}

function setStats(on: string): void {
  fs.writeFileSync('/proc/sys/kernel/bpf_stats_enabled', on);
}

const perCall = (r: { stdout: string; cpuSeconds: number }) =>
  (r.cpuSeconds * 1e9) / Number(/calls (\d+)/.exec(r.stdout)?.[1] ?? NaN);

async function session(
  capc: string,
  prog: string,
  role: Map<string, string>,
  writer: string[],
  rw: string[],
  writes: number,
): Promise<Sample> {
  const child = spawn(capc, ['run', '-q', '-o', '/dev/null', '-e', prog], {
    // The baseline may be a build from before --ready-fd, which said __CAPC_ATTACHED__ on stderr when asked.
    env: { ...process.env, CAPC_READY_FD: '3', CAPC_NOTIFY_ATTACHED: '1' },
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`capc not attached in 60 s\n${err}`)), 60000);
    const onData = (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
      if (/__CAPC_ATTACHED__|^attached$/m.test(err)) {
        clearTimeout(t);
        resolve();
      }
    };
    child.stderr!.on('data', onData);
    (child.stdio[3] as Readable).on('data', onData);
    child.on('exit', () => reject(new Error(`capc exited before attaching\n${err}`)));
  });
  const held = new Set(progsOf(child.pid!));
  const mine = [...progs().entries()].filter(([id]) => held.has(id));
  setStats('1');
  const s0 = progs();
  const w = await runCpu(writer);
  const s1 = progs();
  setStats('0');
  const r = await runCpu(rw);
  child.kill('SIGINT');
  await new Promise((res) => (child.exitCode !== null ? res(undefined) : child.once('exit', res)));
  let capNs = 0;
  let calls = 0;
  let learnNs = 0;
  let learnHits = 0;
  for (const [id, p] of mine) {
    const ns = (s1.get(id)?.run_time_ns ?? 0) - (s0.get(id)?.run_time_ns ?? 0);
    const cnt = (s1.get(id)?.run_cnt ?? 0) - (s0.get(id)?.run_cnt ?? 0);
    const what = role.get(p.name ?? '') ?? 'probe';
    if (what === 'identity') {
      learnNs += ns;
      learnHits += cnt;
    } else {
      capNs += ns;
      if (what === 'capture-entry') calls += cnt;
    }
  }
  return {
    capNsPerWrite: calls ? capNs / calls : NaN,
    learnerNsPerHit: learnHits ? learnNs / learnHits : NaN,
    learnerHits: learnHits,
    writeCpuNs: (w.cpuSeconds * 1e9) / writes,
    rwCpuNs: perCall(r),
  };
}

/** `againstItself`: compare this build with itself (the smoke run: no baseline is built from git). */
export async function identityBench(runs = 5, writes = 200000, againstItself = false): Promise<string> {
  const base = againstItself ? capcBin : baselineCapc(BASE);
  // The writer under a name of its own (the predicate keeps other TLS on this shared machine out), in a
  // directory of its own (a fixed name in /tmp could be a link another user planted).
  const name = `idbench${process.pid % 100000}`;
  const writer = path.join(mkTemp('capc-bench-id-'), name);
  fs.copyFileSync(buildWorkload('tls-frag', ['-lssl', '-lcrypto']), writer);
  fs.chmodSync(writer, 0o755);
  const rwStorm = buildWorkload('rw-storm');
  const { cert, key } = benchCert();
  const writerCmd = [writer, cert, key, String(writes), '20', '50'];
  const rwCmd = [rwStorm, '500000'];
  const prog = `uprobe:libssl:SSL_write /comm == "${name}"/ accumulate(conn, 1024) -> ringbuf`;
  const builds = [
    { label: `before (${BASE.slice(0, 7)})`, capc: base, roles: roles(base, prog) },
    { label: 'with identity', capc: capcBin, roles: roles(capcBin, prog) },
  ];
  const statsWas = fs.readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim();
  const samples: Sample[][] = builds.map(() => []);
  const wRatio: number[][] = builds.map(() => []);
  const rwRatio: number[][] = builds.map(() => []);
  /** with / before, round by round: BPF per write, writer CPU per write, rw CPU per syscall. */
  const pair = { cap: [] as number[], w: [] as number[], rw: [] as number[] };
  const untraced = { w: [] as number[], rw: [] as number[] };
  try {
    for (let i = 0; i < runs; i++) {
      setStats('0');
      const w0 = ((await runCpu(writerCmd)).cpuSeconds * 1e9) / writes;
      const r0 = perCall(await runCpu(rwCmd));
      untraced.w.push(w0);
      untraced.rw.push(r0);
      for (const [k, b] of builds.entries()) {
        const s = await session(b.capc, prog, b.roles, writerCmd, rwCmd, writes);
        samples[k]!.push(s);
        wRatio[k]!.push(s.writeCpuNs / w0);
        rwRatio[k]!.push(s.rwCpuNs / r0);
      }
      const [b0, b1] = [samples[0]![i]!, samples[1]![i]!];
      pair.cap.push(b1.capNsPerWrite / b0.capNsPerWrite);
      pair.w.push(b1.writeCpuNs / b0.writeCpuNs);
      pair.rw.push(b1.rwCpuNs / b0.rwCpuNs);
    }
  } finally {
    setStats(statsWas);
    fs.rmSync(path.dirname(writer), { recursive: true, force: true });
  }
  const med = (xs: number[]) => stat(xs).median;
  const col = (k: number, f: (s: Sample) => number, unit = '') => {
    const xs = samples[k]!.map(f);
    return `${med(xs).toFixed(0)}${unit} (${stat(xs).min.toFixed(0)}–${stat(xs).max.toFixed(0)})`;
  };
  const ratio = (xs: number[]) => `${med(xs).toFixed(2)}×`;
  return [
    '## Connection identity: what it costs',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}; load average ${os.loadavg()[0]!.toFixed(1)} at the end (the machine is shared).`,
    '',
    `\`${prog.replace(name, 'WRITER')}\` on the seed-000 writer (${writes.toLocaleString('en')} SSL_write calls of 20 bytes, as fast as it can), with capc before connection identity (commit ${BASE.slice(0, 7)}, built from git) and with it, ${runs} rounds, interleaved; medians (min–max); ratios are computed round by round (to the untraced run of the same round, and with / before). BPF time from the kernel's statistics (run_time_ns / run_cnt, turned on only while the writer runs). CPU times are the process's own (user + system), ratios to the untraced run of the same round: on a shared machine other work stretches wall-clock rates far more than a process's own CPU time. The identity learner runs on every syscall of the machine: while no SSL call waits for its socket it stops at one load; otherwise other syscalls stop at a compare and threads outside SSL calls at one map lookup. What a syscall-bound process still pays is mostly the kernel's syscall tracing path, which any syscall probe turns on.`,
    '',
    `| | untraced | ${builds.map((b) => b.label).join(' | ')} | with / before |`,
    '|---|---|---|---|---|',
    `| capture programs, BPF ns per SSL_write (entry + return + close) | – | ${col(0, (s) => s.capNsPerWrite)} | ${col(1, (s) => s.capNsPerWrite)} | ${ratio(pair.cap)} |`,
    `| the writer's CPU per SSL_write (user + system: traps included) | ${med(untraced.w).toFixed(0)} ns | ${col(0, (s) => s.writeCpuNs, ' ns')}, ${ratio(wRatio[0]!)} | ${col(1, (s) => s.writeCpuNs, ' ns')}, ${ratio(wRatio[1]!)} | ${ratio(pair.w)} |`,
    `| identity learner (raw_tp/sys_enter), BPF ns per hit (hits per round: the whole machine) | – | – | ${col(1, (s) => s.learnerNsPerHit)} (${med(samples[1]!.map((s) => s.learnerHits)).toLocaleString('en')}) | |`,
    `| a process outside SSL calls: CPU per 1-byte read or write syscall | ${med(untraced.rw).toFixed(0)} ns | ${col(0, (s) => s.rwCpuNs, ' ns')}, ${ratio(rwRatio[0]!)} | ${col(1, (s) => s.rwCpuNs, ' ns')}, ${ratio(rwRatio[1]!)} | ${ratio(pair.rw)} |`,
    '',
  ].join('\n');
}
