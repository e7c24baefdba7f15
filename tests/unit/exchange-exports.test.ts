// tests/unit/exchange-exports.test.ts — decoded exchanges in the exporters:
// an OTLP log record with OpenTelemetry's semantic conventions (client.*,
// server.*, network.peer.*, db.*, http.*) and addresses left out while the
// identity is unknown; Prometheus families by protocol, server and outcome,
// whose server label stays bounded and never names a client's port.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Exchange } from '../../runtime/events/exchange.js';
import { ExchangeMetrics, MAX_SERVERS } from '../../runtime/export/exchange-metrics.js';
import { exchangeLogRecord } from '../../runtime/export/otlp-data.js';

function exchange(o: Partial<Exchange> = {}): Exchange {
  return {
    protocol: 'postgres',
    conn: 3,
    side: 'client',
    client: { addr: '127.0.0.1', port: 41712, pid: 812, comm: 'psql' },
    server: { addr: '127.0.0.1', port: 5432, pid: null, comm: null },
    user: 'capc',
    database: 'shop',
    command: 'query',
    statement: 'SELECT 1',
    fingerprint: 'SELECT ?',
    rows: 1,
    columns: 1,
    status: 'SELECT 1',
    error: null,
    notDecoded: null,
    start: 1_000n,
    end: 421_000n,
    bytesOut: 14,
    bytesIn: 60,
    latencyNs: 420_000,
    ...o,
  };
}

test('an exchange as an OTLP log record: semantic-convention attributes, the statement as body', () => {
  const r = exchangeLogRecord(exchange(), (t) => t + 1_000_000_000n);
  assert.equal(r.body, 'SELECT 1');
  assert.deepEqual(r.timestamp, [1, 1000]);
  const a = r.attributes!;
  assert.deepEqual(
    [a['client.address'], a['client.port'], a['server.address'], a['server.port']],
    ['127.0.0.1', 41712, '127.0.0.1', 5432],
  );
  // The traced process is the client: its peer is the server.
  assert.deepEqual(
    [a['network.peer.address'], a['network.peer.port'], a['network.local.port'], a['network.transport']],
    ['127.0.0.1', 5432, 41712, 'tcp'],
  );
  assert.deepEqual(
    [a['process.pid'], a['process.command'], a['db.system.name'], a['db.namespace'], a['db.query.text']],
    [812, 'psql', 'postgresql', 'shop', 'SELECT 1'],
  );
  assert.deepEqual([a['capc.latency_ns'], a['capc.rows'], a['capc.user']], [420_000, 1, 'capc']);
  // A server's exchange whose client capc also traced; HTTP attributes.
  const s = exchangeLogRecord(
    exchange({
      protocol: 'http',
      side: 'server',
      command: 'GET',
      statement: 'GET /x',
      status: '404 Not Found',
      error: '404 Not Found',
      client: { addr: '::1', port: 50000, pid: 7, comm: 'curl' },
      server: { addr: '::1', port: 8080, pid: 9, comm: 'nginx' },
    }),
    (t) => t,
  ).attributes!;
  assert.deepEqual(
    [s['network.peer.address'], s['network.peer.port'], s['process.command'], s['capc.client.command']],
    ['::1', 50000, 'nginx', 'curl'],
  );
  assert.deepEqual(
    [s['http.request.method'], s['http.response.status_code'], s['error.type']],
    ['GET', 404, '404 Not Found'],
  );
  assert.equal(s['db.system.name'], undefined);
  // Unknown identity: no address attributes at all (never a placeholder).
  const u = exchangeLogRecord(
    exchange({
      client: { addr: null, port: null, pid: 812, comm: 'psql' },
      server: { addr: null, port: null, pid: null, comm: null },
    }),
    (t) => t,
  ).attributes!;
  assert.deepEqual(
    Object.keys(u).filter((k) => /address|port|transport/.test(k)),
    [],
  );
});

test('Prometheus: exchanges by protocol, server and outcome; the server label is bounded', () => {
  const m = new ExchangeMetrics();
  m.add(exchange());
  m.add(exchange({ client: { addr: '127.0.0.1', port: 41713, pid: 813, comm: 'psql' }, latencyNs: 2_000_000 }));
  m.add(exchange({ error: '42P01: relation "x" does not exist' }));
  m.add(exchange({ server: { addr: null, port: null, pid: null, comm: null }, latencyNs: null }));
  const [count, hist] = m.families();
  assert.deepEqual(
    count!.values.map((v) => [v.labels.server, v.labels.outcome, v.value]),
    [
      ['127.0.0.1:5432', 'ok', 2],
      ['127.0.0.1:5432', 'error', 1],
      ['unknown', 'ok', 1],
    ],
  );
  // Two clients (ports 41712, 41713) share one series: no label says which.
  assert.ok(count!.values.every((v) => !Object.values(v.labels).some((x) => x.includes('4171'))));
  const ok = hist!.values.filter((v) => v.labels.outcome === 'ok' && v.labels.server === '127.0.0.1:5432');
  const le = (b: string) => ok.find((v) => v.labels.le === b)?.value;
  assert.deepEqual([le('0.0005'), le('0.001'), le('0.005'), le('+Inf')], [1, 1, 2, 2]);
  const sum = ok.find((v) => v.metricName === 'capc_exchange_duration_seconds_sum')!.value;
  assert.ok(Math.abs(sum - 0.00242) < 1e-12, String(sum));
  // Only `unknown`'s exchange had no latency: it is counted, not timed.
  assert.equal(hist!.values.filter((v) => v.labels.server === 'unknown').length, 0);
  // Past MAX_SERVERS distinct servers, the rest are `other`.
  const many = new ExchangeMetrics();
  for (let i = 0; i < MAX_SERVERS + 10; i++)
    many.add(exchange({ server: { addr: `10.0.${i >> 8}.${i & 255}`, port: 5432, pid: null, comm: null } }));
  const servers = new Set(many.families()[0]!.values.map((v) => v.labels.server));
  assert.equal(servers.size, MAX_SERVERS + 1);
  assert.ok(servers.has('other'));
});
