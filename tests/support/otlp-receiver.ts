// tests/support/otlp-receiver.ts — a local OTLP/HTTP receiver for tests: a
// Node http server on a free loopback port that decodes every request with
// the official OTLP protobuf definitions (opentelemetry-proto, as generated
// for protobufjs in @opentelemetry/otlp-transformer 0.200, installed as the
// dev dependency `otlp-proto-root`) and keeps what it received. It can be
// told to answer with an error status to play a refusing collector, and to
// speak https with a given certificate.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface ProtoType {
  decode(b: Uint8Array): unknown;
  toObject(m: unknown, o: object): unknown;
}
const root = require('otlp-proto-root/build/src/generated/root.js') as {
  opentelemetry: {
    proto: {
      collector: {
        logs: { v1: { ExportLogsServiceRequest: ProtoType } };
        metrics: { v1: { ExportMetricsServiceRequest: ProtoType } };
      };
    };
  };
};
const LOGS = root.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
const METRICS = root.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
const AS_OBJECT = { longs: String, bytes: Buffer, defaults: false, arrays: true };

export interface AnyValue {
  stringValue?: string;
  intValue?: string;
  doubleValue?: number;
  boolValue?: boolean;
  bytesValue?: Buffer;
  arrayValue?: { values: AnyValue[] };
}
export interface KeyValue {
  key: string;
  value: AnyValue;
}
export interface LogRecord {
  timeUnixNano?: string;
  severityText?: string;
  body?: AnyValue;
  attributes?: KeyValue[];
}
export interface MetricPoint {
  attributes?: KeyValue[];
  asDouble?: number;
  asInt?: string;
  count?: string;
  bucketCounts?: string[];
  explicitBounds?: number[];
}
export interface Metric {
  name: string;
  gauge?: { dataPoints: MetricPoint[] };
  sum?: { dataPoints: MetricPoint[]; isMonotonic?: boolean };
  histogram?: { dataPoints: MetricPoint[] };
}

export interface Receiver {
  url: string;
  logs: LogRecord[];
  metrics: Metric[][];
  requests: { path: string; contentType: string }[];
  /** Answer with this status from now on (200 = accept). */
  status: number;
  close(): Promise<void>;
}

export async function startReceiver(opts: { tls?: { cert: string; key: string } } = {}): Promise<Receiver> {
  const r: Receiver = {
    url: '',
    logs: [],
    metrics: [],
    requests: [],
    status: 200,
    close: async () => {},
  };
  const handle: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      r.requests.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '' });
      if (r.status !== 200) {
        res.writeHead(r.status).end();
        return;
      }
      if (req.url === '/v1/logs') {
        const m = LOGS.toObject(LOGS.decode(body), AS_OBJECT) as {
          resourceLogs?: { scopeLogs?: { logRecords?: LogRecord[] }[] }[];
        };
        for (const rl of m.resourceLogs ?? [])
          for (const sl of rl.scopeLogs ?? []) r.logs.push(...(sl.logRecords ?? []));
      } else if (req.url === '/v1/metrics') {
        const m = METRICS.toObject(METRICS.decode(body), AS_OBJECT) as {
          resourceMetrics?: { scopeMetrics?: { metrics?: Metric[] }[] }[];
        };
        r.metrics.push(
          (m.resourceMetrics ?? []).flatMap((x) => (x.scopeMetrics ?? []).flatMap((s) => s.metrics ?? [])),
        );
      }
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  };
  const server = opts.tls ? https.createServer(opts.tls, handle) : http.createServer(handle);
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  r.url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  r.close = () =>
    new Promise<void>((res) => {
      server.closeAllConnections();
      server.close(() => res());
    });
  return r;
}

export function attr(kvs: KeyValue[] | undefined, key: string): AnyValue | undefined {
  return kvs?.find((k) => k.key === key)?.value;
}
