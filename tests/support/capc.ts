// tests/support/capc.ts — runs the real `capc` binary the way a user does and
// checks afterwards that it left nothing loaded in the kernel.
import { execFileSync, spawn } from 'node:child_process';
import assert from 'node:assert/strict';
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

/** Programs capc generates are named capc_p<N>; none may outlive the capc process. */
export function loadedCapcPrograms(): BpftoolProg[] {
  const out = execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' });
  const progs = JSON.parse(out || '[]') as BpftoolProg[];
  return progs.filter((p) => p.name?.startsWith('capc_'));
}

/** The kernel frees a program shortly after its last fd closes: allow it a moment. */
export async function assertNothingLoaded(): Promise<void> {
  let left = loadedCapcPrograms();
  for (let i = 0; i < 40 && left.length; i++) {
    await new Promise((r) => setTimeout(r, 50));
    left = loadedCapcPrograms();
  }
  assert.deepEqual(left.map((p) => `${p.name} (id ${p.id}, held by ${p.pids?.map((x) => `${x.comm}:${x.pid}`).join(',') ?? 'nobody'})`), [], 'capc programs left loaded in the kernel');
}
