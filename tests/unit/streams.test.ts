// tests/unit/streams.test.ts — stream reassembly (runtime/capture/streams.ts)
// on synthetic capture records: in-order delivery, a gap resolved at close,
// and connections whose process exited without closing them ended after a
// quiet while (not before, not while the process lives), with a late final
// record from the kernel neither repeating the end nor hiding a lost tail.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ManifestCapture } from '../../compiler/manifest.js';
import type { CaptureRecord } from '../../runtime/capture/records.js';
import { Streams } from '../../runtime/capture/streams.js';
import type { CapEvent } from '../../runtime/events/model.js';

const CAPTURE: ManifestCapture = {
  sink: { kind: 'ringbuf', map: 'capc_payload', size: 1 << 20 },
  flushProgram: 'capc_flush',
  idleFlushMs: 100,
  sites: [
    {
      id: 1,
      kind: 'accumulate',
      size: 1024,
      family: 'write',
      direction: 0,
      probe: 'tracepoint:syscalls:sys_enter_write',
      span: { start: 0, end: 1, line: 1, col: 1, endLine: 1, endCol: 2 },
    },
  ],
  families: [
    {
      name: 'write',
      map: 'capc_conns',
      endId: 100,
      valueSize: 2168,
      bufferSize: 2048,
      maxConnections: 1024,
      fullCounter: 3,
      refusedBytesCounter: 4,
    },
  ],
  dropRecords: 1,
  dropBytes: 2,
};

const data = (conn: number, pid: number, offset: number, text: string): CaptureRecord => ({
  site: 1,
  key: 3n,
  conn,
  offset,
  ts: 0n,
  tsLast: 0n,
  pid,
  tid: pid,
  dir: 0,
  kind: 'data',
  comm: 'app',
  payload: Buffer.from(text),
});
const end = (conn: number, pid: number, kind: 'close' | 'final', out: number): CaptureRecord => ({
  site: 100,
  key: 3n,
  conn,
  offset: 0,
  ts: 0n,
  tsLast: 0n,
  pid,
  tid: pid,
  dir: 0,
  kind,
  comm: 'app',
  payload: Buffer.alloc(0),
  totals: [out, 0],
});

function streams() {
  const events: CapEvent[] = [];
  return { s: new Streams(CAPTURE, (e) => void events.push(e)), events };
}

test('bytes come out in stream order; a gap still missing at close becomes a loss marker', () => {
  const { s, events } = streams();
  s.add(data(1, 10, 0, 'abc'), 0);
  s.add(data(1, 10, 6, 'ghi'), 1);
  s.add(data(1, 10, 3, 'def'), 2);
  s.add(data(1, 10, 12, 'mno'), 3);
  s.add(end(1, 10, 'close', 15), 4);
  const text = events.map((e) =>
    e.kind === 'capture'
      ? e.data.toString()
      : e.kind === 'capture-loss'
        ? `[lost ${e.bytes} at ${e.offset}]`
        : e.kind === 'capture-end'
          ? `[end closed=${e.closed}]`
          : '?',
  );
  assert.deepEqual(text, ['abc', 'def', 'ghi', '[lost 3 at 9]', 'mno', '[end closed=true]']);
  assert.equal(s.totals.lostBytes, 3);
});

test('a connection whose process exited is ended after a quiet while, once, and a late final record adds only what was lost', () => {
  const { s, events } = streams();
  const alive = new Set([10, 20]);
  s.add(data(1, 10, 0, 'hello'), 0);
  s.add(data(2, 20, 0, 'world'), 0);
  assert.equal(
    s.reap((pid) => alive.has(pid), 10_000),
    0,
    'both processes live',
  );
  alive.delete(10);
  assert.equal(
    s.reap((pid) => alive.has(pid), 4_000),
    0,
    'quiet for less than 5 s: not yet',
  );
  assert.equal(
    s.reap((pid) => alive.has(pid), 5_000),
    1,
  );
  assert.equal(s.open, 1);
  const ended = events.filter((e) => e.kind === 'capture-end');
  assert.deepEqual(
    ended.map((e) => e.kind === 'capture-end' && [e.conn.id, e.closed, e.exited, e.bytes[0]]),
    [[1, false, true, 5]],
  );
  // At exit the kernel's final flush still reports connection 1, with 8 bytes written: 3 never arrived.
  s.add(end(1, 10, 'final', 8), 6_000);
  s.add(end(2, 20, 'final', 5), 6_000);
  assert.equal(events.filter((e) => e.kind === 'capture-end').length, 2, 'connection 1 is not ended twice');
  const loss = events.filter((e) => e.kind === 'capture-loss');
  assert.deepEqual(
    loss.map((e) => e.kind === 'capture-loss' && [e.conn.id, e.offset, e.bytes]),
    [[1, 5, 3]],
  );
  assert.equal(s.totals.lostBytes, 3);
  assert.equal(s.totals.connections, 2);
  assert.equal(s.open, 0);
});

test('a connection that keeps sending is never reaped, whatever the pid check says', () => {
  const { s } = streams();
  for (let t = 0; t <= 20_000; t += 1000) {
    s.add(data(1, 10, t / 1000, 'x'), t);
    assert.equal(
      s.reap(() => false, t),
      0,
    );
  }
  assert.equal(s.open, 1);
});

test('a gap with 200,000 records waiting behind it is resolved without overflowing the stack', () => {
  const events: CapEvent[] = [];
  const s = new Streams(CAPTURE, (e) => events.push(e), 1000);
  // Offset 0..9 never arrives; 200,000 ten-byte records wait behind the gap.
  for (let i = 1; i <= 200_000; i++) s.add(data(1, 10, i * 10, '0123456789'), 0);
  s.tick(2000);
  const loss = events.find((e) => e.kind === 'capture-loss');
  assert.deepEqual(loss && { offset: loss.offset, bytes: loss.bytes }, { offset: 0, bytes: 10 });
  assert.equal(events.filter((e) => e.kind === 'capture').length, 200_000);
});
