// runtime/protocols/reader.ts — the byte queue every decoder reads one
// direction of a connection from: chunks as they arrived (each with its kernel
// timestamps) and holes (bytes capc knows were lost, and how many). A decoder
// asks for n contiguous bytes (a header), skips or keeps a body of known
// length (holes inside it do not break the framing), or searches for a
// delimiter; only what it asks to keep is copied, so a 1 GB body costs no
// memory. A hole where a header should be is reported, never read through.
import type { Stamp } from './exchange.js';

export const OK = 0;
export const SHORT = 1;
export const HOLE = 2;
export type Avail = typeof OK | typeof SHORT | typeof HOLE;

/** A piece of the stream: bytes, or a hole of `len` lost bytes (`buf` null). */
interface Seg {
  buf: Buffer | null;
  len: number;
  stamp: Stamp;
}

const EMPTY = Buffer.alloc(0);
const NO_STAMP: Stamp = { first: 0n, last: 0n };

export class ByteQueue {
  private segs: Seg[] = [];
  private head = 0;
  /** Bytes of segs[head] already consumed. */
  private pos = 0;
  /** Bytes (and hole bytes) not consumed yet. */
  size = 0;
  /** Of those, lost bytes (holes). */
  holes = 0;
  /** After ensure(n) returned OK: the first n bytes are buf[at .. at + n). */
  buf: Buffer = EMPTY;
  at = 0;
  /** Stamp of the piece that held the last byte consumed. */
  lastStamp: Stamp = NO_STAMP;

  push(b: Buffer, stamp: Stamp): void {
    if (!b.length) return;
    this.segs.push({ buf: b, len: b.length, stamp });
    this.size += b.length;
  }

  pushHole(n: number, stamp: Stamp = NO_STAMP): void {
    if (n <= 0) return;
    const last = this.segs[this.segs.length - 1];
    if (last && !last.buf && this.segs.length - 1 >= this.head) last.len += n;
    else this.segs.push({ buf: null, len: n, stamp });
    this.size += n;
    this.holes += n;
  }

  /** Stamp of the piece holding the next byte (where a message starting now began). */
  headStamp(): Stamp {
    return this.segs[this.head]?.stamp ?? this.lastStamp;
  }

  /** Is the next byte a lost one? */
  atHole(): boolean {
    const s = this.segs[this.head];
    return !!s && !s.buf;
  }

  /**
   * Bytes readable in place at the front (the rest of the first piece; 0 at
   * a hole): after it, buf[at ..] holds them without a copy.
   */
  headRun(): number {
    const s = this.segs[this.head];
    if (!s?.buf) return 0;
    this.buf = s.buf;
    this.at = this.pos;
    return s.len - this.pos;
  }

  /** Bytes available from the front up to the first hole. */
  contiguous(): number {
    let n = 0;
    for (let i = this.head; i < this.segs.length; i++) {
      const s = this.segs[i]!;
      if (!s.buf) break;
      n += i === this.head ? s.len - this.pos : s.len;
    }
    return n;
  }

  /**
   * Make the first n bytes contiguous (copying them out of several chunks if
   * they span some): OK, SHORT (not all there yet), or HOLE (a lost byte among them).
   */
  ensure(n: number): Avail {
    const s = this.segs[this.head];
    if (n <= 0) {
      this.buf = s?.buf ?? EMPTY;
      this.at = this.pos;
      return OK;
    }
    if (!s) return SHORT;
    if (!s.buf) return HOLE;
    if (s.len - this.pos >= n) {
      this.buf = s.buf;
      this.at = this.pos;
      return OK;
    }
    // Spanning: check the pieces first, then merge the n bytes into one.
    let need = n;
    let i = this.head;
    let p = this.pos;
    for (; need > 0; i++, p = 0) {
      const t = this.segs[i];
      if (!t) return SHORT;
      if (!t.buf) return HOLE;
      need -= Math.min(t.len - p, need);
    }
    const lastIdx = i - 1;
    const out = Buffer.allocUnsafe(n);
    let o = 0;
    let used = 0;
    for (let k = this.head, q = this.pos; k <= lastIdx; k++, q = 0) {
      const t = this.segs[k]!;
      const take = Math.min(t.len - q, n - o);
      t.buf!.copy(out, o, q, q + take);
      o += take;
      used = q + take;
    }
    const last = this.segs[lastIdx]!;
    const merged: Seg[] = [{ buf: out, len: n, stamp: { first: s.stamp.first, last: last.stamp.last } }];
    if (used < last.len) merged.push({ buf: last.buf!.subarray(used), len: last.len - used, stamp: last.stamp });
    this.segs.splice(this.head, lastIdx - this.head + 1, ...merged);
    this.pos = 0;
    this.buf = out;
    this.at = 0;
    return OK;
  }

  /**
   * Consume n bytes (at most `size`), handing each piece to `into` (bytes, or
   * the length of a hole). Returns how many of them were lost bytes.
   */
  consume(n: number, into?: (piece: Buffer | number) => void): number {
    let holes = 0;
    n = Math.min(n, this.size);
    while (n > 0) {
      const s = this.segs[this.head]!;
      const take = Math.min(s.len - this.pos, n);
      if (s.buf) into?.(take === s.len ? s.buf : s.buf.subarray(this.pos, this.pos + take));
      else {
        holes += take;
        into?.(take);
      }
      this.pos += take;
      n -= take;
      this.size -= take;
      this.lastStamp = s.stamp;
      if (this.pos === s.len) {
        this.head++;
        this.pos = 0;
      }
    }
    if (this.head > 32 && this.head * 2 > this.segs.length) {
      this.segs = this.segs.slice(this.head);
      this.head = 0;
    }
    this.holes -= holes;
    return holes;
  }

  /**
   * Where `pattern` first occurs within the first `limit` bytes: its offset,
   * or NOT_FOUND (`limit` bytes searched), MORE (not there yet), LOST (a hole
   * comes first).
   */
  find(pattern: Buffer, limit: number): number {
    const k = Math.min(this.contiguous(), limit);
    if (k >= pattern.length && this.ensure(k) === OK) {
      const idx = this.buf.indexOf(pattern, this.at);
      if (idx >= 0 && idx - this.at + pattern.length <= k) return idx - this.at;
    }
    if (k >= limit) return NOT_FOUND;
    return k < this.size ? LOST : MORE;
  }

  /** Forget everything (the decoder lost its place). Returns the bytes dropped. */
  clear(): number {
    const n = this.size;
    this.segs = [];
    this.head = 0;
    this.pos = 0;
    this.size = 0;
    this.holes = 0;
    return n;
  }
}

export const NOT_FOUND = -1;
export const MORE = -2;
export const LOST = -3;

/**
 * A body of known length read as it arrives: the first `cap` bytes are kept
 * (unless a hole falls among them), the rest only counted.
 */
export class Body {
  remaining = 0;
  total = 0;
  kept = 0;
  /** Lost bytes anywhere in the body; `keptHole`: some fell where bytes were being kept. */
  lost = 0;
  keptHole = false;
  private cap = 0;
  private parts: Buffer[] = [];

  begin(len: number, cap: number): void {
    this.remaining = len;
    this.total = len;
    this.kept = 0;
    this.lost = 0;
    this.keptHole = false;
    this.cap = cap;
    if (this.parts.length) this.parts = [];
  }

  private readonly keep = (piece: Buffer | number): void => {
    if (typeof piece === 'number') {
      this.lost += piece;
      if (this.kept < this.cap) {
        this.keptHole = true;
        this.cap = this.kept;
      }
      return;
    }
    const room = this.cap - this.kept;
    if (room <= 0) return;
    const p = piece.length <= room ? piece : piece.subarray(0, room);
    this.parts.push(p);
    this.kept += p.length;
  };

  /** Read what is there; true once the whole body has been read. */
  pull(q: ByteQueue): boolean {
    const n = Math.min(this.remaining, q.size);
    if (n > 0) {
      if (this.kept < this.cap) q.consume(n, this.keep);
      else this.lost += q.consume(n);
      this.remaining -= n;
    }
    return this.remaining === 0;
  }

  /** The kept bytes (a copy: nothing keeps a captured chunk alive). */
  data(): Buffer {
    return Buffer.concat(this.parts, this.kept);
  }

  /** More was sent than kept (the cap, or a hole, stopped the keeping). */
  get truncated(): boolean {
    return this.kept < this.total;
  }
}
