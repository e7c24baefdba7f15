// runtime/format/exchange.ts — how a decoded exchange reads: one text line
// (protocol, connection, client -> server, user@database, the statement on
// one line, rows/columns/status or the error, latency) and the JSON object
// of `{"type": "exchange"}` lines (every field, null when unknown). The line
// is ASCII (latency in `us`), so logs grep alike everywhere.
import type { Endpoint, Exchange } from '../protocols/exchange.js';
import { escapeText } from './payload.js';

/** Statement characters shown on a text line (the JSON has it whole). */
const TEXT_STATEMENT = 400;

/** `psql[812] 127.0.0.1:41712`, `[::1]:5432`, a unix socket's path; `?` when nothing is known. */
function endpoint(e: Endpoint): string {
  const parts: string[] = [];
  if (e.comm !== null) parts.push(`${escapeText(e.comm)}[${e.pid}]`);
  if (e.addr !== null)
    parts.push(e.port !== null ? `${e.addr.includes(':') ? `[${e.addr}]` : e.addr}:${e.port}` : escapeText(e.addr));
  return parts.join(' ') || '?';
}

/** One line, printable: control characters escaped, whitespace runs made one space. */
export function oneLine(s: string, max = TEXT_STATEMENT): string {
  const flat = s
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return flat.length > max ? `${flat.slice(0, max)}... (${s.length} chars)` : flat;
}

export function latencyText(ns: number | null): string {
  if (ns === null) return '-';
  if (ns < 1e6) return `${(ns / 1e3).toFixed(0)} us`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(ns < 1e7 ? 2 : 1)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

/** `3 rows, 2 cols, SELECT 3` / `error: 42P01: ...` / `not decoded: ...`. */
export function exchangeSummary(x: Exchange): string {
  const parts: string[] = [];
  if (x.notDecoded) parts.push(`not decoded: ${x.notDecoded}`);
  if (x.error) parts.push(`error ${x.error}`);
  else {
    if (x.rows !== null) parts.push(plural(x.rows, 'row'));
    if (x.columns !== null) parts.push(plural(x.columns, 'col'));
    if (x.status !== null) parts.push(x.status);
  }
  for (const n of x.notes ?? []) parts.push(n);
  return oneLine(parts.join(', '), 600);
}

export function whoText(x: Exchange): string {
  const ud =
    x.user !== null && x.database !== null
      ? `${x.user}@${x.database}`
      : (x.user ?? (x.database !== null ? `@${x.database}` : ''));
  return `${endpoint(x.client)} -> ${endpoint(x.server)}${ud ? ` ${ud}` : ''}`;
}

export function statementText(x: Exchange, max = TEXT_STATEMENT): string {
  if (x.statement === null) return `(${x.command})`;
  return oneLine(x.statement, max) + (x.statementTruncated ? ' ...(truncated)' : '');
}

/** `<=> postgres conn 3 psql[812] 127.0.0.1:41712 -> 127.0.0.1:5432 capc@shop: SELECT 1 [1 row, 1 col, SELECT 1] 420 us` */
export function exchangeLine(x: Exchange): string {
  return `<=> ${x.protocol} conn ${x.conn} ${whoText(x)}: ${statementText(x)} [${exchangeSummary(x)}] ${latencyText(x.latencyNs)}`;
}

/** The `data` of a JSON `exchange` line. */
export function exchangeJson(x: Exchange): Record<string, unknown> {
  const ep = (e: Endpoint) => ({ addr: e.addr, port: e.port, pid: e.pid, comm: e.comm });
  return {
    protocol: x.protocol,
    conn: x.conn,
    side: x.side,
    client: ep(x.client),
    server: ep(x.server),
    user: x.user,
    database: x.database,
    command: x.command,
    statement: x.statement,
    statement_truncated: !!x.statementTruncated,
    fingerprint: x.fingerprint,
    rows: x.rows,
    columns: x.columns,
    column_names: x.columnNames ?? null,
    status: x.status,
    error: x.error,
    not_decoded: x.notDecoded,
    notes: x.notes ?? [],
    details: x.details ?? {},
    latency_ns: x.latencyNs,
    start_ns: x.start,
    end_ns: x.end,
    bytes_in: x.bytesIn,
    bytes_out: x.bytesOut,
  };
}
