// runtime/capture/batch.ts — what the capture thread hands the main thread
// for each drain pass: one transferable buffer of entries, each a capture
// record as it was in the ring, with its payload only when some output needs
// it (text or JSON shows it, the terminal UI keeps its tail). Layout of an
// entry, 8-byte aligned:
//   u32 length   the record's length in the ring (header + payload)
//   u32 held     bytes of it that follow (the header, plus the payload if delivered)
//   u32 count    ring records it stands for (contiguous data records of one
//                stream are merged into one entry when no payload is delivered)
//   u32 unused
//   held bytes, padded to 8
// The header's len field is the entry's payload length (the merged total),
// and its ts_last the last merged record's.
import type { PayloadNeed } from '../events/model.js';

const ENTRY_HEADER = 16;

export const entrySize = (held: number): number => (ENTRY_HEADER + held + 7) & ~7;

/** Appends entries to one buffer sized in advance. */
export class BatchWriter {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private at = 0;
  entries = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(new ArrayBuffer(size));
    this.view = new DataView(this.bytes.buffer);
  }

  /** Copy `held` bytes of a record (from ring memory) as one entry; returns where its copy starts. */
  add(src: Uint8Array, srcOff: number, length: number, held: number, count: number): number {
    const v = this.view;
    v.setUint32(this.at, length, true);
    v.setUint32(this.at + 4, held, true);
    v.setUint32(this.at + 8, count, true);
    v.setUint32(this.at + 12, 0, true);
    const start = this.at + ENTRY_HEADER;
    this.bytes.set(src.subarray(srcOff, srcOff + held), start);
    this.at += entrySize(held);
    this.entries++;
    return start;
  }

  /** Rewrite a u32 inside an entry's copy (the merged payload length). */
  setU32(pos: number, value: number): void {
    this.view.setUint32(pos, value, true);
  }

  readU32(pos: number): number {
    return this.view.getUint32(pos, true);
  }

  /** Raise an entry's length and count (a merged data record). */
  grow(start: number, by: number, records: number): void {
    const h = start - ENTRY_HEADER;
    this.view.setUint32(h, this.view.getUint32(h, true) + by, true);
    this.view.setUint32(h + 8, this.view.getUint32(h + 8, true) + records, true);
  }

  get used(): number {
    return this.at;
  }
}

export type EntryHandler = (
  data: Uint8Array,
  view: DataView,
  off: number,
  length: number,
  held: number,
  count: number,
) => void;

/** Read every entry of a batch buffer. */
export function readBatch(buf: ArrayBuffer, used: number, onEntry: EntryHandler): void {
  const data = new Uint8Array(buf, 0, used);
  const view = new DataView(buf, 0, used);
  for (let at = 0; at + ENTRY_HEADER <= used; ) {
    const length = view.getUint32(at, true);
    const held = view.getUint32(at + 4, true);
    const count = view.getUint32(at + 8, true);
    onEntry(data, view, at + ENTRY_HEADER, length, held, count);
    at += entrySize(held);
  }
}

/** One drain pass's records, as the capture thread read them (struct of arrays, `n` used). */
export interface PassRecords {
  n: number;
  /** Where each record starts in ring memory, and its length there. */
  off: Int32Array;
  len: Int32Array;
  /** Payload length (data records). */
  plen: Int32Array;
  conn: Float64Array;
  /** Stream offset of the payload. */
  at: Float64Array;
  dir: Uint8Array;
  /** 1 for a data record, 0 for anything else (ident, close, final, or not a capture record). */
  data: Uint8Array;
}

/**
 * What each record of a pass carries to the main thread: a data record its
 * header only unless an output needs its payload (all of it, or each
 * stream's most recent `tail` bytes of the pass, whole records only);
 * anything else whole. `header`: the capture record header's size.
 */
export function heldBytes(p: PassRecords, need: PayloadNeed, header: number): Int32Array {
  const held = new Int32Array(p.n);
  for (let i = 0; i < p.n; i++) held[i] = p.data[i] && need !== 'all' ? header : p.len[i]!;
  if (typeof need === 'object') {
    const seen = new Map<number, number>();
    for (let i = p.n - 1; i >= 0; i--) {
      if (!p.data[i]) continue;
      const k = p.conn[i]! * 2 + p.dir[i]!;
      const got = seen.get(k) ?? 0;
      if (got + p.plen[i]! <= need.tail) held[i] = p.len[i]!;
      seen.set(k, got + p.plen[i]!);
    }
  }
  return held;
}

/**
 * One transferable batch of a pass's records, `held[i]` bytes of each. With
 * `merge` (no output needs payload), a data record that continues the one
 * before it in its stream is merged into that entry: the entry keeps the
 * first record's header (offset, thread, ts) with the merged length and the
 * last record's ts_last (kernel time of its last fragment). An ident, close
 * or final record of a connection ends its merging, so no bytes move across
 * it. `layout`: the record header's size and the offsets of len and ts_last.
 */
export function buildBatch(
  ring: Uint8Array,
  p: PassRecords,
  held: Int32Array,
  merge: boolean,
  layout: { size: number; len: number; tsLast: number },
): BatchWriter {
  // Size first (merged entries take no room), then copy.
  let size = 0;
  const mergedInto = merge ? new Int32Array(p.n).fill(-1) : undefined;
  if (mergedInto) {
    const last = new Map<number, { end: number; i: number }>();
    for (let i = 0; i < p.n; i++) {
      if (!p.data[i] && p.len[i]! >= layout.size) {
        last.delete(p.conn[i]! * 2);
        last.delete(p.conn[i]! * 2 + 1);
      } else if (p.data[i]) {
        const k = p.conn[i]! * 2 + p.dir[i]!;
        const prev = last.get(k);
        if (prev && prev.end === p.at[i]) {
          mergedInto[i] = prev.i;
          prev.end += p.plen[i]!;
          continue;
        }
        last.set(k, { end: p.at[i]! + p.plen[i]!, i });
      }
      size += entrySize(held[i]!);
    }
  } else {
    for (let i = 0; i < p.n; i++) size += entrySize(held[i]!);
  }
  const b = new BatchWriter(size);
  const starts = mergedInto ? new Int32Array(p.n) : undefined;
  for (let i = 0; i < p.n; i++) {
    const into = mergedInto ? mergedInto[i]! : -1;
    if (into >= 0) {
      const start = starts![into]!;
      b.grow(start, p.plen[i]!, 1);
      b.setU32(start + layout.len, b.readU32(start + layout.len) + p.plen[i]!);
      const t = p.off[i]! + layout.tsLast;
      b.bytes.set(ring.subarray(t, t + 8), start + layout.tsLast);
      continue;
    }
    const start = b.add(ring, p.off[i]!, p.len[i]!, held[i]!, 1);
    if (starts) starts[i] = start;
  }
  return b;
}
