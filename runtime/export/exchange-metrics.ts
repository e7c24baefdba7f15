// runtime/export/exchange-metrics.ts — decoded exchanges as Prometheus
// families (`--metrics` with `--decode`): a count and a latency histogram per
// protocol, server and outcome. Labels stay bounded: the server is its
// address and port (`127.0.0.1:5432`, `unknown` while the connection's
// identity is not known), and never the client's (one per connection);
// after MAX_SERVERS distinct servers the rest share `other`. Pure: exchanges
// in, families out.
import type { Exchange } from '../events/exchange.js';
import type { Family, Sample } from './metric-families.js';

/** Distinct server labels kept; later servers are counted under `other`. */
export const MAX_SERVERS = 64;
/** Latency buckets, seconds (inclusive upper bounds). */
const BOUNDS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];

interface Series {
  labels: Record<string, string>;
  count: number;
  /** Exchanges with a latency, per bucket (not cumulative), and their sum. */
  buckets: number[];
  timed: number;
  sum: number;
}

function serverLabel(x: Exchange): string {
  const s = x.server;
  if (s.addr === null) return 'unknown';
  if (s.port === null) return s.addr;
  return s.addr.includes(':') ? `[${s.addr}]:${s.port}` : `${s.addr}:${s.port}`;
}

function outcome(x: Exchange): string {
  return x.notDecoded !== null ? 'not_decoded' : x.error !== null ? 'error' : 'ok';
}

export class ExchangeMetrics {
  private readonly series = new Map<string, Series>();
  private readonly servers = new Set<string>();

  add(x: Exchange): void {
    let server = serverLabel(x);
    if (!this.servers.has(server)) {
      if (this.servers.size < MAX_SERVERS) this.servers.add(server);
      else server = 'other';
    }
    const labels = { protocol: x.protocol, server, outcome: outcome(x) };
    const key = `${labels.protocol}\0${labels.server}\0${labels.outcome}`;
    let s = this.series.get(key);
    if (!s) {
      s = { labels, count: 0, buckets: BOUNDS.map(() => 0), timed: 0, sum: 0 };
      this.series.set(key, s);
    }
    s.count++;
    if (x.latencyNs !== null) {
      const sec = x.latencyNs / 1e9;
      const i = BOUNDS.findIndex((b) => sec <= b);
      if (i >= 0) s.buckets[i]!++;
      s.timed++;
      s.sum += sec;
    }
  }

  families(): Family[] {
    if (!this.series.size) return [];
    const all = [...this.series.values()];
    const hist: Sample[] = [];
    for (const s of all.filter((x) => x.timed)) {
      let cum = 0;
      BOUNDS.forEach((b, i) => {
        cum += s.buckets[i]!;
        hist.push({
          metricName: 'capc_exchange_duration_seconds_bucket',
          labels: { ...s.labels, le: String(b) },
          value: cum,
        });
      });
      hist.push({
        metricName: 'capc_exchange_duration_seconds_bucket',
        labels: { ...s.labels, le: '+Inf' },
        value: s.timed,
      });
      hist.push({ metricName: 'capc_exchange_duration_seconds_count', labels: s.labels, value: s.timed });
      hist.push({ metricName: 'capc_exchange_duration_seconds_sum', labels: s.labels, value: s.sum });
    }
    return [
      {
        name: 'capc_exchanges_total',
        help: 'decoded exchanges (--decode), by protocol, server (address:port) and outcome (ok, error, not_decoded)',
        type: 'counter',
        values: all.map((s) => ({ labels: s.labels, value: s.count })),
      },
      {
        name: 'capc_exchange_duration_seconds',
        help: "from a request's first byte to its response's last, from kernel timestamps",
        type: 'histogram',
        values: hist,
      },
    ];
  }
}
