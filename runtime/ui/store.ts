// runtime/ui/store.ts — the terminal UI's model of the session: a Renderer
// whose event() only appends to bounded in-memory structures (a ring of
// recent entries that allocates nothing per printf, per-connection stream
// buffers, counters) in O(1) and never renders. The UI reads it on its own timer, at most ~10 times a second, so
// reading the rings is never tied to drawing the screen. It also keeps what
// must be printed once the UI has closed: drop totals and the session's
// closing output (END's printf, open connections, the final maps).
import { exchangeLine } from '../format/exchange.js';
import { identityUnknownText } from '../format/identity.js';
import { helperErrorText } from '../format/helper-error.js';
import { mapText } from '../format/maps.js';
import type { CapEvent, MapSnapshot, PayloadNeed, Renderer, TlsStackInfo } from '../events/model.js';
import type { LiveControls, SessionSnapshot } from '../session/snapshot.js';
import { EntryRing, type Entry } from './entry-ring.js';
import { QueryBook } from './query-book.js';
import { DEFAULT_STREAM_LIMITS, StreamBook, type StreamBookLimits } from './stream-book.js';

export type { Entry } from './entry-ring.js';

/** Events kept after 'stopping' for printing after the UI closes. */
const MAX_CLOSING_EVENTS = 100_000;

export interface StoreOptions {
  /** Entries kept for the events pane, and bytes of text they may hold. */
  capacity?: number;
  textBytes?: number;
  streams?: StreamBookLimits;
}

export class UiStore implements Renderer {
  private readonly ring: EntryRing;
  /** Bumped on every change: the UI redraws only when it moved. */
  version = 0;
  readonly streams: StreamBook;
  /** Decoded exchanges (--decode), for the Queries pane. */
  readonly queries = new QueryBook();
  /** The session decodes protocols (the Queries pane says so while none arrived). */
  decoding = false;
  /** Events delivered (printf records and capture records). */
  events = 0;
  /** Bytes delivered (printf output and captured payload). */
  bytes = 0;
  /** Drops reported by the session since the start, per ring / per map. */
  readonly lost = new Map<string, number>();
  readonly mapFull = new Map<string, { count: number; maxEntries: number }>();
  /** Exporters' losses during the session, per sink (replayed after the UI closes, as drops are). */
  readonly exportLoss = new Map<string, Extract<CapEvent, { kind: 'export-loss' }>>();
  /** while loops stopped at loop_limit, by where they are (W0904). */
  readonly loopLimit = new Map<string, { count: number; limit: number }>();
  probes = 0;
  /** TLS stacks discovery attached to, in the order found. */
  readonly tlsStacks: TlsStackInfo[] = [];
  maps: MapSnapshot[] = [];
  /** The latest two snapshots (for rates), with the store's totals when each arrived. */
  snap: { s: SessionSnapshot; events: number; bytes: number } | undefined;
  prevSnap: { s: SessionSnapshot; events: number; bytes: number } | undefined;
  controls: LiveControls | undefined;
  /** Set by the UI while the maps are on screen: only then are they read live. */
  mapsWanted = false;
  /** When the maps shown were read, and how long that took. */
  mapsAt: { at: number; readMs: number } | undefined;
  /** The session is closing (probes detached): END and the final maps follow. */
  stopping = false;
  /** Entries added before 'stopping' (what the events pane showed while the session ran). */
  private stoppedAt: number | undefined;
  ended = false;
  private readonly closing: CapEvent[] = [];
  /** Payload bytes the stream book keeps per connection: older bytes need not reach the UI at all. */
  private readonly keepBytes: number;

  payloadNeed(): PayloadNeed {
    return { tail: this.keepBytes };
  }

  constructor(opts: StoreOptions = {}) {
    this.ring = new EntryRing(opts.capacity, opts.textBytes);
    this.keepBytes = (opts.streams ?? DEFAULT_STREAM_LIMITS).bytesPerConn;
    this.streams = new StreamBook(opts.streams);
  }

  /** Entries ever added (the next entry's seq). */
  get seq(): number {
    return this.ring.seq;
  }

  event(e: CapEvent): void {
    this.version++;
    if (this.stopping && this.closing.length < MAX_CLOSING_EVENTS) this.closing.push(e);
    switch (e.kind) {
      case 'attaching':
        this.probes = e.probes;
        return;
      case 'tls-stacks':
        this.tlsStacks.push(...e.stacks);
        return;
      case 'tls-problem':
        // TLS discovery could not probe something: say it where the user is looking.
        this.ring.pushText('printf', Buffer.from(`warning[W0907]: ${e.message}\n`));
        return;
      case 'printf':
        this.events++;
        this.bytes += e.text.length;
        this.ring.pushText('printf', e.text);
        return;
      case 'capture':
        this.events++;
        this.bytes += e.len ?? e.data.length;
        this.streams.data(e.conn, e.dir, e.offset, e.data, e.len);
        this.ring.pushObject({
          seq: this.ring.seq,
          kind: 'capture',
          conn: e.conn,
          dir: e.dir,
          offset: e.offset,
          data: e.data,
          len: e.len,
        });
        return;
      case 'capture-loss':
        this.streams.loss(e.conn, e.dir, e.offset, e.bytes);
        this.ring.pushObject({
          seq: this.ring.seq,
          kind: 'capture-loss',
          conn: e.conn,
          dir: e.dir,
          offset: e.offset,
          bytes: e.bytes,
        });
        return;
      case 'capture-conn':
        this.streams.identify(e.conn);
        return;
      case 'capture-end':
        this.streams.end(e.conn, e.closed, e.exited);
        this.ring.pushObject({
          seq: this.ring.seq,
          kind: 'capture-end',
          conn: e.conn,
          closed: e.closed,
          exited: e.exited,
          bytes: e.bytes,
          lost: e.lost,
        });
        return;
      case 'lost':
        this.lost.set(e.ring, (this.lost.get(e.ring) ?? 0) + e.count);
        return;
      case 'export-loss': {
        const x = this.exportLoss.get(e.sink);
        this.exportLoss.set(e.sink, {
          ...e,
          count: (x?.count ?? 0) + e.count,
          bytes: (x?.bytes ?? 0) + (e.bytes ?? 0),
        });
        return;
      }
      case 'map-full': {
        const m = this.mapFull.get(e.map);
        this.mapFull.set(e.map, { count: (m?.count ?? 0) + e.count, maxEntries: e.maxEntries });
        return;
      }
      case 'maps':
        if (e.atExit) this.maps = e.maps;
        // print(@m): the map's text goes among the events, where text mode prints it.
        else
          this.ring.pushText(
            'printf',
            Buffer.concat(
              [...e.maps].filter((m) => m.entries.length).map((m) => mapText(m, { top: e.top, div: e.div })),
            ),
          );
        return;
      case 'time':
      case 'cat':
      case 'system':
        this.events++;
        this.ring.pushText('printf', e.text);
        return;
      case 'helper-error':
        this.ring.pushText('printf', Buffer.from(helperErrorText(e)));
        return;
      case 'action-error':
        this.ring.pushText('printf', Buffer.from(`error: ${e.action}(): ${e.message}\n`));
        return;
      case 'join':
      case 'value':
        this.events++;
        this.ring.pushText('printf', Buffer.concat([e.text, Buffer.from('\n')]));
        return;
      case 'loop-limit': {
        const l = this.loopLimit.get(e.where);
        this.loopLimit.set(e.where, { count: (l?.count ?? 0) + e.count, limit: e.limit });
        return;
      }
      case 'stopping':
        this.stopping = true;
        this.stoppedAt = this.ring.seq;
        return;
      case 'capture-summary':
        if (e.identityUnknown) this.ring.pushText('printf', Buffer.from(identityUnknownText(e.identityUnknown)));
        return;
      case 'identity-unknown':
        this.ring.pushText('printf', Buffer.from(identityUnknownText(e.count)));
        return;
      case 'decode-summary':
        return;
      case 'exchange':
        this.events++;
        this.decoding = true;
        this.queries.add(e.x);
        // The events pane shows what text mode prints (and replays it when the UI closes).
        this.ring.pushText('printf', Buffer.from(`${exchangeLine(e.x)}\n`));
        return;
    }
  }

  end(): void {
    this.ended = true;
    this.version++;
  }

  /** Output of the -c command (the UI owns the terminal, so it is shown as entries). */
  childOutput(data: Buffer): void {
    this.version++;
    this.ring.pushText('child', data);
  }

  snapshot(s: SessionSnapshot): void {
    this.version++;
    this.prevSnap = this.snap;
    this.snap = { s, events: this.events, bytes: this.bytes };
    if (s.maps) {
      this.maps = s.maps;
      this.mapsAt = { at: s.at, readMs: s.mapsReadMs ?? 0 };
    }
  }

  /** Forget the maps shown until the next snapshot (after `c`). */
  clearShownMaps(): void {
    this.maps = this.maps.map((m) => ({ ...m, entries: [] }));
    this.version++;
  }

  /** Entries kept, oldest first (copies: the ring keeps moving). */
  entries(): Entry[] {
    return this.ring.entries();
  }

  /** Walk entries newest first until `visit` returns false. */
  newestFirst(visit: (e: Entry) => boolean): void {
    this.ring.newestFirst(visit);
  }

  /**
   * What to print on the normal screen once the UI is gone, as text mode would
   * have: with `replay` (the session ended by itself, nobody may have read the
   * screen) first the entries the events pane still holds; then the drops seen
   * during the session (one line per ring or map); then everything from the
   * closing phase on (END output, connections still open, the capture
   * summary, the final maps). `skipped` counts entries no longer held.
   */
  afterUi(o: { replay: boolean } = { replay: false }): { events: CapEvent[]; skipped: number } {
    const out: CapEvent[] = [];
    let skipped = 0;
    if (o.replay) {
      const until = this.stoppedAt ?? this.ring.seq;
      const held = this.ring.entries().filter((e) => e.seq < until);
      skipped = held[0]?.seq ?? until;
      for (const e of held) out.push(asEvent(e));
    }
    const lostLater = new Map<string, number>();
    for (const e of this.closing) if (e.kind === 'lost') lostLater.set(e.ring, (lostLater.get(e.ring) ?? 0) + e.count);
    for (const [ring, count] of this.lost) {
      const before = count - (lostLater.get(ring) ?? 0);
      if (before > 0) out.push({ kind: 'lost', ring, count: before });
    }
    const fullLater = new Map<string, number>();
    for (const e of this.closing)
      if (e.kind === 'map-full') fullLater.set(e.map, (fullLater.get(e.map) ?? 0) + e.count);
    for (const [map, { count, maxEntries }] of this.mapFull) {
      const before = count - (fullLater.get(map) ?? 0);
      if (before > 0) out.push({ kind: 'map-full', map, count: before, maxEntries });
    }
    const exportLater = new Map<string, number>();
    for (const e of this.closing)
      if (e.kind === 'export-loss') exportLater.set(e.sink, (exportLater.get(e.sink) ?? 0) + e.count);
    for (const [sink, x] of this.exportLoss) {
      const before = x.count - (exportLater.get(sink) ?? 0);
      if (before > 0) out.push({ ...x, count: before, bytes: undefined });
    }
    const loopsLater = new Map<string, number>();
    for (const e of this.closing)
      if (e.kind === 'loop-limit') loopsLater.set(e.where, (loopsLater.get(e.where) ?? 0) + e.count);
    for (const [where, { count, limit }] of this.loopLimit) {
      const before = count - (loopsLater.get(where) ?? 0);
      if (before > 0) out.push({ kind: 'loop-limit', where, count: before, limit });
    }
    return { events: [...out, ...this.closing.filter((e) => e.kind !== 'stopping')], skipped };
  }
}

/** An entry as the event text mode prints (the -c command's output is printed as is, as printf output is). */
function asEvent(e: Entry): CapEvent {
  switch (e.kind) {
    case 'printf':
    case 'child':
      return { kind: 'printf', text: e.text };
    case 'capture':
      return {
        kind: 'capture',
        conn: e.conn,
        dir: e.dir,
        offset: e.offset,
        data: e.data,
        len: e.len,
        ts: 0n,
        tsLast: 0n,
        tid: 0,
        site: 0,
      };
    case 'capture-loss':
      return { kind: 'capture-loss', conn: e.conn, dir: e.dir, offset: e.offset, bytes: e.bytes };
    case 'capture-end':
      return { kind: 'capture-end', conn: e.conn, closed: e.closed, exited: e.exited, bytes: e.bytes, lost: e.lost };
  }
}
