// tests/support/capc.ts — runs the real `capc` binary the way a user does and
// checks afterwards that it left nothing loaded in the kernel.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import assert from 'node:assert/strict';
import { capcBin, repoRoot } from './paths.js';
import { readySaid } from './ready.js';

export interface CapcResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number;
  /** Kernel ids of the programs this run loaded. */
  programIds: number[];
}

export interface CapcOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Called with the child once it said `attached` on its ready descriptor (--ready-fd, here CAPC_READY_FD=3). */
  onAttached?: (pid: number) => void | Promise<void>;
  checkLeaks?: boolean;
  /** Called with every chunk of stdout as it arrives. */
  onStdout?: (chunk: string) => void;
  /** Called with everything on stderr so far, each time more arrives. */
  onStderr?: (all: string) => void;
  /** A command capc runs under (e.g. `ip netns exec NS`); it must exec capc, keeping its pid. */
  wrap?: string[];
}

export function runCapc(args: string[], opts: CapcOptions = {}): Promise<CapcResult> {
  return new Promise((resolve, reject) => {
    // CAPC_READY_FD (--ready-fd's environment form) works for every command line the tests give, run or drop-in.
    const env = { ...process.env, NO_COLOR: '1', CAPC_READY_FD: '3', ...opts.env };
    const [cmd, ...argv] = [...(opts.wrap ?? []), capcBin, ...args];
    const child = spawn(cmd!, argv, { cwd: repoRoot, env, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let ready = '';
    let notified = false;
    let failure: unknown;
    child.stdout.on('data', (d) => {
      stdout += d;
      opts.onStdout?.(d.toString());
    });
    child.stderr.on('data', (d) => {
      stderr += d;
      opts.onStderr?.(stderr);
    });
    (child.stdio[3] as Readable).on('data', (d) => {
      ready += d;
      if (!notified && opts.onAttached && readySaid(ready).attached) {
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
      reject(
        new Error(
          `capc ${args.join(' ')} timed out after ${opts.timeoutMs ?? 60000} ms\nstdout: ${stdout}\nstderr: ${stderr}`,
        ),
      );
    }, opts.timeoutMs ?? 60000);
    child.on('exit', async (code, signal) => {
      clearTimeout(timer);
      const ids = readySaid(ready).ids;
      const result = {
        code,
        signal,
        stdout,
        stderr,
        pid: child.pid!,
        programIds: ids,
      };
      try {
        if (opts.checkLeaks !== false) await assertUnloaded(ids);
        if (failure) reject(failure);
        else resolve(result);
      } catch (e) {
        reject(failure ?? e);
      }
    });
  });
}

/** Ids of loaded BPF programs named capc_*. */
export function loadedCapcProgramIds(): Set<number> {
  const progs = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' }) || '[]') as {
    id: number;
    name?: string;
  }[];
  return new Set(progs.filter((p) => p.name?.startsWith('capc_')).map((p) => p.id));
}

interface BpftoolProg {
  id: number;
  name?: string;
  pids?: { pid: number; comm: string }[];
}

/**
 * Program ids some live process holds, through a program fd or a link fd
 * (both show `prog_id:` in /proc/PID/fdinfo). bpftool's `pids` needs its own
 * BPF iterator, which does not work on every machine; fdinfo always does.
 */
function heldProgramIds(): Set<number> {
  const held = new Set<number>();
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fdinfo`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^prog_id:\s*(\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
        if (m) held.add(Number(m[1]));
      } catch {
        /* the fd closed meanwhile */
      }
    }
  }
  return held;
}

/** capc's programs (named capc_*) that no live process holds: leaked (pinned, or held by a dead session). */
export function orphanedCapcPrograms(): BpftoolProg[] {
  const out = execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' });
  const progs = (JSON.parse(out || '[]') as BpftoolProg[]).filter((p) => p.name?.startsWith('capc_'));
  if (!progs.length) return [];
  const held = heldProgramIds();
  return progs.filter((p) => !held.has(p.id) && !(p.pids ?? []).length);
}

/** Ids of capc programs nobody seems to hold, now. */
export function orphanIds(): Set<number> {
  return new Set(orphanedCapcPrograms().map((p) => p.id));
}

/**
 * After a capc process exits, none of the programs it loaded may stay loaded.
 * Programs are named by their kernel ids (capc reports them on its ready
 * descriptor), so other sessions running beside the test do
 * not matter. Detaching tracepoints waits for RCU (~70 ms each here), so the
 * kernel may take a few seconds to free a large session.
 */
export async function assertUnloaded(ids: number[]): Promise<void> {
  if (!ids.length) return;
  let left = ids.filter((id) => loadedCapcProgramIds().has(id));
  for (let i = 0; i < 200 && left.length; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const now = loadedCapcProgramIds();
    left = left.filter((id) => now.has(id));
  }
  assert.deepEqual(left, [], 'programs of an exited capc are still loaded in the kernel');
}

/**
 * After a capc process exits nothing of it may stay loaded. Other capc sessions
 * (tests running beside this one) hold their own programs and are left alone;
 * a program nobody holds is a leak. Programs that already looked unheld before
 * the run (`before`: another session whose programs bpftool cannot attribute
 * to a pid, e.g. held only through links) are not this run's. The kernel frees
 * a program shortly after its last fd closes, so this waits up to 2 s.
 */
export async function assertNothingLoaded(before: Set<number> = new Set()): Promise<void> {
  const fresh = () => orphanedCapcPrograms().filter((p) => !before.has(p.id));
  let left = fresh();
  for (let i = 0; i < 40 && left.length; i++) {
    await new Promise((r) => setTimeout(r, 50));
    left = fresh();
  }
  assert.deepEqual(left, [], 'programs of an exited capc are still loaded in the kernel');
}
