// runtime/ui/stream-book.ts — the terminal UI's memory of captured
// connections: per connection its process, bytes each way, loss markers and
// state, and the most recent bytes of its conversation in arrival order
// (capped per connection; older bytes are counted, not kept). Appending is
// O(1) amortized; the UI reads it only when it renders.
import type { ConnInfo } from '../events/model.js';

/** One piece of a conversation: bytes in one direction, or a gap the kernel counted as lost. */
export type Chunk = { dir: 0 | 1; offset: number; data: Buffer } | { dir: 0 | 1; offset: number; lost: number };

export interface ConnView {
  info: ConnInfo;
  bytes: [number, number];
  lost: [number, number];
  lossMarkers: number;
  state: 'open' | 'closed' | 'exited' | 'open at exit';
  /** Kept chunks are chunks[head..]. */
  chunks: Chunk[];
  head: number;
  keptBytes: number;
  /** Bytes no longer kept (the conversation is longer than the cap). */
  droppedBytes: number;
  /** Changes whenever the connection changes (lets views cache their lines). */
  version: number;
}

export interface StreamBookLimits {
  /** Payload bytes kept per connection. */
  bytesPerConn: number;
  /** Connections remembered; the oldest closed ones are forgotten first. */
  maxConns: number;
}

export const DEFAULT_STREAM_LIMITS: StreamBookLimits = { bytesPerConn: 256 * 1024, maxConns: 1000 };

export class StreamBook {
  private readonly conns = new Map<number, ConnView>();
  /** Connections forgotten to stay within maxConns. */
  forgotten = 0;

  constructor(private readonly limits: StreamBookLimits = DEFAULT_STREAM_LIMITS) {}

  private conn(info: ConnInfo): ConnView {
    let c = this.conns.get(info.id);
    if (!c) {
      if (this.conns.size >= this.limits.maxConns) this.forgetOne();
      c = {
        info,
        bytes: [0, 0],
        lost: [0, 0],
        lossMarkers: 0,
        state: 'open',
        chunks: [],
        head: 0,
        keptBytes: 0,
        droppedBytes: 0,
        version: 0,
      };
      this.conns.set(info.id, c);
    }
    return c;
  }

  private forgetOne(): void {
    // Map iteration is insertion order: the first closed one is the oldest closed.
    for (const [id, c] of this.conns) {
      if (c.state !== 'open') {
        this.conns.delete(id);
        this.forgotten++;
        return;
      }
    }
    const first = this.conns.keys().next();
    if (!first.done) {
      this.conns.delete(first.value);
      this.forgotten++;
    }
  }

  /** `len`: bytes of the record when `data` does not hold them (the capture thread sends only what is kept). */
  data(info: ConnInfo, dir: 0 | 1, offset: number, data: Buffer, len = data.length): void {
    const c = this.conn(info);
    c.bytes[dir] += len;
    if (data.length < len) {
      c.droppedBytes += len;
      c.version++;
      return;
    }
    this.push(c, { dir, offset, data }, data.length);
  }

  loss(info: ConnInfo, dir: 0 | 1, offset: number, bytes: number): void {
    const c = this.conn(info);
    c.lost[dir] += bytes;
    c.lossMarkers++;
    this.push(c, { dir, offset, lost: bytes }, 0);
  }

  /** The kernel learned the connection's socket (info.ident): views redraw. */
  identify(info: ConnInfo): void {
    this.conn(info).version++;
  }

  end(info: ConnInfo, closed: boolean, exited = false): void {
    const c = this.conn(info);
    c.state = closed ? 'closed' : exited ? 'exited' : 'open at exit';
    c.version++;
  }

  private push(c: ConnView, chunk: Chunk, size: number): void {
    c.chunks.push(chunk);
    c.keptBytes += size;
    c.version++;
    while (c.keptBytes > this.limits.bytesPerConn && c.head < c.chunks.length - 1) {
      const old = c.chunks[c.head++]!;
      if ('data' in old) {
        c.keptBytes -= old.data.length;
        c.droppedBytes += old.data.length;
      }
    }
    // Compact now and then so the array does not grow without bound.
    if (c.head > 1024 && c.head * 2 > c.chunks.length) {
      c.chunks = c.chunks.slice(c.head);
      c.head = 0;
    }
  }

  /** Connections, oldest first. */
  list(): ConnView[] {
    return [...this.conns.values()];
  }

  get size(): number {
    return this.conns.size;
  }

  get(id: number): ConnView | undefined {
    return this.conns.get(id);
  }

  /** The kept chunks of a connection (a copy of the array, so a paused view stays still). */
  chunks(c: ConnView): Chunk[] {
    return c.chunks.slice(c.head);
  }
}
