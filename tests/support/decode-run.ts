// tests/support/decode-run.ts — runs `capc run --decode` on the TLS capture
// one-liner while a workload talks to a real server, and returns the
// exchanges (JSON lines) it printed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { runCapc, type CapcResult } from './capc.js';

export const TLS_CAPTURE =
  'uprobe:libssl:SSL_write, uprobe:libssl:SSL_read, uprobe:libssl:SSL_write_ex, uprobe:libssl:SSL_read_ex accumulate(conn, 1024) -> ringbuf';

export interface JsonExchange {
  protocol: string;
  conn: number;
  side: 'client' | 'server';
  client: { addr: string | null; port: number | null; pid: number | null; comm: string | null };
  server: { addr: string | null; port: number | null; pid: number | null; comm: string | null };
  user: string | null;
  database: string | null;
  command: string;
  statement: string | null;
  fingerprint: string | null;
  rows: number | null;
  columns: number | null;
  column_names: string[] | null;
  status: string | null;
  error: string | null;
  not_decoded: string | null;
  notes: string[];
  latency_ns: number | null;
  bytes_in: number;
  bytes_out: number;
}

/** capc (JSON output) with `extra` flags around `work`; stopped with SIGINT after it. */
export async function decodeRun(
  extra: string[],
  work: () => Promise<void>,
  o: { program?: string; timeoutMs?: number } = {},
): Promise<{ result: CapcResult; exchanges: JsonExchange[]; lines: { type: string; data: unknown }[] }> {
  const result = await runCapc(['run', '-f', 'json', ...extra, '-e', o.program ?? TLS_CAPTURE], {
    timeoutMs: o.timeoutMs ?? 120000,
    onAttached: async (pid) => {
      await work();
      await new Promise((r) => setTimeout(r, 400));
      process.kill(pid, 'SIGINT');
    },
  });
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; data: unknown });
  return { result, lines, exchanges: lines.filter((l) => l.type === 'exchange').map((l) => l.data as JsonExchange) };
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = execFile(cmd, args, { env: { ...process.env, ...env }, encoding: 'utf8' }, (err, out, errOut) =>
      err ? reject(new Error(`${cmd}: ${errOut || err.message}`)) : resolve(out),
    );
    c.stdin!.end(input ?? '');
  });
}

/** The exchanges of one side whose statement contains `marker`. */
export function marked(xs: JsonExchange[], marker: string, side: 'client' | 'server'): JsonExchange[] {
  return xs.filter((x) => x.side === side && x.statement?.includes(marker));
}
