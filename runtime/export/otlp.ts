// runtime/export/otlp.ts — `--otlp URL`: events (and the decoders'
// exchanges) as OTLP log records, maps as OTLP metrics, sent over OTLP/HTTP
// with protobuf bodies by the official OpenTelemetry exporters
// (@opentelemetry/exporter-logs-otlp-proto, -metrics-otlp-proto) to
// URL/v1/logs and URL/v1/metrics. Log records are built by the SDK's
// LoggerProvider and batched here: at most MAX_QUEUE records wait, at most
// MAX_IN_FLIGHT batches are being sent (each retried by the exporter within
// its timeout), so an unreachable or slow collector costs bounded memory;
// every record that could not be queued or sent is counted (W0906) and
// capture goes on. Map metrics are sent every intervalMs and once at exit.
// An https collector is trusted through Node's root certificates and those of
// NODE_EXTRA_CA_CERTS, which bin/capc keeps from Node's start-up (it costs
// every start 30-50 ms) and which are therefore added here.
import fs from 'node:fs';
import os from 'node:os';
import tls from 'node:tls';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { LoggerProvider, type LogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { Logger } from '@opentelemetry/api-logs';
import type { HrTime } from '@opentelemetry/api';
import { CapcError } from '../errors.js';
import type { CapEvent, MapSnapshot } from '../events/model.js';
import type { LiveSource } from './live-source.js';
import { eventLogRecord, hrTime, mapMetrics } from './otlp-data.js';
import type { ExportLoss, ExportSink } from './sink.js';

const MAX_QUEUE = 32768;
const BATCH = 2048;
const MAX_IN_FLIGHT = 4;
const FLUSH_MS = 1000;
const EXPORT_TIMEOUT_MS = 10_000;
/** The event kinds that come in volume, each always one log record: shed before they are built when the queue is full. */
const SHED = new Set<CapEvent['kind']>(['capture', 'printf', 'exchange']);
/** How long exit waits for the last batches. */
const CLOSE_TIMEOUT_MS = 5_000;

/** http(s)://HOST[:PORT][/PREFIX]; E0904 otherwise. */
export function parseCollectorUrl(text: string): URL {
  let u: URL | undefined;
  try {
    u = new URL(text);
  } catch {
    /* below */
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:'))
    throw new CapcError('E0904', `--otlp needs an http:// or https:// URL (got '${text}')`, [
      'the OTLP/HTTP endpoint of a collector, e.g. --otlp http://127.0.0.1:4318',
    ]);
  return u;
}

/**
 * The certificates NODE_EXTRA_CA_CERTS names, as Node would add them to its
 * root store had it read them at start-up (bin/capc starts it without them);
 * a file that cannot be read is ignored with Node's warning.
 */
function extraCaCerts(): string | undefined {
  const file = process.env.NODE_EXTRA_CA_CERTS;
  if (!file) return undefined;
  try {
    return fs.readFileSync(file, 'latin1');
  } catch (e) {
    process.stderr.write(
      `capc: warning: ignoring extra certs from \`${file}\` (NODE_EXTRA_CA_CERTS), load failed: ${(e as Error).message}\n`,
    );
    return undefined;
  }
}

/** Queues what the SDK emits; the exporter object drains it. */
class QueueProcessor implements LogRecordProcessor {
  constructor(private readonly onRecord: (r: ReadableLogRecord) => void) {}
  onEmit(r: ReadableLogRecord): void {
    this.onRecord(r);
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

export class OtlpExporter implements ExportSink {
  readonly name = 'otlp';
  readonly target: string;
  private readonly logs: OTLPLogExporter;
  private readonly metrics: OTLPMetricExporter;
  private readonly provider: LoggerProvider;
  private readonly logger: Logger;
  private readonly resource: Resource;
  private queue: ReadableLogRecord[] = [];
  private inFlight = 0;
  private inFlightRecords = 0;
  private metricsInFlight = 0;
  /** Set once close() has counted what is still on its way as lost: later answers change nothing. */
  private settled = false;
  private readonly idle: (() => void)[] = [];
  private lostRecords = 0;
  private lostMetrics = 0;
  private reason: string | undefined;
  private live: LiveSource | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly offset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  private readonly start: HrTime;
  private finalMaps: MapSnapshot[] | undefined;
  private closed = false;
  sentRecords = 0;
  sentMetricExports = 0;

  constructor(url: string, opts: { intervalMs?: number; version?: string } = {}) {
    const base = parseCollectorUrl(url).toString().replace(/\/+$/, '');
    this.target = base;
    const ca = base.startsWith('https:') ? extraCaCerts() : undefined;
    const common = {
      concurrencyLimit: MAX_IN_FLIGHT + 1,
      timeoutMillis: EXPORT_TIMEOUT_MS,
      ...(ca ? { httpAgentOptions: { ca: [...tls.rootCertificates, ca] } } : {}),
    };
    this.logs = new OTLPLogExporter({ ...common, url: `${base}/v1/logs` });
    this.metrics = new OTLPMetricExporter({ ...common, url: `${base}/v1/metrics` });
    this.resource = resourceFromAttributes({
      'service.name': 'capc',
      'service.version': opts.version ?? '',
      'host.name': os.hostname(),
      'process.pid': process.pid,
    });
    this.provider = new LoggerProvider({
      resource: this.resource,
      processors: [new QueueProcessor((r) => this.enqueue(r))],
    });
    this.logger = this.provider.getLogger('capc');
    this.start = hrTime(BigInt(Date.now()) * 1_000_000n);
    const flush = setInterval(() => this.pump(), FLUSH_MS);
    flush.unref();
    this.timers.push(flush);
    const every = opts.intervalMs ?? 10_000;
    const metrics = setInterval(() => this.sendMetrics(), every);
    metrics.unref();
    this.timers.push(metrics);
  }

  bind(live: LiveSource): void {
    this.live = live;
  }

  private enqueue(r: ReadableLogRecord): void {
    if (this.queue.length >= MAX_QUEUE) {
      this.dropRecord();
      return;
    }
    this.queue.push(r);
    if (this.queue.length >= BATCH) this.pump();
  }

  /** Send full batches while fewer than MAX_IN_FLIGHT are on their way; the rest waits (bounded by MAX_QUEUE). */
  private pump(): void {
    while (this.queue.length && this.inFlight < MAX_IN_FLIGHT) {
      const batch = this.queue.splice(0, BATCH);
      this.inFlight++;
      this.inFlightRecords += batch.length;
      this.logs.export(batch, (res: ExportResult) => {
        if (this.settled) return;
        this.inFlight--;
        this.inFlightRecords -= batch.length;
        if (res.code === ExportResultCode.SUCCESS) this.sentRecords += batch.length;
        else {
          this.lostRecords += batch.length;
          this.reason = res.error?.message ?? 'export failed';
        }
        if (this.queue.length >= BATCH) this.pump();
        if (this.inFlight === 0) for (const f of this.idle.splice(0)) f();
      });
    }
  }

  private sendMetrics(maps?: MapSnapshot[]): Promise<void> {
    const snapshot = maps ?? this.live?.readMaps().maps;
    if (!snapshot) return Promise.resolve();
    const now = hrTime(BigInt(Date.now()) * 1_000_000n);
    const rm = {
      resource: this.resource,
      scopeMetrics: [{ scope: { name: 'capc' }, metrics: mapMetrics(snapshot, this.start, now) }],
    };
    this.metricsInFlight++;
    return new Promise((resolve) =>
      this.metrics.export(rm, (res: ExportResult) => {
        if (this.settled) return resolve();
        this.metricsInFlight--;
        if (res.code === ExportResultCode.SUCCESS) this.sentMetricExports++;
        else {
          this.lostMetrics++;
          this.reason = res.error?.message ?? 'export failed';
        }
        resolve();
      }),
    );
  }

  event(e: CapEvent): void {
    if (this.closed) return;
    if (e.kind === 'maps' && e.atExit) {
      this.finalMaps = e.maps;
      return;
    }
    if (this.queue.length >= MAX_QUEUE && SHED.has(e.kind)) {
      // The record would be dropped at the queue: counted here, before building it and the SDK's copy of it
      // (~9 µs of the main thread's CPU per record, which then serialises and sends fewer of the rest).
      this.dropRecord();
      return;
    }
    const rec = eventLogRecord(e, (mono) => mono + this.offset);
    if (rec) this.logger.emit(rec);
  }

  private dropRecord(): void {
    this.lostRecords++;
    this.reason = 'the queue was full (the collector is slower than capture)';
  }

  losses(): ExportLoss[] {
    return [
      { count: this.lostRecords, unit: 'log records', reason: this.reason },
      { count: this.lostMetrics, unit: 'metric exports', reason: this.reason },
    ];
  }

  end(): void {}

  /** Send what waits, the final maps, and stop; whatever is not sent within CLOSE_TIMEOUT_MS is counted as lost. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    const deadline = Date.now() + CLOSE_TIMEOUT_MS;
    const metrics = this.sendMetrics(this.finalMaps);
    const logs = (async () => {
      while (this.queue.length || this.inFlight) {
        this.pump();
        if (this.inFlight) await new Promise<void>((r) => this.idle.push(r));
      }
    })();
    await Promise.race([
      Promise.all([metrics, logs]),
      new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())).unref()),
    ]);
    // What is still queued or on its way now is lost: count it once, ignore later answers.
    this.settled = true;
    if (this.queue.length || this.inFlightRecords || this.metricsInFlight) {
      this.lostRecords += this.queue.length + this.inFlightRecords;
      this.lostMetrics += this.metricsInFlight;
      this.reason ??= `the collector did not take them within ${CLOSE_TIMEOUT_MS / 1000} s of exit (unreachable or slow)`;
      this.queue = [];
    }
    await Promise.race([
      Promise.allSettled([this.logs.shutdown(), this.metrics.shutdown(), this.provider.shutdown()]),
      new Promise((r) => setTimeout(r, 1000).unref()),
    ]);
  }
}
