// runtime/capture/stream-writer.ts — how captured bytes reach the stream
// files of `--write-streams`, on the capture thread (drain-thread.ts): each record's payload is written at its stream offset
// straight from ring memory, one positioned writev per file and contiguous
// run per drain pass, before that ring space is released; no copy through
// JavaScript. Which files exist and how they are created stays with
// runtime/output/stream-files.ts on the main thread: it opens a file and
// hands its fd here (adopt), and hands it back for closing (release). Bytes
// that arrive before their file's fd are copied and written on adopt. (It
// lives in capture/, below output/ in the layers, because the capture thread
// runs it.)
import fs from 'node:fs';
import { native } from '../ffi/libbpf.js';

/** close(2) itself: Node warns when a thread closes with fs an fd another thread opened (the main thread opens these). */
const closeFd = (fd: number) => native().close(fd);

interface Target {
  fd?: number;
  /** The stream offset of the file's first byte (from adopt). */
  base: number;
  /** The main thread wants no file for this stream: its bytes are not written. */
  skip?: boolean;
  /** Bytes that arrived before the fd: copies, written on adopt. */
  pending: { offset: number; data: Buffer }[];
  /** Views of ring memory to write before the ring space is released. */
  queued: Uint8Array[];
  queuedAt: number;
  queuedBytes: number;
  runs: { at: number; iovs: Uint8Array[]; bytes: number }[];
}

const key = (conn: number, dir: number) => conn * 2 + dir;

/**
 * Every byte of `iovs` at `pos`: a short write is resumed, so a full disk
 * ends in the error that says so (ENOSPC) rather than a bare count.
 */
function writeAll(fd: number, iovs: Uint8Array[], pos: number, bytes: number): number {
  let done = fs.writevSync(fd, iovs, pos);
  while (done < bytes) {
    let skip = done;
    const rest: Uint8Array[] = [];
    for (const v of iovs) {
      if (skip >= v.length) skip -= v.length;
      else {
        rest.push(skip ? v.subarray(skip) : v);
        skip = 0;
      }
    }
    const n = fs.writevSync(fd, rest, pos + done);
    if (n <= 0) throw new Error(`short write to a stream file: ${done} of ${bytes} bytes`);
    done += n;
  }
  return done;
}

export class StreamWriter {
  private readonly targets = new Map<number, Target>();
  /** Bytes copied while waiting for an fd (part of what the capture thread holds). */
  pendingBytes = 0;
  bytesWritten = 0;

  private target(conn: number, dir: number): Target {
    const k = key(conn, dir);
    let t = this.targets.get(k);
    if (!t) {
      t = { base: 0, pending: [], queued: [], queuedAt: 0, queuedBytes: 0, runs: [] };
      this.targets.set(k, t);
    }
    return t;
  }

  /**
   * Bytes of a stream at `offset`. `bytes` may be a view of ring memory: it
   * is written by flush(), which must run before the ring space is released.
   */
  add(conn: number, dir: number, offset: number, bytes: Uint8Array): void {
    if (!bytes.length) return;
    const t = this.target(conn, dir);
    if (t.skip) return;
    if (t.fd === undefined) {
      t.pending.push({ offset, data: Buffer.from(bytes) });
      this.pendingBytes += bytes.length;
      return;
    }
    if (t.queuedBytes && t.queuedAt + t.queuedBytes !== offset) this.closeRun(t);
    if (!t.queuedBytes) t.queuedAt = offset;
    t.queued.push(bytes);
    t.queuedBytes += bytes.length;
  }

  private closeRun(t: Target): void {
    if (!t.queuedBytes) return;
    t.runs.push({ at: t.queuedAt, iovs: t.queued, bytes: t.queuedBytes });
    t.queued = [];
    t.queuedBytes = 0;
  }

  /** Write everything queued (one writev per file and contiguous run). */
  flush(): void {
    for (const t of this.targets.values()) {
      this.closeRun(t);
      for (const r of t.runs) {
        this.bytesWritten += writeAll(t.fd!, r.iovs, r.at - t.base, r.bytes);
      }
      t.runs = [];
    }
  }

  /** The main thread opened this stream's file: write what waited, then write here directly. */
  adopt(conn: number, dir: number, fd: number, base = 0): void {
    const t = this.target(conn, dir);
    t.fd = fd;
    t.base = base;
    t.skip = false;
    for (const p of t.pending) {
      this.bytesWritten += writeAll(fd, [p.data], p.offset - base, p.data.length);
      this.pendingBytes -= p.data.length;
    }
    t.pending = [];
  }

  /** No file for this stream (the main thread decided): forget what waited. */
  skip(conn: number, dir: number): void {
    const t = this.target(conn, dir);
    for (const p of t.pending) this.pendingBytes -= p.data.length;
    t.pending = [];
    t.skip = true;
  }

  /** The stream is over: close its file (after anything still waiting for it). */
  release(conn: number, dir: number): void {
    const k = key(conn, dir);
    const t = this.targets.get(k);
    if (!t) return;
    this.closeRun(t);
    if (t.fd !== undefined) {
      for (const r of t.runs) fs.writevSync(t.fd, r.iovs, r.at - t.base);
      closeFd(t.fd);
    }
    for (const p of t.pending) this.pendingBytes -= p.data.length;
    this.targets.delete(k);
  }

  /** At stop: close every file still held. */
  closeAll(): void {
    this.flush();
    for (const [k, t] of this.targets) {
      if (t.fd !== undefined) closeFd(t.fd);
      this.targets.delete(k);
    }
  }
}
