// tests/support/decode-run.ts — runs `capc run --decode` on the TLS capture
// one-liner while a workload talks to a real server, and returns the
// exchanges (JSON lines) it printed; the capture kept to one server's
// connections by their identity, and what an exchange seen from both ends
// looks like.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { runCapc, type CapcResult } from './capc.js';

export const TLS_CAPTURE =
  'uprobe:libssl:SSL_write, uprobe:libssl:SSL_read, uprobe:libssl:SSL_write_ex, uprobe:libssl:SSL_read_ex accumulate(conn, 1024) -> ringbuf';

/**
 * The TLS capture kept, in the kernel, to the connections of the test's own
 * server (its port is free and its own): by the connection's identity, the
 * clients' (`rport`), the server's (`lport`) or both. `fd >= 0` keeps only
 * connections whose socket is known (a predicate on the identity passes while
 * it is not: docs/language.md), so other work's TLS on the machine stays out.
 */
export function tlsCaptureOf(port: number, ends: 'both' | 'client' | 'server' = 'both'): string {
  const on = { both: `lport == ${port} || rport == ${port}`, client: `rport == ${port}`, server: `lport == ${port}` }[
    ends
  ];
  return TLS_CAPTURE.replace(' accumulate(', ` /fd >= 0 && (${on})/ accumulate(`);
}

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
): Promise<{
  result: CapcResult;
  exchanges: JsonExchange[];
  lines: { type: string; data: unknown }[];
  summary: { exchanges: number; paired: number; not_decoded: number } | undefined;
}> {
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
  return {
    result,
    lines,
    exchanges: lines.filter((l) => l.type === 'exchange').map((l) => l.data as JsonExchange),
    summary: lines.find((l) => l.type === 'decode_summary')?.data as
      | { exchanges: number; paired: number; not_decoded: number }
      | undefined,
  };
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

/**
 * Both ends of one conversation were captured: each exchange is shown once,
 * from the client (its local address and an ephemeral port, the server's
 * address and port), with the server's process too.
 */
export function assertClientSeen(x: JsonExchange, port: number, clients: string[], server: string): void {
  const what = JSON.stringify(x);
  assert.equal(x.side, 'client', what);
  assert.ok(clients.includes(x.client.comm!), `client comm: ${what}`);
  assert.equal(x.client.addr, '127.0.0.1', what);
  assert.ok(typeof x.client.port === 'number' && x.client.port !== port, `client port: ${what}`);
  assert.deepEqual([x.server.addr, x.server.port, x.server.comm], ['127.0.0.1', port, server], what);
  assert.ok(typeof x.server.pid === 'number' && typeof x.client.pid === 'number', what);
}
