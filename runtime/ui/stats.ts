// runtime/ui/stats.ts — what the header, the stats bar and the probes pane
// show, derived from the store's last two session snapshots: event and byte
// rates, ring fill, drops per sink, and per probe its hits and the average
// run time per hit over the last period (bpftop's columns). Pure functions.
import type { SessionSnapshot } from '../session/snapshot.js';
import { shortProbe } from './format.js';
import type { UiStore } from './store.js';

export interface ProbeRow {
  label: string;
  role: string;
  hits?: number;
  hitsPerSec?: number;
  /** Average run time per hit over the last period (or since the start when nothing ran in it). */
  nsPerHit?: number;
  /** Share of all CPUs the program used over the last period, in percent (as bpftop computes it). */
  cpuPct?: number;
}

export interface Sink {
  name: string;
  /** Peak fill over the last period, in percent; undefined for perf buffers. */
  fillPct?: number;
  drops: number;
  unit: string;
}

export interface Stats {
  eventsPerSec: number;
  bytesPerSec: number;
  sinks: Sink[];
  mapFull: number;
  probes: ProbeRow[];
  statsError?: string;
}

/** The capture entry probe is the one the script wrote; the others are pieces capc adds for it. */
const ROLE_LABEL: Record<string, string> = { 'capture-return': 'return', close: 'close', identity: 'identity' };

export function computeStats(store: UiStore, cpus: number, startedAt: number): Stats {
  const cur = store.snap;
  const prev = store.prevSnap;
  const since = prev ?? { s: { at: startedAt } as SessionSnapshot, events: 0, bytes: 0 };
  const dt = cur ? Math.max(1, cur.s.at - since.s.at) / 1000 : 0;
  const stats: Stats = {
    eventsPerSec: cur ? (cur.events - since.events) / dt : 0,
    bytesPerSec: cur ? (cur.bytes - since.bytes) / dt : 0,
    sinks: [],
    mapFull: 0,
    probes: [],
  };
  if (!cur) return stats;
  const s = cur.s;
  if (s.statsError) stats.statsError = s.statsError;
  const counter = (kind: string, subject?: string) =>
    s.counters
      .filter((c) => c.kind === kind && (subject === undefined || c.subject === subject))
      .reduce((n, c) => n + c.value, 0);
  for (const r of s.rings) {
    stats.sinks.push(
      r.role === 'events'
        ? { name: 'events', fillPct: (100 * r.peakBytes) / r.size, drops: counter('ring-drop', r.name), unit: 'events' }
        : {
            name: 'capture',
            fillPct: (100 * r.peakBytes) / r.size,
            drops: counter('capture-drop-records'),
            unit: 'records',
          },
    );
  }
  if (!s.rings.some((r) => r.role === 'capture') && s.counters.some((c) => c.kind === 'capture-drop-records')) {
    stats.sinks.push({ name: 'capture', drops: counter('capture-drop-records'), unit: 'records' });
  }
  for (const x of s.exports ?? []) stats.sinks.push({ name: x.sink, drops: x.count, unit: x.unit });
  stats.mapFull = counter('map-full');
  const before = new Map((prev?.s.probes ?? []).map((p) => [p.spec + '\0' + p.name, p]));
  const pdt = prev ? Math.max(1, s.at - prev.s.at) / 1000 : Math.max(1, s.at - startedAt) / 1000;
  stats.probes = s.probes.map((p) => {
    const row: ProbeRow = { label: shortProbe(p.name), role: ROLE_LABEL[p.role] ?? '' };
    if (p.hits === undefined || p.runTimeNs === undefined) return row;
    const b = before.get(p.spec + '\0' + p.name);
    const dHits = p.hits - (b?.hits ?? 0);
    const dNs = p.runTimeNs - (b?.runTimeNs ?? 0);
    row.hits = p.hits;
    row.hitsPerSec = dHits / pdt;
    row.nsPerHit = dHits > 0 ? dNs / dHits : p.hits > 0 ? p.runTimeNs / p.hits : undefined;
    row.cpuPct = (100 * dNs) / (pdt * 1e9 * Math.max(1, cpus));
    return row;
  });
  return stats;
}
