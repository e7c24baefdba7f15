// tests/unit/stream-files.test.ts — the --write-streams layout: COMM/PID/connN
// files at their stream offsets, an index that grows as connections end and
// is a JSON array once capc has exited, nothing kept for an ended connection,
// and late bytes of an ended connection in a continuation file.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { ConnInfo } from '../../runtime/events/model.js';
import { StreamFiles } from '../../runtime/output/stream-files.js';

const conn = (id: number, pid = 100, comm = 'cur l'): ConnInfo => ({
  id,
  key: BigInt(0x1000 + id),
  pid,
  comm,
  probe: 'uprobe:libssl:SSL_write',
  family: 'openssl',
});
const data = (s: string) => Buffer.from(s);

test('files per COMM/PID, bytes at their offsets, holes for losses, index entries as connections end', () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'capc-sf-')), 'out');
  const sf = new StreamFiles(dir);
  const a = conn(1);
  sf.event({ kind: 'capture', conn: a, dir: 0, offset: 0, data: data('GET /'), ts: 0n, tsLast: 0n, tid: 1, site: 0 });
  sf.event({ kind: 'capture-loss', conn: a, dir: 0, offset: 5, bytes: 3 });
  sf.event({ kind: 'capture', conn: a, dir: 0, offset: 8, data: data('tail'), ts: 0n, tsLast: 0n, tid: 1, site: 0 });
  sf.event({ kind: 'capture', conn: a, dir: 1, offset: 0, data: data('200'), ts: 0n, tsLast: 0n, tid: 1, site: 0 });
  sf.event({ kind: 'capture-end', conn: a, closed: true, bytes: [9, 3], lost: [3, 0] });
  // The entry is in the index as soon as the connection ended (an unterminated array until exit).
  const partial = fs.readFileSync(path.join(dir, 'streams.json'), 'utf8');
  assert.match(partial, /^\[\n\{"conn":1,/);
  const b = conn(2, 200, 'nginx');
  sf.event({ kind: 'capture', conn: b, dir: 1, offset: 0, data: data('x'), ts: 0n, tsLast: 0n, tid: 1, site: 0 });
  sf.end();
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'streams.json'), 'utf8'));
  assert.deepEqual(
    index.map((e: { conn: number; closed: boolean; streams: { file: string; bytes: number }[] }) => [
      e.conn,
      e.closed,
      e.streams.map((s) => [s.file, s.bytes]),
    ]),
    [
      [
        1,
        true,
        [
          ['cur_l/100/conn1-egress.bin', 9],
          ['cur_l/100/conn1-ingress.bin', 3],
        ],
      ],
      [2, false, [['nginx/200/conn2-ingress.bin', 1]]],
    ],
  );
  assert.deepEqual(index[0].streams[0].lost, [{ offset: 5, bytes: 3 }]);
  assert.equal(fs.readFileSync(path.join(dir, 'cur_l/100/conn1-egress.bin'), 'latin1'), 'GET /\0\0\0tail');
});

test('bytes for a connection after it ended go to a continuation file, with the offset of its first byte', () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'capc-sf-')), 'out');
  const sf = new StreamFiles(dir);
  const a = conn(7);
  sf.event({ kind: 'capture', conn: a, dir: 0, offset: 0, data: data('first'), ts: 0n, tsLast: 0n, tid: 1, site: 0 });
  sf.event({ kind: 'capture-end', conn: a, closed: false, exited: true, bytes: [5, 0], lost: [0, 0] });
  sf.event({ kind: 'capture', conn: a, dir: 0, offset: 5, data: data('late'), ts: 0n, tsLast: 0n, tid: 1, site: 0 });
  sf.event({ kind: 'capture-end', conn: a, closed: true, bytes: [9, 0], lost: [0, 0] });
  sf.end();
  const index = JSON.parse(fs.readFileSync(path.join(dir, 'streams.json'), 'utf8'));
  assert.deepEqual(
    index.map((e: { streams: object[] }) => e.streams),
    [
      [{ file: 'cur_l/100/conn7-egress.bin', bytes: 5, lost: [] }],
      [{ file: 'cur_l/100/conn7-egress.1.bin', bytes: 4, lost: [], base: 5 }],
    ],
  );
  assert.equal(fs.readFileSync(path.join(dir, 'cur_l/100/conn7-egress.bin'), 'latin1'), 'first');
  assert.equal(fs.readFileSync(path.join(dir, 'cur_l/100/conn7-egress.1.bin'), 'latin1'), 'late');
});
