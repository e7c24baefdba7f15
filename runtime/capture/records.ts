// runtime/capture/records.ts — decodes capture records (struct capc_cap_rec +
// payload, layout in compiler/manifest.ts CAPTURE_RECORD) into plain objects.
// Payload bytes are copied out of the ring, which is reused after draining;
// from a capture thread's batch (runtime/capture/batch.ts) they are viewed in
// place, and may be absent when no output needs them (`len` still says how
// many there were).
import { CAPTURE_KIND, CAPTURE_RECORD } from '../../compiler/index.js';
import type { ConnIdent } from '../events/model.js';
import { decodeIdent } from './identity.js';

export interface CaptureRecord {
  site: number;
  key: bigint;
  conn: number;
  offset: number;
  /** Kernel time of the first fragment in the record, and of the last. */
  ts: bigint;
  tsLast: bigint;
  pid: number;
  tid: number;
  dir: 0 | 1;
  kind: 'data' | 'close' | 'final' | 'ident';
  comm: string;
  /** The payload bytes, or none when they were not delivered (see len). */
  payload: Buffer;
  /** Payload length in the stream, delivered or not (absent: payload.length). */
  len?: number;
  /** close/final: total bytes each direction had at the end. */
  totals?: [number, number];
  /** ident: the connection's socket. */
  ident?: ConnIdent;
}

const KINDS: Record<number, CaptureRecord['kind']> = {
  [CAPTURE_KIND.data]: 'data',
  [CAPTURE_KIND.close]: 'close',
  [CAPTURE_KIND.final]: 'final',
  [CAPTURE_KIND.ident]: 'ident',
};

const F = CAPTURE_RECORD.fields;

/**
 * `held`: bytes of the record present at `off` (less than `length` when its
 * payload was not delivered); `copy`: copy the payload out (ring memory is
 * reused) or view it in place (a batch buffer the caller owns).
 */
export function decodeCaptureRecord(
  data: Uint8Array,
  view: DataView,
  off: number,
  length: number,
  held = length,
  copy = true,
): CaptureRecord | undefined {
  if (length < CAPTURE_RECORD.size) return undefined;
  const len = view.getUint32(off + F.len, true);
  if (CAPTURE_RECORD.size + len > length) return undefined;
  const kindCode = view.getUint8(off + F.kind);
  const commBytes = data.subarray(off + F.comm, off + F.comm + 16);
  const nul = commBytes.indexOf(0);
  const rec: CaptureRecord = {
    site: view.getUint32(off + F.id, true),
    key: view.getBigUint64(off + F.key, true),
    conn: Number(view.getBigUint64(off + F.conn, true)),
    offset: Number(view.getBigUint64(off + F.offset, true)),
    ts: view.getBigUint64(off + F.ts, true),
    tsLast: view.getBigUint64(off + F.tsLast, true),
    pid: view.getUint32(off + F.pid, true),
    tid: view.getUint32(off + F.tid, true),
    dir: (view.getUint8(off + F.dir) & 1) as 0 | 1,
    kind: KINDS[kindCode] ?? 'data',
    comm: Buffer.from(commBytes.subarray(0, nul < 0 ? 16 : nul)).toString('utf8'),
    payload: payloadOf(data, off + CAPTURE_RECORD.size, held >= CAPTURE_RECORD.size + len ? len : 0, copy),
    len,
  };
  if (rec.kind === 'ident') {
    rec.ident = decodeIdent(rec.payload);
    rec.payload = Buffer.alloc(0);
  } else if (rec.kind !== 'data' && len >= 16) {
    rec.totals = [
      Number(view.getBigUint64(off + CAPTURE_RECORD.size, true)),
      Number(view.getBigUint64(off + CAPTURE_RECORD.size + 8, true)),
    ];
    rec.payload = Buffer.alloc(0);
    rec.len = 0;
  }
  return rec;
}

/** Payload bytes a record stands for, delivered or not. */
export const payloadLength = (r: { payload: Buffer; len?: number }): number => r.len ?? r.payload.length;

function payloadOf(data: Uint8Array, start: number, n: number, copy: boolean): Buffer {
  if (copy) return Buffer.from(data.subarray(start, start + n));
  return Buffer.from(data.buffer, data.byteOffset + start, n);
}
