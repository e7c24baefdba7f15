// runtime/export/otlp-data.ts — capc's events and maps in OpenTelemetry's
// shapes, as plain data (pure, unit-tested): one log record per event
// (printf text, captured bytes with the connection's attributes, losses as
// warnings, decoded exchanges when the decoders produce them), and one OTLP
// metric per map: count/sum -> cumulative sums, plain values/min/max/
// strings -> gauges, avg/stats -> a sum and a count, hist/lhist ->
// explicit-bucket histograms with the same inclusive upper bounds as the
// Prometheus `le` labels.
import { SeverityNumber, type LogAttributes, type LogRecord } from '@opentelemetry/api-logs';
import type { HrTime } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import type { CapEvent, ConnInfo, MapSnapshot } from '../events/model.js';
import type { Endpoint as ExchangeEnd, Exchange } from '../events/exchange.js';
import { DIR_NAME } from '../format/payload.js';
import { addrText, connEndpoints, identityKey } from './endpoints.js';
import { bucketBounds, labelValue, mapMetricName } from './metric-families.js';

export const hrTime = (ns: bigint): HrTime => [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];

/** A connection's attributes, built once per connection (every captured batch carries them). */
const connCache = new WeakMap<ConnInfo, { key: string; attrs: LogAttributes }>();

function connAttributes(c: ConnInfo): LogAttributes {
  const key = `${c.comm}|${identityKey(c)}`;
  const hit = connCache.get(c);
  if (hit && hit.key === key) return hit.attrs;
  const attrs = buildConnAttributes(c);
  connCache.set(c, { key, attrs });
  return attrs;
}

function buildConnAttributes(c: ConnInfo): LogAttributes {
  const ep = connEndpoints(c);
  const a: LogAttributes = {
    'capc.conn.id': c.id,
    'capc.conn.key': `0x${c.key.toString(16)}`,
    'capc.probe': c.probe,
    'process.pid': c.pid,
    'process.command': c.comm,
  };
  if (ep.real) {
    a['network.local.address'] = addrText(ep.local.addr);
    a['network.local.port'] = ep.local.port;
    a['network.peer.address'] = addrText(ep.peer.addr);
    a['network.peer.port'] = ep.peer.port;
  }
  return a;
}

/** Objects flattened into dotted attribute names (`client.addr`), for events capc does not know yet. */
function flatten(prefix: string, v: unknown, out: LogAttributes): void {
  if (v === null || v === undefined) return;
  if (typeof v === 'bigint') out[prefix] = v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[prefix] = v;
  else if (v instanceof Uint8Array) out[prefix] = v;
  else if (Array.isArray(v)) out[prefix] = v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x)));
  else if (typeof v === 'object')
    for (const [k, x] of Object.entries(v)) flatten(prefix ? `${prefix}.${k}` : k, x, out);
}

/**
 * The log record for an event, or undefined for events that are not
 * exported (attaching, stopping, final maps: those go out as metrics).
 * `wall` turns a kernel (CLOCK_MONOTONIC) timestamp into Unix time.
 */
export function eventLogRecord(e: CapEvent, wall: (mono: bigint) => bigint): LogRecord | undefined {
  const warn = { severityNumber: SeverityNumber.WARN, severityText: 'WARN' };
  const info = { severityNumber: SeverityNumber.INFO, severityText: 'INFO' };
  switch (e.kind) {
    case 'printf':
    case 'time':
    case 'join':
      return { ...info, body: e.text.toString('utf8'), attributes: { 'capc.event': e.kind } };
    case 'value':
      return { ...info, body: e.text.toString('utf8'), attributes: { 'capc.event': 'value' } };
    case 'capture':
      return {
        ...info,
        timestamp: hrTime(wall(e.ts)),
        body: new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.length),
        attributes: {
          'capc.event': 'capture',
          ...connAttributes(e.conn),
          'thread.id': e.tid,
          'capc.direction': DIR_NAME[e.dir],
          'capc.offset': e.offset,
          'capc.len': e.data.length,
        },
      };
    case 'capture-loss':
      return {
        ...warn,
        body: `${e.bytes} bytes lost at offset ${e.offset}`,
        attributes: {
          'capc.event': 'capture_loss',
          ...connAttributes(e.conn),
          'capc.direction': DIR_NAME[e.dir],
          'capc.offset': e.offset,
          'capc.lost_bytes': e.bytes,
        },
      };
    case 'capture-end':
      return {
        ...info,
        body: e.closed ? 'closed' : e.exited ? 'ended: its process exited' : 'still open at exit',
        attributes: {
          'capc.event': 'capture_end',
          ...connAttributes(e.conn),
          'capc.egress_bytes': e.bytes[0],
          'capc.ingress_bytes': e.bytes[1],
          'capc.egress_lost': e.lost[0],
          'capc.ingress_lost': e.lost[1],
        },
      };
    case 'exchange':
      return exchangeLogRecord(e.x, wall);
    case 'lost':
      return {
        ...warn,
        body: `${e.count} events lost: ring buffer ${e.ring} was full`,
        attributes: { 'capc.event': 'lost_events', 'capc.ring': e.ring, 'capc.count': e.count },
      };
    case 'map-full':
      return {
        ...warn,
        body: `${e.count} updates of ${e.map} failed: the map is full`,
        attributes: { 'capc.event': 'map_full', 'capc.map': e.map, 'capc.count': e.count },
      };
    case 'loop-limit':
      return {
        ...warn,
        body: `a while loop stopped ${e.count} times at its limit`,
        attributes: { 'capc.event': 'loop_limit', 'capc.where': e.where, 'capc.count': e.count },
      };
    case 'export-loss':
      // Its own losses are not sent through itself (they would be lost the same way).
      if (e.sink === 'otlp') return undefined;
      return {
        ...warn,
        body: `${e.sink}: ${e.count} ${e.unit} not exported`,
        attributes: { 'capc.event': 'export_loss', 'capc.sink': e.sink, 'capc.count': e.count, 'capc.unit': e.unit },
      };
    case 'capture-summary': {
      const attributes: LogAttributes = { 'capc.event': 'capture_summary' };
      flatten('capc', { ...e, kind: undefined }, attributes);
      return { ...info, body: 'capture summary', attributes };
    }
    case 'maps':
    case 'attaching':
    case 'detaching':
    case 'stopping':
      return undefined;
    default: {
      // Events added later: every field as an attribute.
      const x = e as { kind: string };
      const attributes: LogAttributes = { 'capc.event': x.kind };
      flatten('', { ...x, kind: undefined }, attributes);
      return { ...info, body: x.kind, attributes };
    }
  }
}

function keyAttributes(m: MapSnapshot, key: MapSnapshot['entries'][number]['key']): Record<string, string> {
  const out: Record<string, string> = { 'capc.map': m.name };
  if (key.length === 1) out.key = labelValue(key[0]!);
  else key.forEach((k, i) => (out[`key${i}`] = labelValue(k)));
  return out;
}

/** One OTLP metric per map (empty maps included: their series simply has no points). */
export function mapMetric(m: MapSnapshot, start: HrTime, end: HrTime): MetricData {
  const name = mapMetricName(m.name);
  const descriptor = { name, description: `capc map ${m.name} (${m.kind})`, unit: '', valueType: 1 /* DOUBLE */ };
  const point = <T>(key: MapSnapshot['entries'][number]['key'], value: T, extra: Record<string, string> = {}) =>
    ({ startTime: start, endTime: end, attributes: { ...keyAttributes(m, key), ...extra }, value }) as DataPoint<T>;
  const cumulative = AggregationTemporality.CUMULATIVE;
  switch (m.kind) {
    case 'count':
    case 'sum':
      return {
        descriptor,
        aggregationTemporality: cumulative,
        dataPointType: DataPointType.SUM,
        isMonotonic: m.kind === 'count',
        dataPoints: m.entries.map((e) => point(e.key, Number(e.value))),
      };
    case 'hist':
    case 'lhist':
      return {
        descriptor,
        aggregationTemporality: cumulative,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: m.entries.map((e) => {
          const counts = (e.buckets ?? []).map(Number);
          const bounds = bucketBounds(m, counts.length)
            .slice(0, counts.length - 1)
            .map(Number);
          const h: Histogram = { buckets: { boundaries: bounds, counts }, count: Number(e.value) };
          return point(e.key, h);
        }),
      };
    case 'avg':
    case 'stats':
      // OTLP has no two-number gauge: the total as a sum, the count as an attribute-free companion metric.
      return {
        descriptor: { ...descriptor, description: `${descriptor.description}: total; ${name}_count has the count` },
        aggregationTemporality: cumulative,
        dataPointType: DataPointType.SUM,
        isMonotonic: false,
        dataPoints: m.entries.map((e) => point(e.key, Number(e.avg?.total ?? 0n))),
      };
    case 'str':
      return {
        descriptor,
        aggregationTemporality: cumulative,
        dataPointType: DataPointType.GAUGE,
        dataPoints: m.entries.map((e) => point(e.key, 1, { value: e.str ? labelValue(e.str) : '' })),
      };
    default:
      return {
        descriptor,
        aggregationTemporality: cumulative,
        dataPointType: DataPointType.GAUGE,
        dataPoints: m.entries.map((e) => point(e.key, Number(e.value))),
      };
  }
}

/** Every map's metrics (avg/stats maps also get `_count`). */
export function mapMetrics(maps: MapSnapshot[], start: HrTime, end: HrTime): MetricData[] {
  const out: MetricData[] = [];
  for (const m of maps) {
    out.push(mapMetric(m, start, end));
    if (m.kind === 'avg' || m.kind === 'stats') {
      const name = `${mapMetricName(m.name)}_count`;
      out.push({
        descriptor: { name, description: `capc map ${m.name}: count`, unit: '', valueType: 1 },
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.SUM,
        isMonotonic: false,
        dataPoints: m.entries.map((e) => ({
          startTime: start,
          endTime: end,
          attributes: keyAttributes(m, e.key),
          value: Number(e.avg?.count ?? 0n),
        })),
      });
    }
  }
  return out;
}

/** OpenTelemetry's names for the database systems capc decodes (db.system.name). */
const DB_SYSTEM: Record<string, string> = { postgres: 'postgresql', mysql: 'mysql', redis: 'redis' };

/**
 * A decoded exchange as a log record, with OpenTelemetry's semantic
 * conventions where they have a name: `client.*` and `server.*` (the
 * connection's two ends), `network.peer.*` and `network.local.*` (seen from
 * the traced process), `process.*` (the traced process), `db.*` or `http.*`;
 * the rest under `capc.*`. Addresses are left out while the connection's
 * identity is unknown; the body is the statement.
 */
export function exchangeLogRecord(x: Exchange, wall: (mono: bigint) => bigint): LogRecord {
  const a: LogAttributes = {
    'capc.event': 'exchange',
    'capc.protocol': x.protocol,
    'capc.conn.id': x.conn,
    'capc.side': x.side,
  };
  const end = (prefix: string, e: ExchangeEnd) => {
    if (e.addr === null) return;
    a[`${prefix}.address`] = e.addr;
    if (e.port !== null) a[`${prefix}.port`] = e.port;
  };
  end('client', x.client);
  end('server', x.server);
  const [mine, theirs] = x.side === 'client' ? [x.client, x.server] : [x.server, x.client];
  end('network.local', mine);
  end('network.peer', theirs);
  if (x.client.addr !== null) a['network.transport'] = x.client.port !== null ? 'tcp' : 'unix';
  if (mine.pid !== null) a['process.pid'] = mine.pid;
  if (mine.comm !== null) a['process.command'] = mine.comm;
  // The other end's process, when capc captured that end too.
  if (theirs.pid !== null) a[`capc.${x.side === 'client' ? 'server' : 'client'}.pid`] = theirs.pid;
  if (theirs.comm !== null) a[`capc.${x.side === 'client' ? 'server' : 'client'}.command`] = theirs.comm;
  const db = DB_SYSTEM[x.protocol];
  if (db) {
    a['db.system.name'] = db;
    if (x.database !== null) a['db.namespace'] = x.database;
    if (x.statement !== null) a['db.query.text'] = x.statement;
    a['db.operation.name'] = x.command;
  } else if (x.protocol === 'http') {
    a['http.request.method'] = x.command;
    const code = /^(\d{3})\b/.exec(x.status ?? x.error ?? '');
    if (code) a['http.response.status_code'] = Number(code[1]);
  }
  if (x.user !== null) a['capc.user'] = x.user;
  if (x.error !== null) a['error.type'] = x.error;
  const rest: Record<string, unknown> = {
    fingerprint: x.fingerprint,
    rows: x.rows,
    columns: x.columns,
    status: x.status,
    error: x.error,
    not_decoded: x.notDecoded,
    latency_ns: x.latencyNs,
    bytes_in: x.bytesIn,
    bytes_out: x.bytesOut,
    statement_truncated: x.statementTruncated || undefined,
    notes: x.notes?.length ? x.notes : undefined,
    details: x.details,
  };
  flatten('capc', rest, a);
  const at = x.start ?? x.end;
  return {
    ...(x.notDecoded !== null
      ? { severityNumber: SeverityNumber.WARN, severityText: 'WARN' }
      : { severityNumber: SeverityNumber.INFO, severityText: 'INFO' }),
    ...(at !== null ? { timestamp: hrTime(wall(at)) } : {}),
    body: x.statement ?? `(${x.command})`,
    attributes: a,
  };
}
