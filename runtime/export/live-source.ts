// runtime/export/live-source.ts — what a running session lets exporters read
// at any moment (a Prometheus scrape, an OTLP metrics period): the maps, read
// from the kernel now, capc's own counters, how full each ring is, each
// probe's run count and time from the kernel's BPF statistics, and every
// exporter's losses. Implemented by runtime/session/export-source.ts.
import type { Manifest } from '../../compiler/index.js';
import type { MapSnapshot } from '../events/model.js';
import type { CounterValue, ProbeStat } from '../bpf/live-stats.js';
import type { ExportLoss } from './sink.js';

export interface RingState {
  name: string;
  role: 'events' | 'control' | 'capture';
  size: number;
  /** Unread bytes now. */
  unread: number;
  /** Most unread bytes seen by the drain loop since the previous call to rings(). */
  peak: number;
}

export interface LiveSource {
  readonly manifest: Manifest;
  /** Date.now() when the probes were attached. */
  readonly startedAt: number;
  /**
   * Every map, read from the kernel now. Reading is synchronous (the rings
   * wait), so a map that took T ms to read is read again only after 20 T:
   * until then the last reading is returned (`readAt` says when it was taken).
   */
  readMaps(): { maps: MapSnapshot[]; readAt: number; readMs: number };
  counters(): CounterValue[];
  rings(): RingState[];
  /** Per-probe runs and run time (the kernel counts while an exporter asked for them). */
  probes(): ProbeStat[];
  /** Every exporter's cumulative losses. */
  exportLosses(): { sink: string; target: string; loss: ExportLoss }[];
}
