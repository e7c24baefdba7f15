// runtime/session/export-source.ts — the session's side of LiveSource
// (runtime/export/live-source.ts): maps, counters, ring fill and per-probe
// BPF statistics read on demand for the exporters. The kernel's run-time
// statistics are turned on only when an exporter first asks for probe
// numbers (they add two clock reads to every program run) and off at close.
import type { Manifest } from '../../compiler/index.js';
import { FORMATTERS } from '../format/formatters.js';
import { progRunStats, RunTimeStats } from '../bpf/bpf-stats.js';
import { readCounter, readMap } from '../bpf/maps-reader.js';
import type { BpfObject } from '../bpf/object.js';
import type { MapSnapshot } from '../events/model.js';
import type { LiveSource, RingState } from '../export/live-source.js';
import type { ExportSink } from '../export/sink.js';
import type { ValueResolver } from '../events/resolve.js';
import { statSubjects, type CounterValue, type ProbeStat } from '../bpf/live-stats.js';
import type { SampledRing } from './snapshot.js';

export class ExportSource implements LiveSource {
  private stats: RunTimeStats | undefined;
  private statsError: string | undefined;
  private cached: { maps: MapSnapshot[]; readAt: number; readMs: number } | undefined;
  private mapsDue = 0;
  private readonly peaks: number[];
  readonly startedAt = Date.now();

  constructor(
    readonly manifest: Manifest,
    private readonly obj: BpfObject,
    private readonly statsFd: number,
    private readonly ringList: { ring: SampledRing; role: RingState['role'] }[],
    private readonly sinks: ExportSink[],
    private readonly resolver?: ValueResolver,
  ) {
    this.peaks = ringList.map(() => 0);
  }

  /** Called before each drain by the session loop: remembers the fullest each ring got. */
  sample(): void {
    for (let i = 0; i < this.ringList.length; i++)
      this.peaks[i] = Math.max(this.peaks[i]!, this.ringList[i]!.ring.pending());
  }

  readMaps(): { maps: MapSnapshot[]; readAt: number; readMs: number } {
    const now = Date.now();
    if (this.cached && now < this.mapsDue) return this.cached;
    const t = performance.now();
    const maps = this.manifest.maps.map((m) => readMap(this.obj.mapFd(m.cName), m, FORMATTERS, this.resolver));
    const readMs = performance.now() - t;
    this.cached = { maps, readAt: now, readMs };
    this.mapsDue = now + 20 * readMs;
    return this.cached;
  }

  counters(): CounterValue[] {
    if (this.statsFd < 0) return [];
    return this.manifest.counters.map((c) => ({
      kind: c.kind,
      subject: c.subject,
      value: Number(readCounter(this.statsFd, c.index)),
    }));
  }

  rings(): RingState[] {
    const out = this.ringList.map(({ ring, role }, i) => {
      const unread = ring.pending();
      return { name: ring.name, role, size: ring.size, unread, peak: Math.max(this.peaks[i]!, unread) };
    });
    this.peaks.fill(0);
    return out;
  }

  probes(): ProbeStat[] {
    if (!this.stats && !this.statsError) {
      const s = RunTimeStats.enable();
      if (s instanceof RunTimeStats) this.stats = s;
      else this.statsError = s.error;
    }
    // One row per program: syscall probes run by a raw tracepoint share one (statSubjects).
    return statSubjects(this.manifest.probes).map((probe) => {
      const p: ProbeStat = { spec: probe.spec, name: probe.name, role: probe.role };
      const st = this.stats ? progRunStats(this.obj.program(probe.program).fd) : undefined;
      if (st) {
        p.hits = Number(st.runs);
        p.runTimeNs = Number(st.runTimeNs);
      }
      return p;
    });
  }

  exportLosses(): { sink: string; target: string; loss: import('../export/sink.js').ExportLoss }[] {
    return this.sinks.flatMap((s) => s.losses().map((loss) => ({ sink: s.name, target: s.target, loss })));
  }

  close(): void {
    this.stats?.close();
    this.stats = undefined;
  }
}
