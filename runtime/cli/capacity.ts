// runtime/cli/capacity.ts — the capacity report `capc check` and `capc build`
// print for programs that capture: record sizes, how many batches a ring holds,
// and the kernel memory each connection table takes.
import { CAPTURE_RECORD, IDENT_RECORD, type Manifest } from '../../compiler/index.js';
import { humanBytes } from '../format/payload.js';

const RINGBUF_RECORD_HEADER = 8;
/** One TLS stream at full speed on the 2-vCPU machine kind BENCHMARKS.md measures (16 KiB writes): bytes/s. */
const WIRE_RATE = 400e6;
/** A reader kept off the CPU this long (measured on a busy machine: BENCHMARKS.md, ring size at wire speed). */
const LONG_STALL_MS = 100;

/** The smallest power-of-two ring of at least `n` bytes, as the size options take it. */
function ringFor(n: number): string {
  let r = 4096;
  while (r < n) r *= 2;
  return r >= 2 ** 30 ? `${r / 2 ** 30}G` : r >= 2 ** 20 ? `${r / 2 ** 20}M` : `${r / 1024}K`;
}

export function capacityReport(m: Manifest): string {
  const cap = m.capture;
  if (!cap) return '';
  const lines: string[] = ['capture capacity:'];
  const sinkWhat =
    cap.sink.kind === 'ringbuf'
      ? `ring buffer ${humanBytes(cap.sink.size)}`
      : `perf buffer ${humanBytes(cap.sink.size)} per CPU`;
  for (const s of cap.sites) {
    const rec = CAPTURE_RECORD.size + s.size;
    const perRing = Math.floor(cap.sink.size / (rec + RINGBUF_RECORD_HEADER));
    lines.push(
      `  ${s.kind}(…, ${s.size}) on ${s.probe}: ${s.kind === 'accumulate' ? `batches of up to ${s.size} bytes` : `records of up to ${s.size} bytes`}, ` +
        `${rec} bytes per full record (${CAPTURE_RECORD.size}-byte header once per ${s.kind === 'accumulate' ? 'batch' : 'record'}); ` +
        `the ${sinkWhat} holds ${perRing.toLocaleString('en')} full ones`,
    );
  }
  for (const f of cap.families) {
    lines.push(
      `  connections (${f.name}): ${f.valueSize.toLocaleString('en')} bytes each${f.accumulateSize ? ` (state + a ${f.bufferSize}-byte buffer, 2N: R2)` : ''}; ` +
        `${f.maxConnections.toLocaleString('en')} at most = ${humanBytes(f.valueSize * f.maxConnections)} of kernel memory, allocated when loaded`,
    );
  }
  if (cap.sink.kind === 'ringbuf') {
    const ms = (cap.sink.size / WIRE_RATE) * 1000;
    lines.push(
      `  at wire speed (one TLS stream at full speed, ~${WIRE_RATE / 1e6} MB/s on 2 vCPUs) the ring holds ${ms.toFixed(0)} ms of data: ` +
        `the reader must get a CPU that often; to ride out a ${LONG_STALL_MS} ms burst at that rate use -> ringbuf(${ringFor((WIRE_RATE * LONG_STALL_MS) / 1000)}) ` +
        `(after a loss, W0903 names the ring that would have held the burst it saw)`,
    );
  }
  // The TLS families share one identity table.
  const tables = new Map<string, { names: string[]; maxEntries: number }>();
  for (const f of m.identity?.families ?? []) {
    const t = tables.get(f.map) ?? { names: [], maxEntries: f.maxEntries };
    t.names.push(f.name);
    tables.set(f.map, t);
  }
  for (const t of tables.values()) {
    lines.push(
      `  identities (${t.names.join(', ')}): ${IDENT_RECORD.size} bytes each (socket, addresses, unix paths), ${t.maxEntries.toLocaleString('en')} at most = ${humanBytes(IDENT_RECORD.size * t.maxEntries)}; ` +
        `sent once per connection in a ${CAPTURE_RECORD.size + IDENT_RECORD.size}-byte record`,
    );
  }
  lines.push(
    `  a partial batch is flushed ${cap.idleFlushMs} ms after its first byte; a fragment too big to batch goes out in records of up to 16 KiB`,
  );
  return lines.join('\n') + '\n';
}
