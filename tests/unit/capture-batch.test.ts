// tests/unit/capture-batch.test.ts — the pieces of the capture thread that
// need no kernel: the batch format it hands the main thread (entries, merged
// entries, withheld payload decoded with its length), a pass's records merged
// into a batch (the first record's header, the last one's ts_last, never
// across a connection's ident record) and read back by the main thread's
// Streams with the connection's identity, and the stream writer
// (bytes before their file's fd are kept and written on adopt; positioned
// writes leave holes where bytes never came; release closes the file); the
// native drain's batch rules against the same cases, and where it may load from.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CAPTURE_KIND, CAPTURE_RECORD, IDENT_RECORD, type ManifestCapture } from '../../compiler/manifest.js';
import { BatchWriter, buildBatch, heldBytes, readBatch, type PassRecords } from '../../runtime/capture/batch.js';
import {
  LIBRARY,
  isUnavailable,
  libraryCandidates,
  loadNativeDrain,
  nativeDrain,
  type NativeDrainLib,
} from '../../runtime/ffi/drain.js';
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

// The native drain (runtime/native/capc-batch.c) obeys the same rules: the same pass through both gives the
// same bytes, so removing a rule on either side fails here (the JavaScript one is pinned by the test above).
const LAYOUT = {
  size: CAPTURE_RECORD.size,
  len: F.len,
  kind: F.kind,
  conn: F.conn,
  offset: F.offset,
  dir: F.dir,
  ts_last: F.tsLast,
  data_kind: CAPTURE_KIND.data,
};

function lib(): NativeDrainLib {
  const l = nativeDrain();
  assert.ok(!isUnavailable(l), `the native drain did not load: ${isUnavailable(l) ? l.reason : ''}`);
  return l;
}

/** A pass of records laid out in one ring buffer (as passRecords above), and the same through C and JavaScript. */
function pass(recs: [Uint8Array, number, number, number, boolean][]): { ring: Buffer; p: PassRecords } {
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
  let at = 0;
  recs.forEach(([b, conn, dir, offset, isData], i) => {
    p.off[i] = at;
    p.len[i] = b.length;
    p.plen[i] = b.length - CAPTURE_RECORD.size;
    p.conn[i] = conn;
    p.at[i] = offset;
    p.dir[i] = dir;
    p.data[i] = isData ? 1 : 0;
    at += b.length;
  });
  return { ring, p };
}

function nativeBatch(ring: Buffer, p: PassRecords, held: Int32Array, merge: boolean): Buffer {
  const l = lib();
  const args = [ring, p.n, p.off, p.len, p.plen, p.conn, p.at, p.dir, p.data, held, merge ? 1 : 0, LAYOUT] as const;
  const size = l.buildBatchTest(...args, null, 0) as number;
  const out = Buffer.alloc(size);
  assert.equal(l.buildBatchTest(...args, out, size), size);
  return out;
}

const PASS: [Uint8Array, number, number, number, boolean][] = [
  [record(1, 0, 'hello ', 100n, 150n), 1, 0, 0, true],
  [record(2, 0, 'other', 120n, 130n), 2, 0, 0, true],
  [record(1, 6, 'world', 200n, 260n), 1, 0, 6, true],
  [record(1, 0, 'abc', 210n, 220n), 1, 1, 0, true], // the other direction: a stream of its own
  [record(1, 0, identPayload(), 270n, 270n, CAPTURE_KIND.ident), 1, 0, 0, false],
  [record(1, 11, '!!', 300n, 310n), 1, 0, 11, true],
  [record(1, 3, 'de', 305n, 306n), 1, 1, 3, true],
  [record(1, 13, '?', 320n, 330n), 1, 0, 13, true],
  [record(1, 20, 'gap', 340n, 350n), 1, 0, 20, true], // not where the stream ended: an entry of its own
  [record(1, 0, Buffer.alloc(16), 360n, 360n, CAPTURE_KIND.close), 1, 0, 0, false],
  [record(1, 23, 'late', 370n, 380n), 1, 0, 23, true],
];

test('native batches: the same bytes as buildBatch, merged (headers only) and not (payload delivered)', () => {
  const { ring, p } = pass(PASS);
  const layout = { size: CAPTURE_RECORD.size, len: F.len, tsLast: F.tsLast };
  for (const need of ['none', 'all', { tail: 4 }] as const) {
    const held = heldBytes(p, need, CAPTURE_RECORD.size);
    const merge = need === 'none';
    const js = buildBatch(ring, p, held, merge, layout);
    const c = nativeBatch(ring, p, held, merge);
    assert.deepEqual(c, Buffer.from(js.bytes.buffer, 0, js.used), `batch for ${JSON.stringify(need)}`);
    let entries = 0;
    readBatch(new Uint8Array(c).buffer, c.length, () => void entries++);
    // Merged: conn 1 dir 0 [0..11), conn 2, conn 1 dir 1 [0..3), ident, dir 0 [11..14), dir 1 [3..5) (the ident
    // ended merging in both directions), the gap, close, late.
    assert.equal(entries, merge ? 9 : PASS.length, `entries for ${JSON.stringify(need)}`);
  }
});

test('native batches: what each record carries is heldBytes, for every payload need', () => {
  const { p } = pass(PASS);
  for (const [need, mode, tail] of [
    ['none', 0, 0],
    ['all', 1, 0],
    [{ tail: 4 }, 2, 4],
    [{ tail: 1 << 20 }, 2, 1 << 20],
  ] as const) {
    const c = new Int32Array(p.n);
    lib().heldTest(p.n, p.len, p.plen, p.conn, p.dir, p.data, mode, tail, CAPTURE_RECORD.size, c);
    assert.deepEqual([...c], [...heldBytes(p, need, CAPTURE_RECORD.size)], JSON.stringify(need));
  }
});

test('the native drain loads only from a path nobody else can write (else W0911 and the JavaScript drain)', () => {
  const built = libraryCandidates().find((f) => fs.existsSync(f));
  assert.ok(built, 'dist/libcapc-drain.so is not built (npm run build)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-native-'));
  try {
    const file = path.join(dir, LIBRARY);
    fs.copyFileSync(built, file);
    fs.chmodSync(file, 0o755);
    assert.ok(!isUnavailable(loadNativeDrain([file])), 'a trusted copy loads');
    fs.chmodSync(file, 0o777);
    const writable = loadNativeDrain([file]);
    assert.ok(isUnavailable(writable) && /writable by other users/.test(writable.reason), JSON.stringify(writable));
    fs.chmodSync(file, 0o755);
    fs.chmodSync(dir, 0o777); // a directory anyone can write (no sticky bit): the file could be replaced
    const inOpenDir = loadNativeDrain([file]);
    assert.ok(isUnavailable(inOpenDir) && inOpenDir.reason.includes(dir), JSON.stringify(inOpenDir));
    const missing = loadNativeDrain([path.join(dir, 'nothing.so')]);
    assert.ok(isUnavailable(missing) && /not next to the bundle/.test(missing.reason));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
