// runtime/capture/records.ts — decodes capture records (struct capc_cap_rec +
// payload, layout in compiler/manifest.ts CAPTURE_RECORD) into plain objects.
// Payload bytes are copied out of the ring, which is reused after draining.
import { CAPTURE_KIND, CAPTURE_RECORD } from '../../compiler/index.js';

export interface CaptureRecord {
  site: number;
  key: bigint;
  conn: number;
  offset: number;
  ts: bigint;
  pid: number;
  tid: number;
  dir: 0 | 1;
  kind: 'data' | 'close' | 'final';
  comm: string;
  payload: Buffer;
  /** close/final: total bytes each direction had at the end. */
  totals?: [number, number];
}

const F = CAPTURE_RECORD.fields;

export function decodeCaptureRecord(
  data: Uint8Array,
  view: DataView,
  off: number,
  length: number,
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
    pid: view.getUint32(off + F.pid, true),
    tid: view.getUint32(off + F.tid, true),
    dir: (view.getUint8(off + F.dir) & 1) as 0 | 1,
    kind: kindCode === CAPTURE_KIND.close ? 'close' : kindCode === CAPTURE_KIND.final ? 'final' : 'data',
    comm: Buffer.from(commBytes.subarray(0, nul < 0 ? 16 : nul)).toString('utf8'),
    payload: Buffer.from(data.subarray(off + CAPTURE_RECORD.size, off + CAPTURE_RECORD.size + len)),
  };
  if (rec.kind !== 'data' && len >= 16) {
    rec.totals = [
      Number(view.getBigUint64(off + CAPTURE_RECORD.size, true)),
      Number(view.getBigUint64(off + CAPTURE_RECORD.size + 8, true)),
    ];
    rec.payload = Buffer.alloc(0);
  }
  return rec;
}
