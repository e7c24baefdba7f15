// runtime/bpf/maps-reader.ts — reads user maps and counters out of the
// kernel: walks keys, combines per-CPU values (R8: sums, min/max of the CPUs
// that saw a value, (count, total) pairs), gathers hist/lhist buckets by key,
// and decodes keys with the layouts from the manifest. Text is not made here:
// a buf() key's text comes from the Formatters the caller passes.
import type { ManifestMap } from '../../compiler/index.js';
import { isComposite, readField } from '../events/decode.js';
import type { Formatters } from '../events/formatters.js';
import { ResolvedPart, type KeyPart, type MapEntry, type MapSnapshot } from '../events/model.js';
import type { ValueResolver } from '../events/resolve.js';
import { native } from '../ffi/libbpf.js';

let cpus: number | undefined;
export function possibleCpus(): number {
  cpus ??= native().num_possible_cpus() as number;
  return cpus;
}

/** Buckets a hist has: (..., 0), [0], then [2^k, 2^(k+1)) for k = 0..63. */
export const HIST_BUCKETS = 66;

/** Sum of 8-byte per-CPU values (each slot is rounded up to 8 bytes by the kernel). */
function sumPerCpu(buf: Buffer, signed: boolean): bigint {
  let total = 0n;
  for (let o = 0; o + 8 <= buf.length; o += 8) total += signed ? buf.readBigInt64LE(o) : buf.readBigUInt64LE(o);
  return total;
}

export function decodeKey(m: ManifestMap, key: Buffer, fmt: Formatters, resolver?: ValueResolver): KeyPart[] {
  if (!m.key) return [];
  const view = new DataView(key.buffer, key.byteOffset, key.length);
  return m.key.fields.map((f) => {
    const v = readField(f, key, view, f.offset, resolver);
    // buf() keys print as %r does: printable bytes as they are, others \xNN.
    if (isComposite(v)) return new ResolvedPart(fmt.valueText(v.value, v.bytes, 'key'));
    if (typeof v === 'object' && !Buffer.isBuffer(v) && 'buf' in v) return new ResolvedPart(fmt.bufText(v.buf));
    return v;
  });
}

/** The combined value of one entry (all CPUs' slots in `value` for per-CPU maps). */
function combine(
  m: ManifestMap,
  value: Buffer,
): MapEntry['value'] | { avg: { count: bigint; total: bigint } } | { str: Buffer } | { raw: Buffer } {
  const slot = Math.ceil(m.valueSize / 8) * 8;
  const n = m.perCpu ? possibleCpus() : 1;
  switch (m.kind) {
    case 'avg':
    case 'stats': {
      let count = 0n;
      let total = 0n;
      for (let c = 0; c < n; c++) {
        count += value.readBigInt64LE(c * slot);
        total += value.readBigInt64LE(c * slot + 8);
      }
      return { avg: { count, total } };
    }
    case 'min':
    case 'max': {
      let best: bigint | undefined;
      for (let c = 0; c < n; c++) {
        if (!value.readBigInt64LE(c * slot + 8)) continue; // this CPU never saw a value
        const v = value.readBigInt64LE(c * slot);
        if (best === undefined || (m.kind === 'max' ? v > best : v < best)) best = v;
      }
      return best ?? 0n;
    }
    case 'str':
      return { str: Buffer.from(value.subarray(0, m.valueSize)) };
    case 'resolved':
    case 'value':
      return { raw: Buffer.from(value.subarray(0, m.valueSize)) };
    default:
      return m.perCpu
        ? sumPerCpu(value, m.valueSigned)
        : m.valueSigned
          ? value.readBigInt64LE(0)
          : value.readBigUInt64LE(0);
  }
}

/** A resolved map value (a stack, a symbol, an address...), resolved as a key part is. */
function resolvedValue(m: ManifestMap, raw: Buffer, fmt: Formatters, resolver?: ValueResolver): ResolvedPart {
  const v = readField(m.resolvedValue!, raw, new DataView(raw.buffer, raw.byteOffset, raw.length), 0, resolver);
  if (v instanceof ResolvedPart) return v;
  // Only resolved kinds reach here (the compiler makes resolved maps of nothing else); anything else as text.
  if (Buffer.isBuffer(v) || typeof v === 'bigint') return new ResolvedPart(v.toString());
  return new ResolvedPart('buf' in v ? fmt.bufText(v.buf) : '');
}

/** Every key of a map (bounded by max_entries: a map that changes under us cannot loop forever). */
export function mapKeys(fd: number, m: ManifestMap): Buffer[] {
  const n = native();
  const keySize = m.key ? m.key.size : 8;
  const keys: Buffer[] = [];
  let prev: Buffer | null = null;
  const next = Buffer.alloc(keySize);
  for (let i = 0; i <= m.maxEntries; i++) {
    if (n.map_get_next_key(fd, prev, next) !== 0) break;
    prev = Buffer.from(next);
    keys.push(prev);
  }
  return keys;
}

export function readMap(fd: number, m: ManifestMap, fmt: Formatters, resolver?: ValueResolver): MapSnapshot {
  const n = native();
  const valueSize = m.perCpu ? Math.ceil(m.valueSize / 8) * 8 * possibleCpus() : m.valueSize;
  const value = Buffer.alloc(valueSize);
  const keyed = !!m.key && m.key.fields.length > 0;
  const snap: MapSnapshot = { name: m.name, kind: m.kind, keyed, entries: [] };
  if (m.lhist) snap.lhist = { ...m.lhist };
  if (m.value) snap.value = m.value;
  if (m.bucket) {
    // hist/lhist: one entry per (key, bucket); gather the buckets of each key.
    const nb = m.lhist ? Math.floor((m.lhist.max - m.lhist.min) / m.lhist.step) + 2 : HIST_BUCKETS;
    const byKey = new Map<string, MapEntry>();
    for (const key of mapKeys(fd, m)) {
      if (n.map_lookup_elem(fd, key, value) !== 0) continue;
      const bucket = Number(key.readBigUInt64LE(m.bucket.offset));
      const userKey = Buffer.from(key);
      userKey.fill(0, m.bucket.offset, m.bucket.offset + 8);
      const id = userKey.toString('hex');
      let e = byKey.get(id);
      if (!e) {
        e = { key: decodeKey(m, userKey, fmt, resolver), value: 0n, buckets: new Array<bigint>(nb).fill(0n) };
        byKey.set(id, e);
      }
      const count = sumPerCpu(value, true);
      if (bucket < nb) e.buckets![bucket]! += count;
      e.value += count;
    }
    snap.entries = [...byKey.values()];
    return snap;
  }
  for (const key of mapKeys(fd, m)) {
    if (n.map_lookup_elem(fd, key, value) !== 0) continue;
    const v = combine(m, value);
    const entry: MapEntry = { key: decodeKey(m, key, fmt, resolver), value: 0n };
    if (typeof v === 'bigint') entry.value = v;
    else if ('avg' in v) {
      entry.avg = v.avg;
      entry.value = v.avg.count ? v.avg.total / v.avg.count : 0n;
    } else if ('raw' in v) {
      if (m.kind === 'resolved') entry.resolved = resolvedValue(m, v.raw, fmt, resolver);
      else entry.raw = v.raw;
    } else entry.str = v.str;
    snap.entries.push(entry);
  }
  return snap;
}

/** clear(@m): delete every entry. */
export function clearMap(fd: number, m: ManifestMap): void {
  const n = native();
  for (const key of mapKeys(fd, m)) n.map_delete_elem(fd, key);
}

/** zero(@m): set every value (every CPU's slot) to zero; the keys stay. */
export function zeroMap(fd: number, m: ManifestMap): void {
  const n = native();
  const zeros = Buffer.alloc(m.perCpu ? Math.ceil(m.valueSize / 8) * 8 * possibleCpus() : m.valueSize);
  for (const key of mapKeys(fd, m)) n.map_update_elem(fd, key, zeros, 2 /* BPF_EXIST */);
}

/** A stack trace map's frames for stack `id` (`frames` slots; zero slots end it), or undefined if it has none. */
export function readStack(fd: number, id: number, frames: number): bigint[] | undefined {
  const key = Buffer.alloc(4);
  key.writeUInt32LE(id, 0);
  const value = Buffer.alloc(frames * 8);
  if (native().map_lookup_elem(fd, key, value) !== 0) return undefined;
  const out: bigint[] = [];
  for (let i = 0; i < frames; i++) {
    const a = value.readBigUInt64LE(i * 8);
    if (!a) break;
    out.push(a);
  }
  return out;
}

/** One per-CPU u64 counter, summed over CPUs. */
export function readCounter(fd: number, index: number): bigint {
  const key = Buffer.alloc(4);
  key.writeUInt32LE(index, 0);
  const value = Buffer.alloc(8 * possibleCpus());
  if (native().map_lookup_elem(fd, key, value) !== 0) return 0n;
  return sumPerCpu(value, false);
}
