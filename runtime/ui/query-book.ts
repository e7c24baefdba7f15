// runtime/ui/query-book.ts — what the Queries pane shows, kept in bounded
// memory: the latest exchanges (a ring), and per fingerprint the count,
// errors, exchanges not decoded, rows, and a latency histogram (buckets 5%
// wide) for p50/p99. Adding an exchange is O(1); the table is sorted only
// when drawn. Also the lines of the pane: the table, the live list, and one
// exchange in full.
import { exchangeSummary, latencyText, oneLine, statementText, whoText } from '../format/exchange.js';
import type { Exchange } from '../protocols/exchange.js';
import { fit, si } from './format.js';
import type { Line } from './lines.js';

const RECENT = 5000;
const MAX_GROUPS = 2000;
const OTHER = '(other fingerprints)';
/** Latency buckets: ns → floor(log(ns) / log(1.05)). */
const LOG_STEP = Math.log(1.05);

interface Group {
  key: string;
  protocol: string;
  count: number;
  errors: number;
  notDecoded: number;
  rows: number;
  latencies: Map<number, number>;
  timed: number;
}

export interface FingerprintRow {
  key: string;
  protocol: string;
  count: number;
  errors: number;
  notDecoded: number;
  rows: number;
  p50: number | null;
  p99: number | null;
}

export interface QueryItem {
  seq: number;
  x: Exchange;
}

export class QueryBook {
  private readonly recent: (QueryItem | undefined)[] = new Array<QueryItem | undefined>(RECENT);
  private readonly groups = new Map<string, Group>();
  /** Exchanges added since the start. */
  seq = 0;
  errors = 0;
  notDecoded = 0;

  add(x: Exchange): void {
    this.recent[this.seq % RECENT] = { seq: this.seq, x };
    this.seq++;
    if (x.error) this.errors++;
    if (x.notDecoded) this.notDecoded++;
    let key = `${x.protocol}: ${x.fingerprint ?? `(${x.command})`}`;
    let g = this.groups.get(key);
    if (!g && this.groups.size >= MAX_GROUPS) {
      key = OTHER;
      g = this.groups.get(key);
    }
    if (!g) {
      g = { key, protocol: x.protocol, count: 0, errors: 0, notDecoded: 0, rows: 0, latencies: new Map(), timed: 0 };
      this.groups.set(key, g);
    }
    g.count++;
    if (x.error) g.errors++;
    if (x.notDecoded) g.notDecoded++;
    g.rows += x.rows ?? 0;
    if (x.latencyNs !== null && x.latencyNs > 0) {
      const b = Math.floor(Math.log(x.latencyNs) / LOG_STEP);
      g.latencies.set(b, (g.latencies.get(b) ?? 0) + 1);
      g.timed++;
    }
  }

  /** The latest exchanges, newest first, at most `n`. */
  latest(n: number): QueryItem[] {
    const out: QueryItem[] = [];
    for (let s = this.seq - 1; s >= 0 && s >= this.seq - RECENT && out.length < n; s--)
      out.push(this.recent[s % RECENT]!);
    return out;
  }

  get(seq: number): Exchange | undefined {
    const it = seq >= this.seq - RECENT && seq < this.seq ? this.recent[seq % RECENT] : undefined;
    return it?.seq === seq ? it.x : undefined;
  }

  /** Every fingerprint, most frequent first. */
  table(): FingerprintRow[] {
    return [...this.groups.values()]
      .map((g) => ({
        key: g.key,
        protocol: g.protocol,
        count: g.count,
        errors: g.errors,
        notDecoded: g.notDecoded,
        rows: g.rows,
        p50: percentile(g, 0.5),
        p99: percentile(g, 0.99),
      }))
      .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1));
  }
}

function percentile(g: Group, p: number): number | null {
  if (!g.timed) return null;
  const want = Math.max(1, Math.ceil(p * g.timed));
  let seen = 0;
  for (const b of [...g.latencies.keys()].sort((x, y) => x - y)) {
    seen += g.latencies.get(b)!;
    if (seen >= want) return Math.exp((b + 0.5) * LOG_STEP);
  }
  return null;
}

export const FINGERPRINT_HEADER = ' COUNT  ERR    P50     P99     ROWS  FINGERPRINT';

export function fingerprintLines(rows: FingerprintRow[], width: number): Line[] {
  return rows.map((r) => {
    const err = r.errors + r.notDecoded;
    return {
      text: fit(
        `${si(r.count).padStart(6)} ${(err ? si(err) : '-').padStart(4)} ${latencyText(r.p50).padStart(8)} ${latencyText(r.p99).padStart(8)} ${si(r.rows).padStart(6)}  ${oneLine(r.key, 2000)}`,
        width,
      ),
      tone: err ? 'loss' : 'plain',
    };
  });
}

export function queryRow(it: QueryItem, selected: boolean, width: number): Line {
  const x = it.x;
  return {
    text: fit(
      `${selected ? '▸' : ' '} ${latencyText(x.latencyNs).padStart(8)} conn ${x.conn} ${whoText(x)}: ${statementText(x, 300)} [${exchangeSummary(x)}]`,
      width,
    ),
    tone: x.error || x.notDecoded ? 'loss' : 'plain',
  };
}

/** One exchange, every field, for Enter. */
export function exchangeDetail(x: Exchange): Line[] {
  const ep = (e: Exchange['client']) =>
    `${e.comm !== null ? `${e.comm}[${e.pid}]` : 'not traced'} ${e.addr !== null ? `${e.addr}:${e.port ?? ''}` : '(address not known)'}`;
  const lines: [string, string | number | null | undefined][] = [
    ['protocol', `${x.protocol} (captured on the ${x.side} side, conn ${x.conn})`],
    ['client', ep(x.client)],
    ['server', ep(x.server)],
    ['user', x.user],
    ['database', x.database],
    ['command', x.command],
    ['fingerprint', x.fingerprint],
    ['rows', x.rows],
    [
      'columns',
      x.columns === null ? null : `${x.columns}${x.columnNames?.length ? `: ${x.columnNames.join(', ')}` : ''}`,
    ],
    ['status', x.status],
    ['error', x.error],
    ['not decoded', x.notDecoded],
    ['notes', x.notes?.join('; ')],
    ['latency', latencyText(x.latencyNs)],
    ['bytes', `${x.bytesOut} sent by the client, ${x.bytesIn} by the server`],
    ...Object.entries(x.details ?? {}).map(([k, v]) => [k.replace(/_/g, ' '), v] as [string, string | number]),
  ];
  const out: Line[] = lines
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => ({
      text: `${k.padEnd(12)} ${oneLine(String(v), 4000)}`,
      tone: k === 'error' || k === 'not decoded' ? 'loss' : 'plain',
    }));
  out.push({ text: `statement${x.statementTruncated ? ' (truncated)' : ''}:`, tone: 'dim' });
  for (const l of (x.statement ?? '(none)').split('\n')) out.push({ text: oneLine(l, 100000) || ' ', tone: 'out' });
  return out;
}
