// tests/differential/harness.ts — runs one program under bpftrace 0.17 and
// under capc on the same deterministic workload, and normalises both outputs
// the same way before they are compared. Each tool runs alone (never both at
// once), so neither sees the other's workload.
import { spawn } from 'node:child_process';
import { capcBin, repoRoot } from '../support/paths.js';
import { assertNothingLoaded, orphanIds } from '../support/capc.js';

export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Invocation {
  /** The program (-e). */
  program?: string;
  /** `-c` command. */
  command?: string;
  /** Extra flags for both tools: -f json, -q, -l PATTERN, -v. */
  flags?: string[];
  /** Extra flags for capc only (capc run's --duration ...). */
  capcFlags?: string[];
  /** Positional parameters after the program. */
  args?: string[];
  /** A program file given as the first argument (instead of -e). */
  programFile?: string;
  env?: NodeJS.ProcessEnv;
  /** Started before each tool; its pid replaces `$PID` in flags (for -p). */
  background?: { command: string[]; pidFlag: true };
  timeoutMs?: number;
}

function run(cmd: string, argv: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`${cmd} ${argv.join(' ')} timed out after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`),
      );
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function withBackground<T>(inv: Invocation, fn: (flags: string[]) => Promise<T>): Promise<T> {
  const flags = inv.flags ?? [];
  if (!inv.background) return fn(flags);
  const bg = spawn(inv.background.command[0]!, inv.background.command.slice(1), {
    stdio: 'ignore',
    env: { ...process.env, ...inv.env },
  });
  try {
    return await fn(flags.map((f) => (f === '$PID' ? String(bg.pid) : f)));
  } finally {
    bg.kill('SIGKILL');
    await new Promise((r) => (bg.exitCode !== null || bg.signalCode !== null ? r(undefined) : bg.once('exit', r)));
  }
}

/** `-e PROG args...` or `FILE args...`: the same for both tools. */
function programArgs(inv: Invocation): string[] {
  if (inv.programFile) return [inv.programFile, ...(inv.args ?? [])];
  return [...(inv.program !== undefined ? ['-e', inv.program] : []), ...(inv.args ?? [])];
}

/** bpftrace 0.17: `bpftrace [flags] [-c CMD] -e PROG [args]` (or `bpftrace -l ...` with no program). */
export function runBpftrace(inv: Invocation): Promise<ToolRun> {
  return withBackground(inv, (flags) => {
    const argv = [...flags, ...(inv.command ? ['-c', inv.command] : []), ...programArgs(inv)];
    return run('bpftrace', argv, inv.env ?? {}, inv.timeoutMs ?? 60000);
  });
}

/** capc: `capc run [flags] -e PROG [-c CMD] [args]`, or `capc -l ...` for listings. */
export async function runCapcTool(inv: Invocation): Promise<ToolRun> {
  const before = orphanIds();
  const r = await withBackground(inv, (flags) => {
    const list = flags.some((f) => /^-l/.test(f));
    const argv = list
      ? flags
      : ['run', ...flags, ...(inv.capcFlags ?? []), ...(inv.command ? ['-c', inv.command] : []), ...programArgs(inv)];
    return run(capcBin, argv, inv.env ?? {}, inv.timeoutMs ?? 60000);
  });
  await assertNothingLoaded(before);
  return r;
}

// ---- normalisation ----------------------------------------------------------

/**
 * Map lines with equal values, in a row, in a stable order: bpftrace sorts map
 * entries by value with std::sort, which leaves equal values in any order.
 */
export function sortTies(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  const valueOf = (l: string) => /^(@[A-Za-z0-9_]*)(?:\[.*\])?: (-?\d+)$/.exec(l);
  for (let i = 0; i < lines.length; ) {
    const m = valueOf(lines[i]!);
    if (!m) {
      out.push(lines[i++]!);
      continue;
    }
    let j = i + 1;
    while (j < lines.length) {
      const n = valueOf(lines[j]!);
      if (!n || n[1] !== m[1] || n[2] !== m[2]) break;
      j++;
    }
    out.push(...lines.slice(i, j).sort());
    i = j;
  }
  return out.join('\n');
}

/** JSON mode: bpftrace 0.17 prints two blank lines before the maps (capc prints none). */
export function dropBlankLines(text: string): string {
  return (
    text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .join('\n') + '\n'
  );
}

/** Same order for map lines that print keys with equal values, in JSON objects too. */
export function sortJsonTies(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      if (!line.startsWith('{"type": "map"')) return line;
      const m = /^(\{"type": "map", "data": \{"[^"]*": \{)(.*)(\}\}\})$/.exec(line);
      if (!m) return line;
      const items = m[2]!.split(/, (?=")/);
      const val = (s: string) => s.slice(s.lastIndexOf(': ') + 2);
      const out: string[] = [];
      for (let i = 0; i < items.length; ) {
        let j = i + 1;
        while (j < items.length && val(items[j]!) === val(items[i]!)) j++;
        out.push(...items.slice(i, j).sort());
        i = j;
      }
      return m[1] + out.join(', ') + m[3];
    })
    .join('\n');
}
