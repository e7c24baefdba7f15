// tests/unit/capture-batch.test.ts — the pieces of the capture thread that
// need no kernel: the batch format it hands the main thread (entries, merged
// entries, withheld payload decoded with its length), and the stream writer
// (bytes before their file's fd are kept and written on adopt; positioned
// writes leave holes where bytes never came; release closes the file).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CAPTURE_RECORD } from '../../compiler/manifest.js';
import { BatchWriter, readBatch } from '../../runtime/capture/batch.js';
import { decodeCaptureRecord } from '../../runtime/capture/records.js';
import { combinedNeed } from '../../runtime/events/model.js';
import { StreamWriter } from '../../runtime/capture/stream-writer.js';

const F = CAPTURE_RECORD.fields;

/** A data record as the kernel writes it: header + payload. */
function record(conn: number, offset: number, payload: string): Uint8Array {
  const p = Buffer.from(payload);
  const b = Buffer.alloc(CAPTURE_RECORD.size + p.length);
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
