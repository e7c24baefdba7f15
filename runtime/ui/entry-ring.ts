// runtime/ui/entry-ring.ts — the events pane's memory: the newest N entries.
// Text entries (printf output, the -c command's output) are copied into one
// preallocated byte ring and described by typed arrays, so appending one
// allocates nothing and keeps no object alive: at 100,000 printf events a
// second, retaining one object per event costs more in garbage collection
// than everything else the UI does. Entries become objects only when read
// (what is on screen, or a paused copy). Capture records are kept as objects
// (they are already retained by the stream book).
import type { ConnInfo } from '../events/model.js';

export type Entry =
  | { seq: number; kind: 'printf' | 'child'; text: Buffer }
  /** `len`: the bytes the record stands for, when `data` does not hold them (older than what the UI keeps). */
  | { seq: number; kind: 'capture'; conn: ConnInfo; dir: 0 | 1; offset: number; data: Buffer; len?: number }
  | { seq: number; kind: 'capture-loss'; conn: ConnInfo; dir: 0 | 1; offset: number; bytes: number }
  | {
      seq: number;
      kind: 'capture-end';
      conn: ConnInfo;
      closed: boolean;
      exited?: boolean;
      bytes: [number, number];
      lost: [number, number];
    };

export type ObjectEntry = Exclude<Entry, { kind: 'printf' | 'child' }>;

const TEXT_PRINTF = 1;
const TEXT_CHILD = 2;
const OBJECT = 3;
/** A printf without a newline is joined to the next one, up to this many bytes. */
const MAX_JOINED = 4096;

export class EntryRing {
  private readonly kinds: Uint8Array;
  /** Absolute byte position (since the start) of each text entry, and its length. */
  private readonly starts: Float64Array;
  private readonly lens: Uint32Array;
  private readonly objects: (ObjectEntry | undefined)[];
  private readonly bytes: Buffer;
  private bytePos = 0;
  private lastByte = 0x0a;
  /** Entries ever added; entry s lives in slot s % capacity while s >= seq - capacity. */
  seq = 0;

  constructor(
    readonly capacity = 5000,
    readonly byteCapacity = 4 << 20,
  ) {
    this.kinds = new Uint8Array(capacity);
    this.starts = new Float64Array(capacity);
    this.lens = new Uint32Array(capacity);
    this.objects = new Array(capacity);
    this.bytes = Buffer.alloc(byteCapacity);
  }

  private copyIn(data: Buffer): void {
    let src = data.length > this.byteCapacity ? data.subarray(data.length - this.byteCapacity) : data;
    this.bytePos += data.length - src.length;
    while (src.length) {
      const at = this.bytePos % this.byteCapacity;
      const n = Math.min(src.length, this.byteCapacity - at);
      src.copy(this.bytes, at, 0, n);
      this.bytePos += n;
      src = src.subarray(n);
    }
    if (data.length) this.lastByte = data[data.length - 1]!;
  }

  pushText(kind: 'printf' | 'child', data: Buffer): void {
    const n = this.capacity;
    if (kind === 'printf' && this.seq > 0 && this.lastByte !== 0x0a) {
      const last = (this.seq - 1) % n;
      if (
        this.kinds[last] === TEXT_PRINTF &&
        this.starts[last]! + this.lens[last]! === this.bytePos &&
        this.lens[last]! + data.length <= Math.min(MAX_JOINED, this.byteCapacity)
      ) {
        this.copyIn(data);
        this.lens[last]! += data.length;
        return;
      }
    }
    const slot = this.seq % n;
    const keep = Math.min(data.length, this.byteCapacity); // text longer than the ring keeps its end
    this.kinds[slot] = kind === 'printf' ? TEXT_PRINTF : TEXT_CHILD;
    this.starts[slot] = this.bytePos + data.length - keep;
    this.lens[slot] = keep;
    this.objects[slot] = undefined;
    this.copyIn(data);
    this.seq++;
  }

  /** Add an entry object; its seq must be this.seq. */
  pushObject(e: ObjectEntry): void {
    const slot = this.seq % this.capacity;
    this.kinds[slot] = OBJECT;
    this.objects[slot] = e;
    this.seq++;
    this.lastByte = 0x0a;
  }

  /** Entry number s, or undefined if it is no longer kept. */
  get(s: number): Entry | undefined {
    if (s < 0 || s >= this.seq || s < this.seq - this.capacity) return undefined;
    const slot = s % this.capacity;
    const k = this.kinds[slot];
    if (k === OBJECT) return this.objects[slot];
    const start = this.starts[slot]!;
    const len = this.lens[slot]!;
    if (start < this.bytePos - this.byteCapacity) return undefined; // overwritten by newer text
    const text = Buffer.allocUnsafe(len);
    let done = 0;
    while (done < len) {
      const at = (start + done) % this.byteCapacity;
      const n = Math.min(len - done, this.byteCapacity - at);
      this.bytes.copy(text, done, at, at + n);
      done += n;
    }
    return { seq: s, kind: k === TEXT_PRINTF ? 'printf' : 'child', text };
  }

  /** Walk entries newest first until `visit` returns false. */
  newestFirst(visit: (e: Entry) => boolean): void {
    for (let s = this.seq - 1; s >= 0 && s >= this.seq - this.capacity; s--) {
      const e = this.get(s);
      if (!e || !visit(e)) return;
    }
  }

  /** Every entry kept, oldest first (copies: a paused view keeps them). */
  entries(): Entry[] {
    const out: Entry[] = [];
    this.newestFirst((e) => (out.push(e), true));
    return out.reverse();
  }
}
