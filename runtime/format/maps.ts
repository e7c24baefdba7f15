// runtime/format/maps.ts — maps as bpftrace prints them, in text and in JSON.
// Text: `@name[k1, k2]: value`, entries in ascending value order (largest
// last, next to the prompt), maps in name order. JSON: bpftrace's envelope,
// `{"type": "map", "data": {"@name": {"k1,k2": value}}}`.
import type { KeyPart, MapSnapshot } from '../events/model.js';
import { cstr } from './printf.js';

export function keyText(k: KeyPart): string {
  return Buffer.isBuffer(k) ? cstr(k).toString('latin1') : k.toString();
}

function compareKeys(a: KeyPart[], b: KeyPart[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    const c = Buffer.isBuffer(x) || Buffer.isBuffer(y) ? Buffer.compare(cstr(Buffer.from(x as Buffer)), cstr(Buffer.from(y as Buffer))) : x < y ? -1 : x > y ? 1 : 0;
    if (c) return c;
  }
  return a.length - b.length;
}

/** Ascending by value, ties by key (bpftrace's order, made deterministic). */
export function sortedEntries(m: MapSnapshot) {
  return [...m.entries].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : compareKeys(a.key, b.key)));
}

/** Text lines of one map (bytes, since keys may hold any bytes). */
export function mapText(m: MapSnapshot): Buffer {
  const lines: Buffer[] = [];
  for (const e of sortedEntries(m)) {
    const key = m.keyed ? Buffer.concat([Buffer.from('['), joinKey(e.key, ', '), Buffer.from(']')]) : Buffer.alloc(0);
    lines.push(Buffer.concat([Buffer.from(m.name, 'latin1'), key, Buffer.from(`: ${e.value}\n`)]));
  }
  return Buffer.concat(lines);
}

function joinKey(key: KeyPart[], sep: string): Buffer {
  const parts: Buffer[] = [];
  key.forEach((k, i) => {
    if (i) parts.push(Buffer.from(sep));
    parts.push(Buffer.isBuffer(k) ? cstr(k) : Buffer.from(k.toString()));
  });
  return Buffer.concat(parts);
}

/** bpftrace's JSON spacing: `": "` and `", "` inside objects, none inside arrays. */
export function jsonValue(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return `[${v.map(jsonValue).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${jsonValue(x)}`).join(', ')}}`;
  return JSON.stringify(v);
}

export function mapJson(m: MapSnapshot): string {
  if (!m.keyed) return jsonValue({ type: 'map', data: { [m.name]: m.entries[0]?.value ?? 0n } });
  const obj: Record<string, bigint> = {};
  for (const e of sortedEntries(m)) obj[e.key.map((k) => bytesToJsonText(k)).join(',')] = e.value;
  return jsonValue({ type: 'map', data: { [m.name]: obj } });
}

/** Key text for JSON: UTF-8 where valid; invalid bytes become U+FFFD. */
export function bytesToJsonText(k: KeyPart): string {
  return Buffer.isBuffer(k) ? cstr(k).toString('utf8') : k.toString();
}
