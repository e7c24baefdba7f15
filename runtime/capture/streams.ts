// runtime/capture/streams.ts — puts captured bytes back in order, per
// connection and direction, from the byte offsets every record carries.
// Records normally arrive in order; when one is missing (the kernel could not
// reserve room for it, and counted it) its bytes become an explicit loss
// marker: at the connection's close/final record (which carries the byte
// totals, so even a lost tail is detected), or when later bytes have waited
// longer than `maxWaitMs`, or at exit. Connections whose process exited
// without closing them (a process that exits lets the kernel close its fds,
// no close() is traced) are ended once they have been quiet for a while, so a
// long session does not keep every dead connection in memory. A connection's
// identity (its socket, learned in the kernel) arrives once, as an ident
// record, and is kept on its ConnInfo from then on.
import type { ManifestCapture } from '../../compiler/index.js';
import type { CapEvent, ConnInfo } from '../events/model.js';
import { payloadLength, type CaptureRecord } from './records.js';

interface Pending {
  rec: CaptureRecord;
  arrived: number;
}

interface DirState {
  next: number;
  pending: Map<number, Pending>;
  bytes: number;
  lost: number;
}

interface Conn {
  info: ConnInfo;
  dirs: [DirState, DirState];
  ended: boolean;
  /** When the last record for it arrived (ms). */
  lastSeen: number;
}

/** Ended-by-reaping connections remembered (their bytes each way) for a late close/final record; oldest forgotten first. */
const MAX_REAPED = 65536;

export interface StreamTotals {
  connections: number;
  bytes: [number, number];
  lostBytes: number;
  lossMarkers: number;
  records: number;
}

const newDir = (): DirState => ({ next: 0, pending: new Map(), bytes: 0, lost: 0 });

export class Streams {
  private readonly conns = new Map<number, Conn>();
  private readonly siteProbe = new Map<number, string>();
  private readonly endFamily = new Map<number, string>();
  private readonly siteFamily = new Map<number, string>();
  readonly totals: StreamTotals = { connections: 0, bytes: [0, 0], lostBytes: 0, lossMarkers: 0, records: 0 };
  /** Connections ended because their process exited: id → bytes delivered each way. */
  private readonly reaped = new Map<number, [number, number]>();

  constructor(
    capture: ManifestCapture,
    private readonly emit: (e: CapEvent) => void,
    private readonly maxWaitMs = 1000,
  ) {
    for (const s of capture.sites) {
      this.siteProbe.set(s.id, s.probe);
      this.siteFamily.set(s.id, s.family);
    }
    for (const f of capture.families) this.endFamily.set(f.endId, f.name);
  }

  /** What a record says about its connection. */
  private infoOf(rec: CaptureRecord): ConnInfo {
    return {
      id: rec.conn,
      key: rec.key,
      pid: rec.pid,
      comm: rec.comm,
      probe: this.siteProbe.get(rec.site) ?? '',
      family: this.siteFamily.get(rec.site) ?? this.endFamily.get(rec.site) ?? '',
    };
  }

  private conn(rec: CaptureRecord, now: number): Conn {
    let c = this.conns.get(rec.conn);
    if (!c) {
      c = {
        info: this.infoOf(rec),
        dirs: [newDir(), newDir()],
        ended: false,
        lastSeen: now,
      };
      this.conns.set(rec.conn, c);
      const seen = this.reaped.get(rec.conn);
      if (seen) {
        // Data after the connection was ended as exited (not expected: the process is gone): go on from where it was.
        this.reaped.delete(rec.conn);
        c.dirs[0].next = seen[0];
        c.dirs[1].next = seen[1];
      } else {
        this.totals.connections++;
      }
    }
    return c;
  }

  /** `records`: ring records this one stands for (the capture thread merges contiguous ones when no output needs their bytes). */
  add(rec: CaptureRecord, now = Date.now(), records = 1): void {
    this.totals.records += records;
    if (rec.kind === 'ident') return this.identify(rec, now);
    if (rec.kind !== 'data' && this.lateEnd(rec)) return;
    const c = this.conn(rec, now);
    c.lastSeen = now;
    if (rec.kind !== 'data') {
      const totals = rec.totals ?? [0, 0];
      for (const d of [0, 1] as const) this.settle(c, d, totals[d]);
      c.ended = true;
      this.emit({
        kind: 'capture-end',
        conn: c.info,
        closed: rec.kind === 'close',
        bytes: [c.dirs[0].bytes, c.dirs[1].bytes],
        lost: [c.dirs[0].lost, c.dirs[1].lost],
      });
      this.conns.delete(rec.conn);
      return;
    }
    const d = c.dirs[rec.dir];
    if (rec.offset === d.next) {
      this.deliver(c, rec);
      this.drainPending(c, rec.dir);
    } else if (rec.offset > d.next) {
      d.pending.set(rec.offset, { rec, arrived: now });
    } else if (rec.offset + payloadLength(rec) > d.next) {
      // Overlap with bytes already delivered: deliver only the new tail (not expected to happen).
      const skip = d.next - rec.offset;
      const payload = rec.payload.length ? rec.payload.subarray(skip) : rec.payload;
      this.deliver(c, { ...rec, offset: d.next, payload, len: payloadLength(rec) - skip });
      this.drainPending(c, rec.dir);
    }
  }

  /** The kernel learned the connection's socket: every later event carries it. */
  private identify(rec: CaptureRecord, now: number): void {
    if (!rec.ident || (this.reaped.has(rec.conn) && !this.conns.has(rec.conn))) return;
    const c = this.conn(rec, now);
    c.lastSeen = now;
    c.info.ident = rec.ident;
    this.emit({ kind: 'capture-conn', conn: c.info });
  }

  private deliver(c: Conn, rec: CaptureRecord): void {
    const d = c.dirs[rec.dir];
    const len = payloadLength(rec);
    d.next = rec.offset + len;
    d.bytes += len;
    this.totals.bytes[rec.dir] += len;
    if (rec.comm && rec.pid === c.info.pid) c.info.comm = rec.comm;
    if (!c.info.probe) c.info.probe = this.siteProbe.get(rec.site) ?? ''; // it began with its ident record
    this.emit({
      kind: 'capture',
      conn: c.info,
      dir: rec.dir,
      offset: rec.offset,
      data: rec.payload,
      len,
      ts: rec.ts,
      tsLast: rec.tsLast,
      tid: rec.tid,
      site: rec.site,
    });
  }

  private drainPending(c: Conn, dir: 0 | 1): void {
    const d = c.dirs[dir];
    for (let p = d.pending.get(d.next); p; p = d.pending.get(d.next)) {
      d.pending.delete(p.rec.offset);
      this.deliver(c, p.rec);
    }
  }

  private loss(c: Conn, dir: 0 | 1, offset: number, bytes: number): void {
    if (bytes <= 0) return;
    const d = c.dirs[dir];
    d.lost += bytes;
    d.next = offset + bytes;
    this.totals.lostBytes += bytes;
    this.totals.lossMarkers++;
    this.emit({ kind: 'capture-loss', conn: c.info, dir, offset, bytes });
  }

  /** Deliver everything pending in order, marking gaps, up to `total` bytes. */
  private settle(c: Conn, dir: 0 | 1, total: number): void {
    const d = c.dirs[dir];
    const offsets = [...d.pending.keys()].sort((a, b) => a - b);
    for (const o of offsets) {
      const p = d.pending.get(o)!;
      d.pending.delete(o);
      if (o > d.next) this.loss(c, dir, d.next, o - d.next);
      if (o >= d.next) this.deliver(c, p.rec);
    }
    if (total > d.next) this.loss(c, dir, d.next, total - d.next);
  }

  /** Give up waiting for bytes that later ones have waited `maxWaitMs` for. */
  tick(now = Date.now()): void {
    for (const c of this.conns.values()) {
      for (const dir of [0, 1] as const) {
        const d = c.dirs[dir];
        if (!d.pending.size) continue;
        // Not Math.min(...keys): a sink that drops leaves ~100k records waiting, past V8's argument limit.
        let first = Infinity;
        for (const k of d.pending.keys()) if (k < first) first = k;
        const p = d.pending.get(first)!;
        if (now - p.arrived < this.maxWaitMs) continue;
        this.loss(c, dir, d.next, first - d.next);
        this.drainPending(c, dir);
      }
    }
  }

  /**
   * When tick() may next have something to do (Date.now() ms; Infinity: nothing waits behind a gap). Taken
   * from each stream's oldest waiting record (the first in its map), which is never later than tick()'s own
   * test (the record at the lowest offset), so a loop that sleeps until then is never late.
   */
  nextDue(): number {
    let due = Infinity;
    for (const c of this.conns.values()) {
      for (const d of c.dirs) {
        if (!d.pending.size) continue;
        const oldest = d.pending.values().next().value!;
        due = Math.min(due, oldest.arrived + this.maxWaitMs);
      }
    }
    return due;
  }

  /**
   * End the connections that have had no record for `quietMs` and whose
   * process is gone (`alive(pid)` false): what is pending is settled (gaps
   * become loss markers) and a capture-end says the process exited.
   */
  reap(alive: (pid: number) => boolean, now = Date.now(), quietMs = 5000): number {
    let n = 0;
    for (const c of this.conns.values()) {
      if (now - c.lastSeen < quietMs || alive(c.info.pid)) continue;
      for (const dir of [0, 1] as const) this.settle(c, dir, 0);
      this.emit({
        kind: 'capture-end',
        conn: c.info,
        closed: false,
        exited: true,
        bytes: [c.dirs[0].bytes, c.dirs[1].bytes],
        lost: [c.dirs[0].lost, c.dirs[1].lost],
      });
      this.conns.delete(c.info.id);
      this.reaped.set(c.info.id, [c.dirs[0].next, c.dirs[1].next]);
      if (this.reaped.size > MAX_REAPED) this.reaped.delete(this.reaped.keys().next().value!);
      n++;
    }
    return n;
  }

  /** Open connections (for tests and statistics). */
  get open(): number {
    return this.conns.size;
  }

  /**
   * The close/final record of a connection already ended by reap(): its
   * totals can still reveal a lost tail, which is counted and marked; nothing
   * else is said twice. True when the record was such a late end.
   */
  private lateEnd(rec: CaptureRecord): boolean {
    const seen = this.reaped.get(rec.conn);
    if (!seen || this.conns.has(rec.conn)) return false;
    this.reaped.delete(rec.conn);
    const totals = rec.totals ?? [0, 0];
    for (const dir of [0, 1] as const) {
      const missing = totals[dir] - seen[dir];
      if (missing <= 0) continue;
      this.totals.lostBytes += missing;
      this.totals.lossMarkers++;
      this.emit({ kind: 'capture-loss', conn: this.infoOf(rec), dir, offset: seen[dir], bytes: missing });
    }
    return true;
  }

  /** At exit (after the final records): settle what is left. */
  finish(): void {
    for (const c of this.conns.values()) {
      for (const dir of [0, 1] as const) this.settle(c, dir, 0);
    }
  }
}
