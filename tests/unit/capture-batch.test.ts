// tests/unit/capture-batch.test.ts — the pieces of the capture thread that
// need no kernel: the batch format it hands the main thread (entries, merged
// entries, withheld payload decoded with its length), a pass's records merged
// into a batch (the first record's header, the last one's ts_last, never
// across a connection's ident record) and read back by the main thread's
// Streams with the connection's identity, and the stream writer
// (bytes before their file's fd are kept and written on adopt; positioned
// writes leave holes where bytes never came; release closes the file).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CAPTURE_KIND, CAPTURE_RECORD, IDENT_RECORD, type ManifestCapture } from '../../compiler/manifest.js';
import { BatchWriter, buildBatch, readBatch, type PassRecords } from '../../runtime/capture/batch.js';
import { decodeCaptureRecord } from '../../runtime/capture/records.js';
import { Streams } from '../../runtime/capture/streams.js';
import { combinedNeed, type CapEvent } from '../../runtime/events/model.js';
import { StreamWriter } from '../../runtime/capture/stream-writer.js';

const F = CAPTURE_RECORD.fields;

/** A data record as the kernel writes it: header + payload (`ts`, `tsLast`: its first and last fragment's times). */
function record(conn: number, offset: number, payload: string | Buffer, ts = 0n, tsLast = ts, kind = 0): Uint8Array {
  const p = Buffer.from(payload);
  const b = Buffer.alloc(CAPTURE_RECORD.size + p.length);
  b.writeBigUInt64LE(ts, F.ts);
  b.writeBigUInt64LE(tsLast, F.tsLast);
  b.writeUInt8(kind, F.kind);
  b.writeUInt32LE(7, F.id);
  b.writeBigUInt64LE(0xabcn, F.key);
  b.writeBigUInt64LE(BigInt(conn), F.conn);
  b.writeBigUInt64LE(BigInt(offset), F.offset);
  b.writeUInt32LE(42, F.pid);
  b.writeUInt32LE(43, F.tid);
  b.writeUInt32LE(p.length, F.len);
  b.write('curl', F.comm);
  p.copy(b, CAPTURE_RECORD.size);
  return b;
}

test('batch: entries round-trip, withheld payload keeps its length, merged entries add up', () => {
  const a = record(1, 0, 'hello ');
  const b = record(1, 6, 'world');
  const size = 3 * (16 + a.length + 8);
  const w = new BatchWriter(size);
  w.add(a, 0, a.length, a.length, 1); // delivered
  const start = w.add(b, 0, b.length, CAPTURE_RECORD.size, 1); // header only
  // Merge a third record of 4 bytes into the second entry (as the thread does when no output needs bytes).
  w.grow(start, 4, 1);
  w.setU32(start + F.len, w.readU32(start + F.len) + 4);
  const seen: { len: number; payload: string; count: number; offset: number }[] = [];
  readBatch(w.bytes.buffer as ArrayBuffer, w.used, (data, view, off, length, held, count) => {
    const r = decodeCaptureRecord(data, view, off, length, held, false)!;
    seen.push({ len: r.len!, payload: r.payload.toString(), count, offset: r.offset });
    assert.equal(r.comm, 'curl');
    assert.equal(r.pid, 42);
  });
  assert.deepEqual(seen, [
    { len: 6, payload: 'hello ', count: 1, offset: 0 },
    { len: 9, payload: '', count: 2, offset: 6 },
  ]);
});

/** An ident record's payload: an IPv4 TCP socket 127.0.0.1:41712 -> 127.0.0.1:5432 on fd 5 (stdlib/capc-ident.bpf.h). */
function identPayload(): Buffer {
  const I = IDENT_RECORD.fields;
  const b = Buffer.alloc(IDENT_RECORD.size);
  b.writeBigUInt64LE(77n, I.cgroup);
  b.writeBigUInt64LE(123456n, I.ino);
  b.writeInt32LE(5, I.fd);
  b.writeUInt8(1, I.state);
  b.writeUInt8(1, I.how);
  b.writeUInt8(1, I.connected);
  b.writeUInt16LE(2, I.family);
  b.writeUInt16LE(1, I.type);
  b.writeUInt16LE(41712, I.lport);
  b.writeUInt16LE(5432, I.rport);
  Buffer.from([127, 0, 0, 1]).copy(b, I.laddr);
  Buffer.from([127, 0, 0, 1]).copy(b, I.raddr);
  return b;
}

const CAPTURE: ManifestCapture = {
  sink: { kind: 'ringbuf', map: 'capc_payload', size: 1 << 20 },
  flushProgram: 'capc_flush',
  idleFlushMs: 100,
  sites: [
    {
      id: 7,
      kind: 'accumulate',
      size: 1024,
      family: 'openssl',
      direction: 0,
      probe: 'uprobe:libssl:SSL_write',
      span: { start: 0, end: 1, line: 1, col: 1, endLine: 1, endCol: 2 },
    },
  ],
  families: [
    {
      name: 'openssl',
      map: 'capc_c_openssl',
      endId: 100,
      valueSize: 2176,
      accumulateSize: 1024,
      bufferSize: 2048,
      maxConnections: 1024,
      fullCounter: 3,
      refusedBytesCounter: 4,
    },
  ],
  dropRecords: 1,
  dropBytes: 2,
};

test("merging a pass: the first record's header, the last one's ts_last, never across an ident record; Streams keeps the identity", () => {
  // A pass as the thread reads it from ring memory: four data records of conn 1 (the third after its
  // ident record) and one of conn 2 in between.
  const recs: [Uint8Array, number, number, number, boolean][] = [
    [record(1, 0, 'hello ', 100n, 150n), 1, 0, 0, true],
    [record(2, 0, 'other', 120n, 130n), 2, 0, 0, true],
    [record(1, 6, 'world', 200n, 260n), 1, 0, 6, true],
    [record(1, 0, identPayload(), 270n, 270n, CAPTURE_KIND.ident), 1, 0, 0, false],
    [record(1, 11, '!!', 300n, 310n), 1, 0, 11, true],
    [record(1, 13, '?', 320n, 330n), 1, 0, 13, true],
  ];
  const ring = Buffer.concat(recs.map((r) => r[0]));
  const n = recs.length;
  const p: PassRecords = {
    n,
    off: new Int32Array(n),
    len: new Int32Array(n),
    plen: new Int32Array(n),
    conn: new Float64Array(n),
    at: new Float64Array(n),
    dir: new Uint8Array(n),
    data: new Uint8Array(n),
  };
  const held = new Int32Array(n);
  let at = 0;
  recs.forEach(([b, conn, dir, offset, isData], i) => {
    p.off[i] = at;
    p.len[i] = b.length;
    p.plen[i] = b.length - CAPTURE_RECORD.size;
    p.conn[i] = conn;
    p.at[i] = offset;
    p.dir[i] = dir;
    p.data[i] = isData ? 1 : 0;
    held[i] = isData ? CAPTURE_RECORD.size : b.length; // no output needs bytes: headers only, ident whole
    at += b.length;
  });
  const batch = buildBatch(ring, p, held, true, { size: CAPTURE_RECORD.size, len: F.len, tsLast: F.tsLast });
  const entries: {
    conn: number;
    kind: string;
    offset: number;
    len: number;
    ts: bigint;
    tsLast: bigint;
    count: number;
  }[] = [];
  const events: CapEvent[] = [];
  const streams = new Streams(CAPTURE, (e) => void events.push(e));
  readBatch(batch.bytes.buffer as ArrayBuffer, batch.used, (data, view, off, length, h, count) => {
    const r = decodeCaptureRecord(data, view, off, length, h, false)!;
    entries.push({ conn: r.conn, kind: r.kind, offset: r.offset, len: r.len!, ts: r.ts, tsLast: r.tsLast, count });
    streams.add(r, 0, count);
  });
  assert.deepEqual(entries, [
    { conn: 1, kind: 'data', offset: 0, len: 11, ts: 100n, tsLast: 260n, count: 2 },
    { conn: 2, kind: 'data', offset: 0, len: 5, ts: 120n, tsLast: 130n, count: 1 },
    { conn: 1, kind: 'ident', offset: 0, len: IDENT_RECORD.size, ts: 270n, tsLast: 270n, count: 1 },
    { conn: 1, kind: 'data', offset: 11, len: 3, ts: 300n, tsLast: 330n, count: 2 },
  ]);
  assert.equal(streams.totals.records, 6, 'every ring record counted, merged or not');
  const caps = events.filter((e): e is Extract<CapEvent, { kind: 'capture' }> => e.kind === 'capture');
  assert.deepEqual(
    caps.map((e) => [e.conn.id, e.offset, e.len, e.ts, e.tsLast]),
    [
      [1, 0, 11, 100n, 260n],
      [2, 0, 5, 120n, 130n],
      [1, 11, 3, 300n, 330n],
    ],
  );
  // The identity is the connection's, whatever records were merged: every event of conn 1 now carries it.
  const c1 = caps[2]!.conn;
  assert.equal(caps[0]!.conn, c1, 'one ConnInfo per connection');
  assert.equal(c1.ident?.state, 'socket');
  assert.deepEqual(
    [c1.ident?.local, c1.ident?.peer],
    [
      { addr: '127.0.0.1', port: 41712 },
      { addr: '127.0.0.1', port: 5432 },
    ],
  );
  assert.equal(c1.ident?.fd, 5);
  assert.equal(caps[1]!.conn.ident, undefined, 'conn 2 has no identity');
  assert.deepEqual(
    events.filter((e) => e.kind === 'capture-conn').map((e) => (e as { conn: { id: number } }).conn.id),
    [1],
  );
  assert.equal(streams.totals.bytes[0], 19);
});

test('payload needs combine: any output that wants everything gets everything', () => {
  assert.equal(combinedNeed(['none', 'all']), 'all');
  assert.deepEqual(combinedNeed(['none', { tail: 10 }, { tail: 20 }]), { tail: 20 });
  assert.equal(combinedNeed(['none', 'none']), 'none');
});

test('stream writer: bytes before the fd wait, positioned writes leave holes, release closes', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-writer-'));
  try {
    const file = path.join(dir, 's.bin');
    const w = new StreamWriter();
    w.add(3, 0, 0, Buffer.from('abc')); // no fd yet: copied
    assert.equal(w.pendingBytes, 3);
    const fd = fs.openSync(file, 'w', 0o600);
    w.adopt(3, 0, fd);
    assert.equal(w.pendingBytes, 0);
    const ring = Buffer.from('defXXghi');
    w.add(3, 0, 3, ring.subarray(0, 3)); // contiguous with what was written
    w.add(3, 0, 8, ring.subarray(5, 8)); // a gap of 2 bytes (lost): a hole
    w.add(4, 1, 0, Buffer.from('other')); // another stream, no fd: waits
    w.flush();
    assert.equal(fs.readFileSync(file).toString('latin1'), 'abcdef\0\0ghi');
    w.skip(4, 1); // the main thread wants no file for it
    assert.equal(w.pendingBytes, 0);
    w.release(3, 0);
    assert.throws(() => fs.fstatSync(fd), /EBADF/, 'release closes the file');
    assert.equal(w.bytesWritten, 9);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
