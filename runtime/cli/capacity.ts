// runtime/cli/capacity.ts — the capacity report `capc check` and `capc build`
// print for programs that capture: record sizes, how many batches a ring holds,
// and the kernel memory each connection table takes.
import { CAPTURE_RECORD, IDENT_RECORD, type Manifest } from '../../compiler/index.js';
import { humanBytes } from '../format/payload.js';

const RINGBUF_RECORD_HEADER = 8;

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
    `  idle batches are flushed after ${cap.idleFlushMs} ms; a fragment too big to batch goes out in records of up to 16 KiB`,
  );
  return lines.join('\n') + '\n';
}
