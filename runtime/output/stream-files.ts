// runtime/output/stream-files.ts — `--write-streams DIR`: one file per
// connection direction, each byte at its stream offset (so a loss leaves a
// hole of the right size rather than shifting what follows), plus
// streams.json describing every connection, its byte counts and losses.
// Where the session offers it (a ring-buffer sink), the bytes are written by
// the capture thread straight from ring memory (runtime/output/
// stream-writer.ts): this module still decides which files exist, creates
// and names them, and hands each fd over (adopt) and back for closing
// (release); the events it sees then carry lengths, not bytes.
import fs from 'node:fs';
import path from 'node:path';
import {
  combinedNeed,
  type CapEvent,
  type ConnInfo,
  type DirectStreamBytes,
  type PayloadNeed,
  type Renderer,
} from '../events/model.js';
import { DIR_NAME } from '../format/payload.js';

interface FileState {
  fd: number;
  connId: number;
  dir: 0 | 1;
  name: string;
  bytes: number;
  lost: { offset: number; bytes: number }[];
  /** Contiguous bytes not written yet (writes are coalesced: one syscall per ~256 KiB, not per record). */
  pending: Buffer[];
  pendingAt: number;
  pendingBytes: number;
  /** Length of the stream so far, losses included: a loss at the end still makes the file that long. */
  extent: number;
}

const FLUSH_BYTES = 256 * 1024;

export class StreamFiles implements Renderer {
  private readonly files = new Map<string, FileState>();
  private readonly conns = new Map<number, { conn: ConnInfo; closed?: boolean }>();
  /** Set when the capture thread writes the bytes (the fds are handed to it). */
  private direct: DirectStreamBytes | undefined;

  constructor(private readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  useDirectStreamBytes(bytes: DirectStreamBytes): boolean {
    this.direct = bytes;
    return true;
  }

  payloadNeed(): PayloadNeed {
    return this.direct ? 'none' : 'all';
  }

  private file(conn: ConnInfo, dir: 0 | 1): FileState {
    const k = `${conn.id}:${dir}`;
    let f = this.files.get(k);
    if (!f) {
      const safe = conn.comm.replace(/[^A-Za-z0-9_.-]/g, '_') || 'unknown';
      const name = `conn${conn.id}-${safe}-${conn.pid}-${DIR_NAME[dir]}.bin`;
      f = {
        fd: fs.openSync(path.join(this.dir, name), 'w'),
        connId: conn.id,
        dir,
        name,
        bytes: 0,
        lost: [],
        pending: [],
        pendingAt: 0,
        pendingBytes: 0,
        extent: 0,
      };
      this.files.set(k, f);
      this.direct?.adopt(conn.id, dir, f.fd);
    }
    if (!this.conns.has(conn.id)) this.conns.set(conn.id, { conn });
    return f;
  }

  event(e: CapEvent): void {
    if (e.kind === 'capture') {
      const f = this.file(e.conn, e.dir);
      if (this.direct) {
        const len = e.len ?? e.data.length;
        f.bytes += len;
        f.extent = Math.max(f.extent, e.offset + len);
        return;
      }
      if (f.pendingBytes && f.pendingAt + f.pendingBytes !== e.offset) this.flush(f);
      if (!f.pendingBytes) f.pendingAt = e.offset;
      f.pending.push(e.data);
      f.pendingBytes += e.data.length;
      f.bytes += e.data.length;
      f.extent = Math.max(f.extent, e.offset + e.data.length);
      if (f.pendingBytes >= FLUSH_BYTES) this.flush(f);
    } else if (e.kind === 'capture-loss') {
      const f = this.file(e.conn, e.dir);
      f.lost.push({ offset: e.offset, bytes: e.bytes });
      f.extent = Math.max(f.extent, e.offset + e.bytes);
    } else if (e.kind === 'capture-end') {
      const c = this.conns.get(e.conn.id) ?? { conn: e.conn };
      c.closed = e.closed;
      this.conns.set(e.conn.id, c);
    }
  }

  private flush(f: FileState): void {
    if (!f.pendingBytes) return;
    const data = f.pending.length === 1 ? f.pending[0]! : Buffer.concat(f.pending);
    fs.writeSync(f.fd, data, 0, data.length, f.pendingAt);
    f.pending = [];
    f.pendingBytes = 0;
  }

  end(): void {
    for (const f of this.files.values()) {
      this.flush(f);
      // A trailing hole: writes stopped short of the stream's end.
      if (fs.fstatSync(f.fd).size < f.extent) fs.ftruncateSync(f.fd, f.extent);
    }
    const index = [...this.conns.values()].map(({ conn, closed }) => ({
      conn: conn.id,
      key: `0x${conn.key.toString(16)}`,
      pid: conn.pid,
      comm: conn.comm,
      probe: conn.probe,
      closed: closed ?? false,
      streams: ([0, 1] as const)
        .map((d) => this.files.get(`${conn.id}:${d}`))
        .filter((f): f is FileState => !!f)
        .map((f) => ({ file: f.name, bytes: f.bytes, lost: f.lost })),
    }));
    for (const f of this.files.values()) {
      if (this.direct)
        this.direct.release(f.connId, f.dir); // the capture thread closes it after its last bytes
      else fs.closeSync(f.fd);
    }
    fs.writeFileSync(path.join(this.dir, 'streams.json'), JSON.stringify(index, null, 2) + '\n');
  }
}

/** Sends every event to several renderers (the terminal output and the stream files). */
export class FanOut implements Renderer {
  constructor(private readonly renderers: Renderer[]) {}
  event(e: CapEvent): void {
    for (const r of this.renderers) r.event(e);
  }
  payloadNeed(): PayloadNeed {
    return combinedNeed(this.renderers.map((r) => r.payloadNeed?.() ?? 'all'));
  }
  useDirectStreamBytes(bytes: DirectStreamBytes): boolean {
    return this.renderers.some((r) => r.useDirectStreamBytes?.(bytes));
  }
  end(): void {
    for (const r of this.renderers) r.end();
  }
}
