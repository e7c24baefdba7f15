// runtime/ui/panes.ts — the content of each pane as plain lines, computed
// from the store (or from a paused copy of it): the events tail with its
// filter and scroll, maps as tables sorted by value with bars, the streams
// list, and the probes table. Pure functions: the components only draw them.
import type { MapSnapshot, TlsStackInfo } from '../events/model.js';
import { peerText } from '../format/identity.js';
import { keyText, mapText } from '../format/maps.js';
import { escapeText } from '../format/payload.js';
import { bytes, fit, nanos, si } from './format.js';
import { entryLines, matches, type Filter, type Line } from './lines.js';
import type { ProbeRow } from './stats.js';
import type { Entry } from './store.js';
import type { ConnView } from './stream-book.js';

/** Where the events pane reads from: the live store (newest first), or a paused copy. */
export interface EntrySource {
  newestFirst(visit: (e: Entry) => boolean): void;
}

export interface EventsWindow {
  lines: Line[];
  /** Largest scroll (lines up from the newest) that still shows something new. */
  maxScroll: number;
  /** Entries that passed the filter, among those looked at. */
  matched: number;
}

/**
 * The `height` lines ending `scroll` lines above the newest one. Entries are
 * turned into lines newest first and only until the window is full, so a
 * live frame costs what is on screen, not what is kept.
 */
export function eventsWindow(
  src: EntrySource,
  o: { filter?: Filter; hex: boolean; height: number; scroll: number; all?: boolean },
): EventsWindow {
  const need = o.height + o.scroll;
  const chunks: Line[][] = [];
  let have = 0;
  let matched = 0;
  src.newestFirst((e) => {
    if (!matches(e, o.filter)) return true;
    matched++;
    const ls = entryLines(e, { hex: o.hex, maxPayloadLines: 8 });
    chunks.push(ls);
    have += ls.length;
    return o.all === true || have < need + o.height + 1;
  });
  const lines: Line[] = [];
  for (let i = chunks.length - 1; i >= 0; i--) lines.push(...chunks[i]!);
  const scroll = Math.min(o.scroll, Math.max(0, lines.length - o.height));
  const end = lines.length - scroll;
  return {
    lines: lines.slice(Math.max(0, end - o.height), end),
    maxScroll: Math.max(0, lines.length - o.height),
    matched,
  };
}

/** A paused copy of the entries, newest-first readable. */
export function frozenSource(entries: Entry[]): EntrySource {
  return {
    newestFirst(visit) {
      for (let i = entries.length - 1; i >= 0; i--) if (!visit(entries[i]!)) return;
    },
  };
}

function mapKey(key: MapSnapshot['entries'][number]['key']): string {
  return key.map((k) => keyText(k).replace(/[^\x20-\x7e]/g, '?')).join(', ');
}

/** Every map as a table: name, then entries largest first with a bar scaled to the largest. */
export function mapsLines(maps: MapSnapshot[], width: number, filter?: Filter): Line[] {
  const out: Line[] = [];
  const text =
    filter?.kind === 'text'
      ? filter.text
      : filter?.kind === 'comm'
        ? filter.comm
        : filter?.kind === 'pid'
          ? String(filter.pid)
          : undefined;
  const sorted = [...maps].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const m of sorted) {
    const nameMatches = text === undefined || m.name.includes(text);
    let entries = m.entries.map((e) => ({ key: mapKey(e.key), value: e.value }));
    if (!nameMatches) entries = entries.filter((e) => e.key.includes(text!));
    if (!nameMatches && !entries.length) continue;
    if (m.kind === 'hist' || m.kind === 'lhist' || m.kind === 'stats' || m.kind === 'str' || m.kind === 'resolved') {
      // Histograms, stats and strings as bpftrace prints them (their own bars and layout).
      const shown = nameMatches ? m : { ...m, entries: m.entries.filter((e) => mapKey(e.key).includes(text!)) };
      for (const l of mapText(shown).toString('utf8').replace(/\n+$/, '').split('\n'))
        out.push({ text: l.replace(/[^\x20-\x7e█▏▎▍▌▋▊▉@]/g, '?'), tone: 'plain' });
      continue;
    }
    if (!m.keyed) {
      out.push({ text: `${m.name}: ${entries[0]?.value ?? 0}`, tone: 'plain' });
      continue;
    }
    entries.sort((a, b) => (a.value > b.value ? -1 : a.value < b.value ? 1 : a.key < b.key ? -1 : 1));
    out.push({ text: `${m.name}  (${m.kind}, ${entries.length} key${entries.length === 1 ? '' : 's'})`, tone: 'dim' });
    if (!entries.length) continue;
    const max = entries.reduce((x, e) => (e.value > x ? e.value : x), 0n);
    const keyW = Math.min(Math.max(24, Math.floor(width * 0.6)), Math.max(4, ...entries.map((e) => e.key.length + 2)));
    const valW = Math.max(...entries.map((e) => e.value.toString().length));
    const barW = Math.max(0, width - keyW - valW - 5);
    for (const e of entries) {
      const n = max > 0n && e.value > 0n ? Math.max(1, Math.round((Number(e.value) / Number(max)) * barW)) : 0;
      out.push({
        text: `  ${fit(`[${e.key}]`, keyW)} ${'█'.repeat(n).padEnd(barW)} ${e.value.toString().padStart(valW)}`,
        tone: 'plain',
      });
    }
  }
  return out;
}

export const STREAM_HEADER = '    ID  PROCESS              OUT        IN      LOST  STATE    PEER';

const STATE: Record<ConnView['state'], string> = {
  open: 'open',
  closed: 'closed',
  exited: 'exited',
  'open at exit': 'at exit',
};

/** One connection: its process, bytes each way, losses, state, and its peer (`?` while the socket is not known). */
export function streamRow(c: ConnView, selected: boolean): Line {
  const lost = c.lost[0] + c.lost[1];
  const text = `${selected ? '▸' : ' '} ${String(c.info.id).padStart(4)}  ${fit(`${escapeText(c.info.comm)}[${c.info.pid}]`, 16)} ${bytes(c.bytes[0]).padStart(9)} ${bytes(c.bytes[1]).padStart(9)} ${(lost ? bytes(lost) : '-').padStart(9)}  ${fit(STATE[c.state], 7)}  ${peerText(c.info)}`;
  return { text, tone: lost ? 'loss' : 'plain' };
}

/** The probes table, then the TLS stacks discovery attached to (--tls, uprobe:tls:). */
export function probeLines(rows: ProbeRow[], width: number, tls: TlsStackInfo[] = []): Line[] {
  const nameW = Math.max(16, width - 38);
  const head = `${fit('PROBE', nameW)} ${'HITS'.padStart(8)} ${'HITS/S'.padStart(8)} ${'TIME/HIT'.padStart(10)} ${'CPU%'.padStart(7)}`;
  const out: Line[] = [{ text: head, tone: 'dim' }];
  for (const r of rows) {
    const name = r.role ? `${r.label} (${r.role})` : r.label;
    const cpu = r.cpuPct === undefined ? '-' : r.cpuPct.toFixed(2);
    out.push({
      text: `${fit(name, nameW)} ${(r.hits === undefined ? '-' : si(r.hits)).padStart(8)} ${(r.hitsPerSec === undefined ? '-' : si(r.hitsPerSec)).padStart(8)} ${(r.nsPerHit === undefined ? '-' : nanos(r.nsPerHit)).padStart(10)} ${cpu.padStart(7)}`,
      tone: 'plain',
    });
  }
  if (tls.length) {
    out.push({ text: '', tone: 'plain' }, { text: fit('TLS STACKS (discovery)', width), tone: 'dim' });
    for (const t of tls) {
      const pids = t.pids.length ? `  pids ${t.pids.slice(0, 6).join(',')}${t.pids.length > 6 ? ',...' : ''}` : '';
      out.push({ text: fit(`${t.name} in ${t.path} (${t.probes} probes)${pids}`, width), tone: 'plain' });
    }
  }
  return out;
}
