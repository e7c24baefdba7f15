// runtime/export/index.ts — opens the exporters a session asked for
// (`--pcapng FILE` or a program's `-> pcapng("FILE")`, `--metrics ADDR`,
// `--otlp URL`) before anything is loaded, so a file that exists or a port
// in use stops capc with a clear error and nothing attached. The Prometheus
// and OTLP modules (prom-client, the OpenTelemetry SDK) are loaded only when
// asked for (the pcapng writer too): a plain `capc run` does not pay for
// them at start.
import type { Manifest } from '../../compiler/index.js';
import { CapcError } from '../errors.js';
import type { ExportSink } from './sink.js';

export interface ExportOptions {
  /** `--pcapng FILE`: overrides the program's own `-> pcapng("FILE")`. */
  pcapng?: string;
  /** `--metrics ADDR`: HOST:PORT, :PORT or [V6]:PORT (port 0: any free port). */
  metrics?: string;
  /** `--otlp URL`: an OTLP/HTTP collector, e.g. http://127.0.0.1:4318. */
  otlp?: string;
  /** How often map metrics are sent to OTLP (ms). */
  otlpIntervalMs?: number;
  /** capc's version, for the pcapng section header and OTLP's service.version. */
  version?: string;
  /** Told where the metrics are served (the real port when 0 was asked for). */
  onListening?: (url: string) => void;
}

export async function openExports(o: ExportOptions, manifest: Manifest): Promise<ExportSink[]> {
  const sinks: ExportSink[] = [];
  try {
    const pcapng = o.pcapng ?? manifest.capture?.sink.pcapng;
    if (pcapng !== undefined) {
      if (!manifest.capture)
        throw new CapcError('E0904', '--pcapng needs a program that captures payload', [
          "capture with accumulate() or capture(), e.g. -e 'uprobe:libssl:SSL_write, uprobe:libssl:SSL_read accumulate(conn, 1024) -> ringbuf'",
        ]);
      const { PcapngWriter } = await import('./pcapng.js');
      sinks.push(new PcapngWriter(pcapng, { version: o.version }));
    }
    if (o.metrics !== undefined) {
      const { MetricsServer } = await import('./metrics.js');
      const server = await MetricsServer.start(o.metrics);
      sinks.push(server);
      o.onListening?.(server.url);
    }
    if (o.otlp !== undefined) {
      const { OtlpExporter } = await import('./otlp.js');
      sinks.push(new OtlpExporter(o.otlp, { intervalMs: o.otlpIntervalMs, version: o.version }));
    }
  } catch (e) {
    await Promise.allSettled(sinks.map((s) => s.close()));
    throw e;
  }
  return sinks;
}
