// tests/support/capc.ts — runs the real `capc` binary the way a user does and
// checks afterwards that it left nothing loaded in the kernel.
import { execFileSync, spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { capcBin, repoRoot } from './paths.js';

export interface CapcResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number;
}

export interface CapcOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Called with the child once it printed __CAPC_ATTACHED__ on stderr. */
  onAttached?: (pid: number) => void | Promise<void>;
  checkLeaks?: boolean;
}

export function runCapc(args: string[], opts: CapcOptions = {}): Promise<CapcResult> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, NO_COLOR: '1', ...(opts.onAttached ? { CAPC_NOTIFY_ATTACHED: '1' } : {}), ...opts.env };
    const child = spawn(capcBin, args, { cwd: repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let notified = false;
    let failure: unknown;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!notified && opts.onAttached && stderr.includes('__CAPC_ATTACHED__')) {
        notified = true;
        Promise.resolve(opts.onAttached(child.pid!)).catch((e) => {
          // The workload failed: stop capc first, so nothing outlives the test.
          failure = e;
          child.kill('SIGINT');
        });
      }
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`capc ${args.join(' ')} timed out after ${opts.timeoutMs ?? 60000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 60000);
    child.on('exit', async (code, signal) => {
      clearTimeout(timer);
      const result = { code, signal, stdout, stderr: stderr.replace(/__CAPC_ATTACHED__\n/g, ''), pid: child.pid! };
      try {
        if (opts.checkLeaks !== false) await assertNothingLoaded();
        if (failure) reject(failure);
        else resolve(result);
      } catch (e) {
        reject(failure ?? e);
      }
    });
  });
}

interface BpftoolProg { id: number; name?: string; pids?: { pid: number; comm: string }[] }

/**
 * Program ids some live process holds, through a program fd or a link fd
 * (/proc/PID/fdinfo shows `prog_id:` for both). bpftool only lists holders
 * when it was built with skeletons, which Debian 12's bpftool 7.1 is not.
 */
function heldProgramIds(): Set<number> {
  const held = new Set<number>();
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fdinfo`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      try {
        const m = /^prog_id:\s*(\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
        if (m) held.add(Number(m[1]));
      } catch {
        /* closed meanwhile */
      }
    }
  }
  return held;
}

/** capc's programs (named capc_*) that no live process holds: leaked (pinned, or held by a dead session). */
export function orphanedCapcPrograms(): BpftoolProg[] {
  const out = execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' });
  const progs = (JSON.parse(out || '[]') as BpftoolProg[]).filter((p) => p.name?.startsWith('capc_') && !(p.pids ?? []).length);
  if (!progs.length) return progs;
  const held = heldProgramIds();
  return progs.filter((p) => !held.has(p.id));
}

/** Programs held by a given process. */
export function programsHeldBy(pid: number): BpftoolProg[] {
  const progs = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' }) || '[]') as BpftoolProg[];
  return progs.filter((p) => (p.pids ?? []).some((x) => x.pid === pid));
}

/**
 * After a capc process exits nothing of it may stay loaded. Other capc sessions
 * (tests running beside this one) hold their own programs and are left alone;
 * a program nobody holds is a leak. The kernel frees a program shortly after
 * its last fd closes, so this waits up to 2 s.
 */
export async function assertNothingLoaded(): Promise<void> {
  let left = orphanedCapcPrograms();
  for (let i = 0; i < 40 && left.length; i++) {
    await new Promise((r) => setTimeout(r, 50));
    left = orphanedCapcPrograms();
  }
  assert.deepEqual(left.map((p) => `${p.name} (id ${p.id})`), [], 'capc programs left loaded in the kernel with no process holding them');
}
