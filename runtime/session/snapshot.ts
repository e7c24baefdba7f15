// runtime/session/snapshot.ts — what a live session looks like right now, for
// the terminal UI: per-probe hits and run time from the kernel's BPF
// statistics, how full each ring got, every drop counter, and the maps. The
// session calls sample() on every turn of its drain loop (cheap: two atomic
// loads per ring) and this module hands a SessionSnapshot to onTick about
// once a second. It also holds the controls the UI may use (clear the maps).
// Nothing here runs unless RunOptions.live is set: text and JSON output never
// pay for it, and BPF statistics stay off for them.
import type { Manifest } from '../../compiler/index.js';
import { progRunStats, RunTimeStats } from '../bpf/bpf-stats.js';
import { clearMap } from '../bpf/map-clear.js';
import { readCounter, readMap } from '../bpf/maps-reader.js';
import type { BpfObject } from '../bpf/object.js';
import type { Formatters } from '../events/formatters.js';
import type { MapSnapshot } from '../events/model.js';
import { statSubjects, type CounterValue, type ProbeStat } from '../bpf/live-stats.js';

export interface RingFill {
  name: string;
  role: 'events' | 'capture';
  size: number;
  /** Most unread bytes seen since the previous snapshot (sampled before each drain). */
  peakBytes: number;
}

export interface SessionSnapshot {
  /** Date.now() when taken. */
  at: number;
  /** Why per-probe statistics are missing, if they are. */
  statsError?: string;
  probes: ProbeStat[];
  rings: RingFill[];
  counters: CounterValue[];
  /** Exporters (pcapng, metrics, otlp) and what each could not export so far. */
  exports?: { sink: string; count: number; unit: string }[];
  /** Current map contents; absent when not wanted or not due (big maps are read less often). */
  maps?: MapSnapshot[];
  /** How long reading them took. */
  mapsReadMs?: number;
}

/** What the UI may do to a running session. */
export interface LiveControls {
  /** Delete every entry of every map; returns what was deleted. */
  clearMaps(): { maps: number; entries: number };
}

export interface LiveOptions {
  onTick(s: SessionSnapshot): void;
  /** Called once, before the probes attach, with the session's controls. */
  onReady?(c: LiveControls): void;
  /** Asked before each snapshot: reading big maps costs time, so only while they are shown. */
  wantMaps?(): boolean;
  intervalMs?: number;
}

/** A ring whose fill can be sampled (RingReader has these). */
export interface SampledRing {
  name: string;
  size: number;
  pending(): number;
}

export class LiveView {
  private readonly stats: RunTimeStats | undefined;
  private readonly statsError: string | undefined;
  private readonly programs: { fd: number; probe: ReturnType<typeof statSubjects>[number] }[];
  private readonly peaks: number[];
  private last = 0;
  private mapsDue = 0;
  private closed = false;

  constructor(
    private readonly manifest: Manifest,
    private readonly obj: BpfObject,
    private readonly statsFd: number,
    private readonly rings: { ring: SampledRing; role: RingFill['role'] }[],
    private readonly opts: LiveOptions,
    private readonly fmt: Formatters,
    private readonly exportLosses?: () => { sink: string; count: number; unit: string }[],
  ) {
    const s = RunTimeStats.enable();
    if (s instanceof RunTimeStats) this.stats = s;
    else this.statsError = s.error;
    // One row per program: syscall probes run by a raw tracepoint share one (statSubjects).
    this.programs = statSubjects(manifest.probes).map((probe) => ({ probe, fd: obj.program(probe.program).fd }));
    this.peaks = rings.map(() => 0);
    this.last = Date.now();
    opts.onReady?.({ clearMaps: () => this.clearMaps() });
  }

  /** Called before every drain; emits a snapshot when the interval has passed. */
  sample(now = Date.now()): void {
    if (this.closed) return;
    for (let i = 0; i < this.rings.length; i++) this.peaks[i] = Math.max(this.peaks[i]!, this.rings[i]!.ring.pending());
    if (now - this.last < (this.opts.intervalMs ?? 1000)) return;
    this.last = now;
    this.opts.onTick(this.snapshot(now));
  }

  snapshot(now = Date.now()): SessionSnapshot {
    const probes = this.programs.map(({ probe, fd }) => {
      const st = this.stats ? progRunStats(fd) : undefined;
      const p: ProbeStat = { spec: probe.spec, name: probe.name, role: probe.role };
      if (st) {
        p.hits = Number(st.runs);
        p.runTimeNs = Number(st.runTimeNs);
      }
      return p;
    });
    const rings = this.rings.map(({ ring, role }, i) => ({
      name: ring.name,
      role,
      size: ring.size,
      peakBytes: Math.max(this.peaks[i]!, ring.pending()),
    }));
    this.peaks.fill(0);
    const counters =
      this.statsFd < 0
        ? []
        : this.manifest.counters.map((c) => ({
            kind: c.kind,
            subject: c.subject,
            value: Number(readCounter(this.statsFd, c.index)),
          }));
    const snap: SessionSnapshot = { at: now, probes, rings, counters };
    if (this.exportLosses) snap.exports = this.exportLosses();
    if (this.statsError) snap.statsError = this.statsError;
    if ((this.opts.wantMaps?.() ?? true) && now >= this.mapsDue) {
      const t = performance.now();
      snap.maps = this.manifest.maps.map((m) => readMap(this.obj.mapFd(m.cName), m, this.fmt));
      snap.mapsReadMs = performance.now() - t;
      // Reading is synchronous and the rings wait meanwhile: keep it under ~5% of the time
      // (a 60,000-key map takes ~300 ms here, so it is read every 6 s instead of every second).
      this.mapsDue = now + 20 * snap.mapsReadMs;
    }
    return snap;
  }

  private clearMaps(): { maps: number; entries: number } {
    if (this.closed) return { maps: 0, entries: 0 };
    let entries = 0;
    for (const m of this.manifest.maps) entries += clearMap(this.obj.mapFd(m.cName), m);
    return { maps: this.manifest.maps.length, entries };
  }

  /** Stop sampling and turn the kernel's statistics off again. Idempotent. */
  close(): void {
    this.closed = true;
    this.stats?.close();
  }
}
