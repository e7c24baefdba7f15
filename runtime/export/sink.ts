// runtime/export/sink.ts — what every exporter (pcapng, Prometheus, OTLP)
// is to the session: a consumer of the one event model (a Renderer) that
// counts what it could not export, opens before anything is loaded (so a
// file that exists or a port in use stops capc before it attaches), and
// flushes on close. The session turns new losses into `export-loss` events
// (W0906 on stderr, `export_loss` in JSON, the TUI's drops row).
import type { Renderer } from '../events/model.js';
import type { LiveSource } from './live-source.js';

export interface ExportLoss {
  /** What was lost: packets, records, scrapes... (cumulative since the start). */
  count: number;
  unit: string;
  /** Payload bytes in what was lost, when that means something (pcapng). */
  bytes?: number;
  /** The last reason (an errno message, an HTTP status). */
  reason?: string;
}

export interface ExportSink extends Renderer {
  /** Short name shown with its drops: `pcapng`, `metrics`, `otlp`. */
  readonly name: string;
  /** Where it goes (a file, an address, a URL), for messages. */
  readonly target: string;
  /** Cumulative losses, one entry per kind of thing it exports. */
  losses(): ExportLoss[];
  /** Called once the program is loaded: the maps and statistics it may read live. */
  bind?(live: LiveSource): void;
  /** Write out or send what is pending and release everything (awaited before the session ends). */
  close(): Promise<void>;
}
