// runtime/output/stream-files.ts — `--write-streams DIR`: one file per
// connection direction, each byte at its stream offset (so a loss leaves a
// hole of the right size rather than shifting what follows), grouped as
// DIR/COMM/PID/connN-egress.bin, and DIR/streams.json, an index with one entry
// per connection that grows by appending as connections end (a JSON array
// once capc has exited); each entry carries the connection's socket as the
// kernel learned it. A connection's state is freed when it ends, so a
// long session's memory does not grow with the connections it has seen.
// Files are created through runtime/files/private-files.ts: 0600 in 0700
// directories, never through a symbolic link.
// Where the session offers it (a ring-buffer sink), the bytes are written by
// the capture thread straight from ring memory (runtime/capture/
// stream-writer.ts): this module still decides which files exist, creates
// and names them here on the main thread, and hands each fd over (adopt) and
// back for closing when its connection ends (release); the events it sees
// then carry lengths, not bytes.
import fs from 'node:fs';
import {
  combinedNeed,
  type CapEvent,
  type ConnInfo,
  type DirectStreamBytes,
  type PayloadNeed,
  type Renderer,
} from '../events/model.js';
import { identityDetailJson } from '../format/identity.js';
import { DIR_NAME } from '../format/payload.js';
import { OutputDir } from '../files/private-files.js';

interface FileState {
  fd: number;
  /** Path relative to DIR. */
  name: string;
  /** Stream offset of the file's first byte (0, except for a continuation after the connection was ended). */
  base: number;
  bytes: number;
  lost: { offset: number; bytes: number }[];
  /** Contiguous bytes not written yet (writes are coalesced: one syscall per ~256 KiB, not per record). */
  pending: Buffer[];
  pendingAt: number;
  pendingBytes: number;
  /** Length of the stream so far, losses included: a loss at the end still makes the file that long. */
  extent: number;
}

interface ConnFiles {
  conn: ConnInfo;
  dirs: [FileState | undefined, FileState | undefined];
  procDir: string;
}

const FLUSH_BYTES = 256 * 1024;

const safeName = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_') || 'unknown';

export class StreamFiles implements Renderer {
  private readonly out: OutputDir;
  private readonly index: number;
  private entries = 0;
  private readonly conns = new Map<number, ConnFiles>();
  /** Open per-process directories: COMM dir, and COMM/PID with the connections using it. */
  private readonly commDirs = new Map<string, OutputDir>();
  private readonly procDirs = new Map<string, { dir: OutputDir; users: number }>();
  /** Set when the capture thread writes the bytes (the fds are handed to it). */
  private direct: DirectStreamBytes | undefined;

  constructor(dir: string) {
    this.out = OutputDir.open(dir);
    this.index = this.out.createFile('streams.json');
    fs.writeSync(this.index, '[');
  }

  useDirectStreamBytes(bytes: DirectStreamBytes): boolean {
    this.direct = bytes;
    return true;
  }

  payloadNeed(): PayloadNeed {
    return this.direct ? 'none' : 'all';
  }

  private procDir(conn: ConnInfo): { rel: string; dir: OutputDir } {
    const comm = safeName(conn.comm);
    const rel = `${comm}/${conn.pid}`;
    const have = this.procDirs.get(rel);
    if (have) {
      have.users++;
      return { rel, dir: have.dir };
    }
    let c = this.commDirs.get(comm);
    if (!c) this.commDirs.set(comm, (c = this.out.subdir(comm)));
    const dir = c.subdir(String(conn.pid));
    this.procDirs.set(rel, { dir, users: 1 });
    return { rel, dir };
  }

  private releaseProcDir(rel: string): void {
    const p = this.procDirs.get(rel);
    if (p && --p.users === 0) {
      p.dir.close();
      this.procDirs.delete(rel);
    }
  }

  private connFiles(conn: ConnInfo): ConnFiles {
    let c = this.conns.get(conn.id);
    if (!c) {
      c = { conn, dirs: [undefined, undefined], procDir: this.procDir(conn).rel };
      this.conns.set(conn.id, c);
    }
    return c;
  }

  private file(conn: ConnInfo, dir: 0 | 1, offset: number): FileState {
    const c = this.connFiles(conn);
    let f = c.dirs[dir];
    if (!f) {
      const p = this.procDirs.get(c.procDir)!;
      // Bytes after the connection was ended (rare: it was ended as exited) go to a continuation file.
      // With the capture thread, bytes it read before this thread's release of the first file reached it
      // were written to the first file (past its extent): a limit of direct writes, in a case that needs
      // bytes from a process already gone for 50 idle-flush periods.
      let cont = 0;
      while (p.dir.has(`conn${conn.id}-${DIR_NAME[dir]}${cont ? `.${cont}` : ''}.bin`)) cont++;
      const leaf = `conn${conn.id}-${DIR_NAME[dir]}${cont ? `.${cont}` : ''}.bin`;
      f = {
        fd: p.dir.createFile(leaf),
        name: `${c.procDir}/${leaf}`,
        base: cont ? offset : 0,
        bytes: 0,
        lost: [],
        pending: [],
        pendingAt: 0,
        pendingBytes: 0,
        extent: 0,
      };
      c.dirs[dir] = f;
      this.direct?.adopt(conn.id, dir, f.fd, f.base);
    }
    return f;
  }

  /** printf events are not this output's business. */
  printfRuns(): boolean {
    return true;
  }

  event(e: CapEvent): void {
    if (e.kind === 'capture') {
      const f = this.file(e.conn, e.dir, e.offset);
      const at = e.offset - f.base;
      if (this.direct) {
        // The capture thread wrote (or will write) these bytes at `at`: count them only.
        const len = e.len ?? e.data.length;
        f.bytes += len;
        f.extent = Math.max(f.extent, at + len);
        return;
      }
      if (f.pendingBytes && f.pendingAt + f.pendingBytes !== at) this.flush(f);
      if (!f.pendingBytes) f.pendingAt = at;
      f.pending.push(e.data);
      f.pendingBytes += e.data.length;
      f.bytes += e.data.length;
      f.extent = Math.max(f.extent, at + e.data.length);
      if (f.pendingBytes >= FLUSH_BYTES) this.flush(f);
    } else if (e.kind === 'capture-loss') {
      const f = this.file(e.conn, e.dir, e.offset);
      f.lost.push({ offset: e.offset, bytes: e.bytes });
      f.extent = Math.max(f.extent, e.offset - f.base + e.bytes);
    } else if (e.kind === 'capture-end') {
      const c = this.conns.get(e.conn.id);
      if (c) this.finish(c, e.closed);
      else this.appendEntry(e.conn, e.closed, []); // a connection that moved no bytes
    }
  }

  private flush(f: FileState): void {
    if (!f.pendingBytes) return;
    const data = f.pending.length === 1 ? f.pending[0]! : Buffer.concat(f.pending);
    fs.writeSync(f.fd, data, 0, data.length, f.pendingAt);
    f.pending = [];
    f.pendingBytes = 0;
  }

  /** Writes the connection's files out, appends its index entry and forgets it. */
  private finish(c: ConnFiles, closed: boolean): void {
    const streams = [];
    for (const d of [0, 1] as const) {
      const f = c.dirs[d];
      if (!f) continue;
      this.flush(f);
      // A trailing hole: writes stopped short of the stream's end.
      // (With the capture thread, bytes it still holds for this file are written at their offsets after this.)
      if (fs.fstatSync(f.fd).size < f.extent) fs.ftruncateSync(f.fd, f.extent);
      if (this.direct)
        this.direct.release(c.conn.id, d); // the capture thread closes it after its last bytes
      else fs.closeSync(f.fd);
      streams.push({ file: f.name, bytes: f.bytes, lost: f.lost, ...(f.base ? { base: f.base } : {}) });
    }
    const { conn } = c;
    this.appendEntry(conn, closed, streams);
    this.conns.delete(conn.id);
    this.releaseProcDir(c.procDir);
  }

  private appendEntry(conn: ConnInfo, closed: boolean, streams: object[]): void {
    const entry = {
      conn: conn.id,
      key: `0x${conn.key.toString(16)}`,
      pid: conn.pid,
      comm: conn.comm,
      probe: conn.probe,
      ...identityDetailJson(conn),
      closed,
      streams,
    };
    fs.writeSync(this.index, `${this.entries++ ? ',' : ''}\n${JSON.stringify(entry)}`);
  }

  end(): void {
    for (const c of [...this.conns.values()]) this.finish(c, false);
    fs.writeSync(this.index, '\n]\n');
    fs.closeSync(this.index);
    for (const d of this.commDirs.values()) d.close();
    this.commDirs.clear();
    this.out.close();
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
  printfRuns(): boolean {
    return this.renderers.every((r) => r.printfRuns?.() === true);
  }
  useDirectStreamBytes(bytes: DirectStreamBytes): boolean {
    return this.renderers.some((r) => r.useDirectStreamBytes?.(bytes));
  }
  end(): void {
    for (const r of this.renderers) r.end();
  }
}
