// bench/lib.ts — shared by benchmarks: running commands to a marker, medians,
// min–max, ratios computed pair by pair within one run, machine description.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import os from 'node:os';
import path from 'node:path';

/** BENCH_SMOKE=1 (bench/run.ts): one short round of everything, to check each benchmark still runs; numbers mean nothing. */
export const smoke = process.env.BENCH_SMOKE === '1';

export interface Stat {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function stat(xs: number[]): Stat {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, n: s.length };
}

export function fmtStat(s: Stat, unit: string, digits = 0): string {
  return `${s.median.toFixed(digits)} ${unit} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
}

export function which(cmd: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Start `cmd`, resolve with the ms until `marker` appears on stdout or stderr,
 * then stop it with SIGINT and wait for it to exit (returning the stop time too).
 * The SIGINT comes SETTLE_MS after the marker, so a tool is in its event loop.
 * A tool still running EXIT_TIMEOUT_MS after the SIGINT is killed and the
 * promise rejects with a Hung error (see `retryHung`): bpftrace 0.17, started
 * from Node, stays in epoll_wait after a SIGINT in about a third of the runs of
 * a program that prints nothing until exit (seen 2026-12-06; never from a shell).
 */
export function timeToMarker(
  cmd: string,
  args: string[],
  marker: string,
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60000,
): Promise<{ startMs: number; stopMs: number; out: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // fd 3: capc's --ready-fd pipe (CAPC_READY_FD=3); other tools leave it alone.
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    let seen = false;
    let hung = false;
    let startMs = 0;
    let out = '';
    let stopAt = 0;
    const onData = (d: Buffer) => {
      out += d.toString();
      if (!seen && out.includes(marker)) {
        seen = true;
        startMs = performance.now() - t0;
        clearTimeout(timer);
        setTimeout(() => {
          stopAt = performance.now();
          child.kill('SIGINT');
          timer = setTimeout(() => {
            hung = true;
            child.kill('SIGKILL');
          }, EXIT_TIMEOUT_MS);
        }, SETTLE_MS);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    (child.stdio[3] as Readable).on('data', onData);
    let timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')}: no "${marker}" within ${timeoutMs} ms\n${out.slice(-2000)}`));
    }, timeoutMs);
    child.on('exit', () => {
      clearTimeout(timer);
      if (hung) reject(new Hung(`${cmd} did not exit within ${EXIT_TIMEOUT_MS} ms of SIGINT`));
      else if (!seen) reject(new Error(`${cmd} exited before "${marker}"\n${out.slice(-2000)}`));
      else resolve({ startMs, stopMs: performance.now() - stopAt, out });
    });
  });
}

const SETTLE_MS = 300;
const EXIT_TIMEOUT_MS = 20000;

/** A tool that did not exit after SIGINT (timeToMarker). */
class Hung extends Error {}

/**
 * Run `f` until it does not hang, at most `tries` times; `hangs.n` counts the runs thrown away. bpftrace 0.17 hangs
 * in about a third of the runs started from Node (4 of 12 on 2026-12-06: SIGINT caught and taken, the process
 * still in epoll_wait), so 4 tries failed a whole benchmark about once per hundred measurements.
 */
export async function retryHung<T>(f: () => Promise<T>, hangs: { n: number }, tries = 10): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await f();
    } catch (e) {
      if (!(e instanceof Hung) || i >= tries) throw e;
      hangs.n++;
    }
  }
}

/** The BPF programs process `pid` holds (prog_id of its fds): its own (program fds and link fds), not
 * programs others load meanwhile on a shared machine. */
export function progsOf(pid: number): number[] {
  const ids = new Set<number>();
  let fds: string[] = [];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fdinfo`);
  } catch {
    return [];
  }
  for (const fd of fds) {
    try {
      const m = /^prog_id:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (m) ids.add(Number(m[1]));
    } catch {
      /* closed meanwhile */
    }
  }
  return [...ids];
}

export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} vCPU (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}, Node ${process.version}`;
}

export function tool(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .split('\n')[0]!
      .trim();
  } catch {
    return 'not installed';
  }
}

const temps: string[] = [];
/** A private temporary directory, removed when the benchmark process exits (runs left ~800 behind in /tmp). */
export function mkTemp(prefix: string): string {
  const d = fs.mkdtempSync(`${os.tmpdir()}/${prefix}`);
  if (!temps.length)
    process.once('exit', () => {
      for (const t of temps) fs.rmSync(t, { recursive: true, force: true });
    });
  temps.push(d);
  return d;
}

let workloadDir: string | undefined;
/** Build a C workload from bench/workloads, once per benchmark process, in a private temporary directory. */
export function buildWorkload(name: string, libs: string[] = []): string {
  const src = new URL(`./workloads/${name}.c`, import.meta.url).pathname;
  if (!workloadDir) {
    const d = (workloadDir = mkTemp('capc-bench-bin-'));
    process.once('exit', () => fs.rmSync(d, { recursive: true, force: true }));
  }
  const out = path.join(workloadDir, `${name}${libs.length ? '-' + libs.join('').replace(/[^\w]/g, '') : ''}`);
  if (!fs.existsSync(out)) execFileSync('cc', ['-O2', '-pthread', '-o', out, src, ...libs], { stdio: 'inherit' });
  return out;
}

let cert: { cert: string; key: string } | undefined;
export function benchCert(): { cert: string; key: string } {
  if (!cert) {
    const dir = mkTemp('capc-bench-cert-');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        `${dir}/key.pem`,
        '-out',
        `${dir}/cert.pem`,
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
      ],
      { stdio: 'ignore' },
    );
    cert = { cert: `${dir}/cert.pem`, key: `${dir}/key.pem` };
  }
  return cert;
}

/** Run a command to completion; resolve with stdout, stderr and exit code. */
export function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 600000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} timed out`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}
