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
// The header's len field is the entry's payload length (the merged total).
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
