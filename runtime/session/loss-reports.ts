// runtime/session/loss-reports.ts — what a session reports of what it did not
// keep (R11: never silent): ring drops, full maps and loop limits from the
// program's counters map, exporters' losses (W0906), and calls an identity
// predicate let through while the connection was still unknown (W0910). Each
// report gives what happened since the one before; the session calls them
// once a second while probes run and once at exit.
import type { Manifest } from '../../compiler/index.js';
import { readCounter } from '../bpf/maps-reader.js';
import type { Renderer } from '../events/model.js';
import type { ExportSink } from '../export/sink.js';

export class LossReports {
  /** Counter values already reported, by counter index. */
  private readonly counted = new Map<number, bigint>();
  /** Exporter losses already reported, by sink and unit. */
  private readonly exported = new Map<string, { count: number; bytes: number }>();

  constructor(
    private readonly manifest: Manifest,
    private readonly renderer: Renderer,
  ) {}

  /** Drops, failed map updates and loop limits since the last report (capture counters go to the capture summary). */
  counters(statsFd: number): void {
    if (statsFd < 0) return;
    const m = this.manifest;
    for (const c of m.counters) {
      if (c.kind !== 'ring-drop' && c.kind !== 'map-full' && c.kind !== 'loop-limit') continue;
      const v = readCounter(statsFd, c.index);
      const prev = this.counted.get(c.index) ?? 0n;
      if (v <= prev) continue;
      this.counted.set(c.index, v);
      const count = Number(v - prev);
      if (c.kind === 'ring-drop') this.renderer.event({ kind: 'lost', ring: c.subject, count });
      else if (c.kind === 'loop-limit')
        this.renderer.event({ kind: 'loop-limit', where: c.subject, count, limit: m.config.loopLimit ?? 0 });
      else {
        const map = m.maps.find((x) => x.name === c.subject);
        this.renderer.event({
          kind: 'map-full',
          map: c.subject,
          count,
          maxEntries: map?.maxEntries ?? m.config.maxMapKeys,
        });
      }
    }
  }

  /** New losses of every exporter since the last report. */
  exportLosses(sinks: ExportSink[]): void {
    for (const sink of sinks) {
      for (const l of sink.losses()) {
        const key = `${sink.name}\0${l.unit}`;
        const prev = this.exported.get(key) ?? { count: 0, bytes: 0 };
        if (l.count <= prev.count) continue;
        this.exported.set(key, { count: l.count, bytes: l.bytes ?? 0 });
        this.renderer.event({
          kind: 'export-loss',
          sink: sink.name,
          target: sink.target,
          count: l.count - prev.count,
          unit: l.unit,
          ...(l.bytes !== undefined ? { bytes: l.bytes - prev.bytes } : {}),
          ...(l.reason !== undefined ? { reason: l.reason } : {}),
        });
      }
    }
  }

  /** A program that does not capture: calls its identity predicates let through while it was unknown, once at exit. */
  identityUnknown(statsFd: number): void {
    if (statsFd < 0) return;
    const n = this.manifest.counters
      .filter((c) => c.kind === 'identity-unknown')
      .reduce((sum, c) => sum + Number(readCounter(statsFd, c.index)), 0);
    if (n) this.renderer.event({ kind: 'identity-unknown', count: n });
  }
}
