// runtime/capture/streams.ts — puts captured bytes back in order, per
// connection and direction, from the byte offsets every record carries.
// Records normally arrive in order; when one is missing (the kernel could not
// reserve room for it, and counted it) its bytes become an explicit loss
// marker: at the connection's close/final record (which carries the byte
// totals, so even a lost tail is detected), or when later bytes have waited
// longer than `maxWaitMs`, or at exit.
import type { ManifestCapture } from '../../compiler/manifest.js';
import type { CapEvent, ConnInfo } from '../events/model.js';
import type { CaptureRecord } from './records.js';

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
}

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

  constructor(capture: ManifestCapture, private readonly emit: (e: CapEvent) => void, private readonly maxWaitMs = 1000) {
    for (const s of capture.sites) {
      this.siteProbe.set(s.id, s.probe);
      this.siteFamily.set(s.id, s.family);
    }
    for (const f of capture.families) this.endFamily.set(f.endId, f.name);
  }

  private conn(rec: CaptureRecord): Conn {
    let c = this.conns.get(rec.conn);
    if (!c) {
      c = {
        info: {
          id: rec.conn,
          key: rec.key,
          pid: rec.pid,
          comm: rec.comm,
          probe: this.siteProbe.get(rec.site) ?? '',
          family: this.siteFamily.get(rec.site) ?? this.endFamily.get(rec.site) ?? '',
        },
        dirs: [newDir(), newDir()],
        ended: false,
      };
      this.conns.set(rec.conn, c);
      this.totals.connections++;
    }
    return c;
  }

  add(rec: CaptureRecord, now = Date.now()): void {
    this.totals.records++;
    const c = this.conn(rec);
    if (rec.kind !== 'data') {
      const totals = rec.totals ?? [0, 0];
      for (const d of [0, 1] as const) this.settle(c, d, totals[d]);
      c.ended = true;
      this.emit({ kind: 'capture-end', conn: c.info, closed: rec.kind === 'close', bytes: [c.dirs[0].bytes, c.dirs[1].bytes], lost: [c.dirs[0].lost, c.dirs[1].lost] });
      this.conns.delete(rec.conn);
      return;
    }
    const d = c.dirs[rec.dir];
    if (rec.offset === d.next) {
      this.deliver(c, rec);
      this.drainPending(c, rec.dir);
    } else if (rec.offset > d.next) {
      d.pending.set(rec.offset, { rec, arrived: now });
    } else if (rec.offset + rec.payload.length > d.next) {
      // Overlap with bytes already delivered: deliver only the new tail (not expected to happen).
      const skip = d.next - rec.offset;
      this.deliver(c, { ...rec, offset: d.next, payload: rec.payload.subarray(skip) });
      this.drainPending(c, rec.dir);
    }
  }

  private deliver(c: Conn, rec: CaptureRecord): void {
    const d = c.dirs[rec.dir];
    d.next = rec.offset + rec.payload.length;
    d.bytes += rec.payload.length;
    this.totals.bytes[rec.dir] += rec.payload.length;
    if (rec.comm && rec.pid === c.info.pid) c.info.comm = rec.comm;
    this.emit({ kind: 'capture', conn: c.info, dir: rec.dir, offset: rec.offset, data: rec.payload, ts: rec.ts, tid: rec.tid, site: rec.site });
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
        const first = Math.min(...d.pending.keys());
        const p = d.pending.get(first)!;
        if (now - p.arrived < this.maxWaitMs) continue;
        this.loss(c, dir, d.next, first - d.next);
        this.drainPending(c, dir);
      }
    }
  }

  /** At exit (after the final records): settle what is left. */
  finish(): void {
    for (const c of this.conns.values()) {
      for (const dir of [0, 1] as const) this.settle(c, dir, 0);
    }
  }
}
