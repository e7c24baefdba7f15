// runtime/capture/records.ts — decodes capture records (struct capc_cap_rec +
// payload, layout in compiler/manifest.ts CAPTURE_RECORD) into plain objects.
// Payload bytes are copied out of the ring, which is reused after draining.
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
  payload: Buffer;
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
    tsLast: view.getBigUint64(off + F.tsLast, true),
    pid: view.getUint32(off + F.pid, true),
    tid: view.getUint32(off + F.tid, true),
    dir: (view.getUint8(off + F.dir) & 1) as 0 | 1,
    kind: KINDS[kindCode] ?? 'data',
    comm: Buffer.from(commBytes.subarray(0, nul < 0 ? 16 : nul)).toString('utf8'),
    payload: Buffer.from(data.subarray(off + CAPTURE_RECORD.size, off + CAPTURE_RECORD.size + len)),
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
  }
  return rec;
}
