// runtime/output/batched-out.ts — output that costs one write per drain, not
// one per event. Renderers write many small pieces while a ring is drained
// (synchronously); they are gathered here and handed to the sink in one
// buffer when the drain yields (a microtask), or sooner past 64 KiB.
// printf text arrives as latin1 strings (one character per byte, see
// events/printf-event.ts) and is encoded once per batch, not once per line.
// Measured on a syscall storm: a write(2) per printf line spent 62% of
// capc's time in the kernel and capped the consumer at ~0.25 M records/s.
import type { Out } from './text.js';

export interface BatchedOut extends Out {
  /** Bytes given as a latin1 string: one character per byte. */
  writeLatin1(bytes: string): void;
  /** Write out whatever is gathered now. */
  flush(): void;
}

export function batchedOut(sink: (data: Buffer) => void, limit = 64 * 1024): BatchedOut {
  let parts: Buffer[] = [];
  let latin1: string[] = [];
  let size = 0;
  let scheduled = false;
  const closeLatin1 = () => {
    if (!latin1.length) return;
    parts.push(Buffer.from(latin1.length === 1 ? latin1[0]! : latin1.join(''), 'latin1'));
    latin1 = [];
  };
  const flush = () => {
    scheduled = false;
    closeLatin1();
    if (!parts.length) return;
    const pending = parts;
    parts = [];
    size = 0;
    sink(pending.length === 1 ? pending[0]! : Buffer.concat(pending));
  };
  const added = (n: number) => {
    size += n;
    if (size >= limit) flush();
    else if (!scheduled) {
      scheduled = true;
      queueMicrotask(flush);
    }
  };
  return {
    write(d) {
      closeLatin1();
      const b = typeof d === 'string' ? Buffer.from(d) : d;
      parts.push(b);
      added(b.length);
    },
    writeLatin1(bytes) {
      latin1.push(bytes);
      added(bytes.length);
    },
    flush,
  };
}
