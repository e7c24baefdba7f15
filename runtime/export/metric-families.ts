// runtime/export/metric-families.ts — what `--metrics` serves, as data:
// every map as a metric family, and capc's own health. Pure (snapshots in,
// families out), so the naming and bucket rules are unit-tested without a
// kernel. Rules (docs/language.md, "Prometheus"):
//   @name -> capc_map_name (the anonymous @ -> capc_map); keys -> labels
//   `key` (one key) or `key0`, `key1`... (several), values as text;
//   count() -> counter `_total`; sum/min/max/plain integers -> gauge;
//   avg/stats -> summary with `_count` and `_sum`; hist/lhist -> histogram
//   with cumulative `le` buckets (inclusive integer upper bounds) and +Inf
//   (no `_sum`: the kernel keeps none); string values -> gauge 1 with a
//   `value` label.
import type { KeyPart, MapEntry, MapSnapshot } from '../events/model.js';
import { ResolvedPart } from '../events/model.js';
import type { CounterValue, ProbeStat } from '../bpf/live-stats.js';
import type { RingState } from './live-source.js';
import type { ExportLoss } from './sink.js';

export type FamilyType = 'counter' | 'gauge' | 'histogram' | 'summary';

export interface Sample {
  /** The sample's name when it is not the family's (`_bucket`, `_count`, `_sum`). */
  metricName?: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: FamilyType;
  values: Sample[];
}

const NAME_OK = /[^a-zA-Z0-9_]/g;

/** A map's metric name: @name -> capc_map_name; characters Prometheus does not allow become `_`. */
export function mapMetricName(map: string): string {
  const bare = map.replace(/^@/, '').replace(NAME_OK, '_');
  return bare ? `capc_map_${bare}` : 'capc_map';
}

/** A key part as a label value: text as UTF-8 up to its NUL, control bytes as \xNN, stacks joined by `;`. */
export function labelValue(k: KeyPart): string {
  if (k instanceof ResolvedPart) return k.frames ? k.frames.join(';') : k.text;
  if (typeof k === 'bigint') return k.toString();
  const nul = k.indexOf(0);
  const text = k.subarray(0, nul < 0 ? k.length : nul).toString('utf8');
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function keyLabels(key: KeyPart[]): Record<string, string> {
  if (key.length === 1) return { key: labelValue(key[0]!) };
  const out: Record<string, string> = {};
  key.forEach((k, i) => (out[`key${i}`] = labelValue(k)));
  return out;
}

/** Inclusive upper bounds of a histogram's buckets (the last one is +Inf). */
export function bucketBounds(m: MapSnapshot, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    if (m.lhist) {
      const { min, step } = m.lhist;
      out.push(i === n - 1 ? '+Inf' : String(min + i * step - 1));
    } else {
      // hist: 0 is (..., 0), 1 is [0], k+2 is [2^k, 2^(k+1)).
      out.push(i === 0 ? '-1' : i === 1 ? '0' : (2n ** BigInt(i - 1) - 1n).toString());
    }
  }
  return out;
}

function histogramSamples(m: MapSnapshot, base: string, e: MapEntry, lastBucket: number): Sample[] {
  const labels = keyLabels(e.key);
  const buckets = e.buckets ?? [];
  const bounds = bucketBounds(m, buckets.length);
  const out: Sample[] = [];
  let cum = 0;
  for (let i = 0; i <= lastBucket && i < buckets.length; i++) {
    cum += Number(buckets[i]!);
    if (bounds[i] === '+Inf') break;
    out.push({ metricName: `${base}_bucket`, labels: { ...labels, le: bounds[i]! }, value: cum });
  }
  const total = Number(e.value);
  out.push({ metricName: `${base}_bucket`, labels: { ...labels, le: '+Inf' }, value: total });
  out.push({ metricName: `${base}_count`, labels, value: total });
  return out;
}

export function mapFamily(m: MapSnapshot): Family {
  const base = mapMetricName(m.name);
  const help = `capc map ${m.name} (${m.kind})`;
  switch (m.kind) {
    case 'count':
      return {
        name: `${base}_total`,
        help,
        type: 'counter',
        values: m.entries.map((e) => ({ labels: keyLabels(e.key), value: Number(e.value) })),
      };
    case 'avg':
    case 'stats':
      return {
        name: base,
        help,
        type: 'summary',
        values: m.entries.flatMap((e) => [
          { metricName: `${base}_count`, labels: keyLabels(e.key), value: Number(e.avg?.count ?? 0n) },
          { metricName: `${base}_sum`, labels: keyLabels(e.key), value: Number(e.avg?.total ?? 0n) },
        ]),
      };
    case 'hist':
    case 'lhist': {
      // Every key gets the same buckets: up to the highest one any key has used.
      let last = 0;
      for (const e of m.entries) (e.buckets ?? []).forEach((c, i) => c && i > last && (last = i));
      return {
        name: base,
        help,
        type: 'histogram',
        values: m.entries.flatMap((e) => histogramSamples(m, base, e, last)),
      };
    }
    case 'str':
      return {
        name: base,
        help,
        type: 'gauge',
        values: m.entries.map((e) => ({
          labels: { ...keyLabels(e.key), value: e.str ? labelValue(e.str) : '' },
          value: 1,
        })),
      };
    default:
      return {
        name: base,
        help,
        type: 'gauge',
        values: m.entries.map((e) => ({ labels: keyLabels(e.key), value: Number(e.value) })),
      };
  }
}

/** Families for every map; a name two maps would share gets a numeric suffix (never a duplicate series). */
export function mapFamilies(maps: MapSnapshot[]): Family[] {
  const used = new Set<string>();
  return maps.map((m) => {
    const f = mapFamily(m);
    let name = f.name;
    for (let i = 2; used.has(name); i++) name = `${f.name}_${i}`;
    used.add(name);
    if (name !== f.name) {
      const rename = (s: Sample) => (s.metricName ? { ...s, metricName: s.metricName.replace(f.name, name) } : s);
      return { ...f, name, values: f.values.map(rename) };
    }
    return f;
  });
}

export interface Health {
  counters: CounterValue[];
  rings: RingState[];
  probes: ProbeStat[];
  losses: { sink: string; loss: ExportLoss }[];
  /** Events the session delivered, by kind, and captured bytes by direction. */
  events: Map<string, number>;
  captureBytes: [number, number];
  mapReadSeconds: number;
  startedAt: number;
}

const counter = (name: string, help: string, values: Sample[]): Family => ({ name, help, type: 'counter', values });
const gauge = (name: string, help: string, values: Sample[]): Family => ({ name, help, type: 'gauge', values });

/** capc's own health: drops per sink, ring fill, per-probe run time, exporters' losses. */
export function healthFamilies(h: Health): Family[] {
  const byKind = (kind: CounterValue['kind'], label: string) =>
    h.counters.filter((c) => c.kind === kind).map((c) => ({ labels: { [label]: c.subject }, value: c.value }));
  const sum = (kind: CounterValue['kind']) =>
    h.counters.filter((c) => c.kind === kind).reduce((n, c) => n + c.value, 0);
  const hasCapture = h.counters.some((c) => c.kind === 'capture-drop-records');
  const fams: Family[] = [
    gauge('capc_start_time_seconds', 'when capc attached its probes (Unix time)', [
      { labels: {}, value: h.startedAt / 1000 },
    ]),
    counter('capc_ring_drops_total', 'records a ring buffer could not take, counted in the kernel (R11)', [
      ...byKind('ring-drop', 'ring'),
      ...(hasCapture ? [{ labels: { ring: 'capture' }, value: sum('capture-drop-records') }] : []),
    ]),
    gauge(
      'capc_ring_size_bytes',
      'size of each ring buffer',
      h.rings.map((r) => ({ labels: { ring: r.name, role: r.role }, value: r.size })),
    ),
    gauge(
      'capc_ring_unread_bytes',
      'bytes waiting in each ring buffer now',
      h.rings.map((r) => ({ labels: { ring: r.name, role: r.role }, value: r.unread })),
    ),
    gauge(
      'capc_ring_peak_unread_bytes',
      'most bytes waiting in each ring buffer since the previous scrape',
      h.rings.map((r) => ({ labels: { ring: r.name, role: r.role }, value: r.peak })),
    ),
    counter('capc_map_update_failures_total', 'map updates that failed because the map was full', [
      ...byKind('map-full', 'map'),
    ]),
    counter('capc_loop_limit_hits_total', 'while loops stopped at loop_limit', byKind('loop-limit', 'where')),
    counter(
      'capc_export_lost_total',
      'what an exporter could not export (pcapng packets, OTLP records, refused scrapes)',
      h.losses.map((l) => ({ labels: { sink: l.sink, unit: l.loss.unit }, value: l.loss.count })),
    ),
    counter(
      'capc_events_total',
      'events capc delivered, by kind',
      [...h.events].map(([kind, n]) => ({ labels: { kind }, value: n })),
    ),
    gauge('capc_metrics_map_read_seconds', 'how long reading the maps took for the last scrape', [
      { labels: {}, value: h.mapReadSeconds },
    ]),
  ];
  if (hasCapture) {
    fams.push(
      counter('capc_capture_bytes_total', 'captured payload delivered in stream order', [
        { labels: { direction: 'egress' }, value: h.captureBytes[0] },
        { labels: { direction: 'ingress' }, value: h.captureBytes[1] },
      ]),
      counter('capc_capture_dropped_bytes_total', 'payload bytes the capture sink could not take', [
        { labels: {}, value: sum('capture-drop-bytes') + sum('capture-refused-bytes') },
      ]),
    );
  }
  // `index` is the program's place in the session (two probes may share a name and role).
  const probes = h.probes.map((p, i) => ({ p, i })).filter(({ p }) => p.hits !== undefined);
  const probeLabels = (p: ProbeStat, i: number) => ({ probe: p.name, role: p.role, index: String(i) });
  fams.push(
    counter(
      'capc_probe_runs_total',
      'times each BPF program ran (kernel BPF statistics, on while --metrics serves)',
      probes.map(({ p, i }) => ({ labels: probeLabels(p, i), value: p.hits! })),
    ),
    counter(
      'capc_probe_run_seconds_total',
      'time each BPF program ran (kernel BPF statistics)',
      probes.map(({ p, i }) => ({ labels: probeLabels(p, i), value: p.runTimeNs! / 1e9 })),
    ),
  );
  return fams;
}
