// runtime/format/maps.ts — maps as bpftrace 0.17 prints them, in text and in
// JSON. Text: `@name[k1, k2]: value`, entries ascending (by value; by the
// average for avg/stats; by the total count for histograms; by key for
// strings), maps in name order; avg and stats maps end with a blank line,
// each histogram too. JSON: bpftrace's envelope, `{"type": "map", "data":
// {"@name": {"k1,k2": value}}}`, with "stats" for avg/stats and "hist" for
// histograms. `top` keeps the last (largest) entries; `div` divides values.
import type { KeyPart, MapEntry, MapSnapshot } from '../events/model.js';
import { ResolvedPart } from '../events/model.js';
import { histJson, histRows } from './hist.js';
import { cstr } from './printf.js';
import { valueJson as compositeJson, valueText as compositeText } from './values.js';

export interface PrintOptions {
  top?: number;
  div?: number;
}

export function keyText(k: KeyPart): string {
  if (k instanceof ResolvedPart) return keyPartText(k);
  return Buffer.isBuffer(k) ? cstr(k).toString('latin1') : k.toString();
}

/** A stack in a key prints one frame per line, indented by 4 (printf indents by 8). */
function keyPartText(k: ResolvedPart): string {
  if (!k.frames) return k.text;
  // No user stack (a kernel thread): `@[]`, as bpftrace prints it.
  return k.frames.length ? `\n${k.frames.map((f) => `${k.keyIndent}${f}\n`).join('')}` : '';
}

function keyBytes(k: KeyPart): Buffer {
  if (k instanceof ResolvedPart) return Buffer.from(keyPartText(k));
  return Buffer.isBuffer(k) ? cstr(k) : Buffer.from(k.toString());
}

function compareKeys(a: KeyPart[], b: KeyPart[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    const c =
      typeof x === 'bigint' && typeof y === 'bigint'
        ? x < y
          ? -1
          : x > y
            ? 1
            : 0
        : Buffer.compare(keyBytes(x), keyBytes(y));
    if (c) return c;
  }
  return a.length - b.length;
}

/** Ascending by value, ties by key (bpftrace's order, made deterministic); strings by key. */
export function sortedEntries(m: MapSnapshot): MapEntry[] {
  if (m.kind === 'str' || m.kind === 'value' || m.kind === 'resolved')
    return [...m.entries].sort((a, b) => compareKeys(a.key, b.key));
  return [...m.entries].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : compareKeys(a.key, b.key)));
}

function shown(m: MapSnapshot, opts: PrintOptions): MapEntry[] {
  const all = sortedEntries(m);
  return opts.top && all.length > opts.top ? all.slice(all.length - opts.top) : all;
}

function joinKey(key: KeyPart[], sep: string): Buffer {
  const parts: Buffer[] = [];
  key.forEach((k, i) => {
    if (i) parts.push(Buffer.from(sep));
    parts.push(keyBytes(k));
  });
  return Buffer.concat(parts);
}

function valueText(m: MapSnapshot, e: MapEntry, div: bigint): string {
  switch (m.kind) {
    case 'stats': {
      const a = e.avg ?? { count: 0n, total: 0n };
      return `count ${a.count}, average ${a.count ? a.total / a.count : 0n}, total ${a.total}`;
    }
    case 'str':
      return cstr(e.str ?? Buffer.alloc(0)).toString('latin1');
    case 'resolved':
      // A stack prints as printf's %s does: a newline, then one indented frame per line (a blank line follows).
      return e.resolved?.text ?? '';
    case 'value':
      return m.value && e.raw ? compositeText(m.value, e.raw) : '';
    default:
      return String(e.value / div);
  }
}

/** Text of one map (bytes, since keys and strings may hold any bytes). */
export function mapText(m: MapSnapshot, opts: PrintOptions = {}): Buffer {
  const div = BigInt(opts.div ?? 1);
  const hist = m.kind === 'hist' || m.kind === 'lhist';
  const out: Buffer[] = [];
  for (const e of shown(m, opts)) {
    const key = m.keyed ? Buffer.concat([Buffer.from('['), joinKey(e.key, ', '), Buffer.from(']')]) : Buffer.alloc(0);
    out.push(Buffer.from(m.name, 'latin1'), key, Buffer.from(': '));
    if (hist)
      out.push(Buffer.from(`\n${histRows(e.buckets ?? [], m.kind === 'lhist' ? m.lhist : undefined, Number(div))}\n`));
    else out.push(Buffer.from(valueText(m, e, div), 'latin1'), Buffer.from('\n'));
  }
  if (m.kind === 'avg' || m.kind === 'stats') out.push(Buffer.from('\n'));
  return Buffer.concat(out);
}

/** bpftrace's JSON spacing: `": "` and `", "` inside objects, none inside arrays. */
export function jsonValue(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return `[${v.map(jsonValue).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}: ${jsonValue(x)}`)
      .join(', ')}}`;
  return JSON.stringify(v);
}

function entryJson(m: MapSnapshot, e: MapEntry, div: bigint): string {
  switch (m.kind) {
    case 'hist':
    case 'lhist':
      return histJson(e.buckets ?? [], m.kind === 'lhist' ? m.lhist : undefined, Number(div));
    case 'stats': {
      const a = e.avg ?? { count: 0n, total: 0n };
      return jsonValue({ count: a.count, average: a.count ? a.total / a.count : 0n, total: a.total });
    }
    case 'str':
      return jsonValue(cstr(e.str ?? Buffer.alloc(0)).toString('utf8'));
    case 'resolved':
      return jsonValue(e.resolved?.text ?? '');
    case 'value':
      return m.value && e.raw ? compositeJson(m.value, e.raw) : 'null';
    default:
      return (e.value / div).toString();
  }
}

/** The JSON line of one map (without its newline). */
export function mapJson(m: MapSnapshot, opts: PrintOptions = {}): string {
  const div = BigInt(opts.div ?? 1);
  const type =
    m.kind === 'hist' || m.kind === 'lhist' ? 'hist' : m.kind === 'avg' || m.kind === 'stats' ? 'stats' : 'map';
  const entries = shown(m, opts);
  let data: string;
  if (!m.keyed) data = entries[0] ? entryJson(m, entries[0], div) : '0';
  else
    data = `{${entries.map((e) => `${JSON.stringify(e.key.map((k) => bytesToJsonText(k)).join(','))}: ${entryJson(m, e, div)}`).join(', ')}}`;
  return `{"type": "${type}", "data": {${JSON.stringify(m.name)}: ${data}}}`;
}

/** Key text for JSON: UTF-8 where valid; invalid bytes become U+FFFD. */
export function bytesToJsonText(k: KeyPart): string {
  if (k instanceof ResolvedPart) return keyPartText(k);
  return Buffer.isBuffer(k) ? cstr(k).toString('utf8') : k.toString();
}
