// tests/unit/identity.test.ts — connection identity without the kernel:
// address literals of predicates (runtime-independent parsing, prefixes),
// the ident record's payload decoded from its manifest layout (inet, inet6,
// unix paths, abstract names, a pipe), the text and JSON every output uses,
// ts_last in data records, and the reader attaching an identity to its
// connection whether it comes before the bytes or after them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseAddressLiteral } from '../../compiler/2-analyze/check-identity.js';
import { CAPTURE_KIND, CAPTURE_RECORD, IDENT_RECORD, type ManifestCapture } from '../../compiler/manifest.js';
import { decodeIdent } from '../../runtime/capture/identity.js';
import { decodeCaptureRecord, type CaptureRecord } from '../../runtime/capture/records.js';
import { Streams } from '../../runtime/capture/streams.js';
import type { CapEvent, ConnIdent, ConnInfo } from '../../runtime/events/model.js';
import { connWhere, endpointText, identityJson, identityText, peerText } from '../../runtime/format/identity.js';
import { IDENTITY_SYSCALLS } from '../../stdlib/signatures.js';
import { repoRoot } from '../support/paths.js';

test('address literals: IPv4, IPv6 (with ::, an IPv4 tail), networks with their prefix', () => {
  const bytes = (s: string) => [...parseAddressLiteral(s)!.bytes];
  assert.deepEqual(bytes('127.0.0.1').slice(0, 4), [127, 0, 0, 1]);
  assert.equal(parseAddressLiteral('127.0.0.1')!.prefix, 32);
  assert.deepEqual(bytes('::1'), [...Array(15).fill(0), 1]);
  assert.deepEqual(bytes('::'), Array(16).fill(0));
  assert.deepEqual(bytes('fe80::1:2'), [0xfe, 0x80, ...Array(10).fill(0), 0, 1, 0, 2]);
  assert.deepEqual(bytes('::ffff:10.1.2.3'), [...Array(10).fill(0), 0xff, 0xff, 10, 1, 2, 3]);
  assert.deepEqual(bytes('2001:db8:0:0:0:0:0:7'), [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 7]);
  // Host bits past the prefix are cleared: "10.1.2.3/8" is the network 10.0.0.0/8.
  const net = parseAddressLiteral('10.1.2.3/8')!;
  assert.deepEqual([...net.bytes.slice(0, 4)], [10, 0, 0, 0]);
  assert.equal(net.prefix, 8);
  assert.deepEqual([...parseAddressLiteral('fe80::/10')!.bytes.slice(0, 2)], [0xfe, 0x80]);
  assert.deepEqual([...parseAddressLiteral('192.168.255.255/17')!.bytes.slice(0, 4)], [192, 168, 128, 0]);
  for (const bad of [
    '10.0.0.300',
    '10.0.0',
    '1.2.3.4.5',
    '::1::',
    'fe80::g',
    '1:2:3:4:5:6:7:8:9',
    '::1/129',
    '10.0.0.1/33',
    'x',
    '',
  ])
    assert.equal(parseAddressLiteral(bad), undefined, bad);
});

/** An ident record's payload, laid out as stdlib/capc-ident.bpf.h writes it. */
function identPayload(o: {
  state: number;
  how?: number;
  fd: number;
  family?: number;
  type?: number;
  lport?: number;
  rport?: number;
  laddr?: number[];
  raddr?: number[];
  lpath?: Buffer;
  rpath?: Buffer;
  flags?: number;
}): Buffer {
  const F = IDENT_RECORD.fields;
  const b = Buffer.alloc(IDENT_RECORD.size);
  b.writeBigUInt64LE(77n, F.cgroup);
  b.writeBigUInt64LE(123456n, F.ino);
  b.writeInt32LE(o.fd, F.fd);
  b.writeUInt32LE(999, F.tid);
  b.writeUInt8(o.state, F.state);
  b.writeUInt8(o.how ?? 1, F.how);
  b.writeUInt8(o.rport || o.rpath ? 1 : 0, F.connected);
  b.writeUInt8(o.flags ?? 0, F.flags);
  b.writeUInt16LE(o.family ?? 0, F.family);
  b.writeUInt16LE(o.type ?? 1, F.type);
  b.writeUInt16LE(o.lport ?? 0, F.lport);
  b.writeUInt16LE(o.rport ?? 0, F.rport);
  Buffer.from(o.laddr ?? []).copy(b, F.laddr);
  Buffer.from(o.raddr ?? []).copy(b, F.raddr);
  if (o.lpath) {
    o.lpath.copy(b, F.lpath);
    b.writeUInt16LE(o.lpath.length, F.lpathLen);
  }
  if (o.rpath) {
    o.rpath.copy(b, F.rpath);
    b.writeUInt16LE(o.rpath.length, F.rpathLen);
  }
  return b;
}

test('ident payloads: IPv4, IPv6, unix paths (bound, abstract, unnamed), a pipe, nothing known', () => {
  const v4 = decodeIdent(
    identPayload({
      state: 1,
      how: 3,
      fd: 5,
      family: 2,
      lport: 41712,
      rport: 5432,
      laddr: [127, 0, 0, 1],
      raddr: [10, 0, 0, 7],
      flags: IDENT_RECORD.flags.portBound,
    }),
  )!;
  assert.deepEqual(v4, {
    state: 'socket',
    learned: 'SSL_set_fd',
    fd: 5,
    connected: true,
    portBound: true,
    inode: 123456,
    cgroup: 77,
    tid: 999,
    type: 'stream',
    family: 'inet',
    local: { addr: '127.0.0.1', port: 41712 },
    peer: { addr: '10.0.0.7', port: 5432 },
  });
  const v6 = decodeIdent(
    identPayload({
      state: 1,
      how: 2,
      fd: 9,
      family: 10,
      type: 2,
      lport: 1,
      rport: 53,
      laddr: [...Array(15).fill(0), 1],
      raddr: [0xfe, 0x80, ...Array(13).fill(0), 9],
    }),
  )!;
  assert.equal(v6.learned, 'tls-syscall');
  assert.equal(v6.portBound, false);
  assert.equal(v6.type, 'dgram');
  assert.deepEqual(
    [v6.local, v6.peer],
    [
      { addr: '::1', port: 1 },
      { addr: 'fe80::9', port: 53 },
    ],
  );
  // Pathname sockets carry their NUL (len counts it); abstract names start with one.
  const unix = decodeIdent(identPayload({ state: 1, fd: 3, family: 1, rpath: Buffer.from('/run/pg.sock\0') }))!;
  assert.deepEqual([unix.family, unix.local, unix.peer], ['unix', { path: '' }, { path: '/run/pg.sock' }]);
  const abs = decodeIdent(identPayload({ state: 1, fd: 3, family: 1, lpath: Buffer.from('\0capc-x') }))!;
  assert.deepEqual(abs.local, { path: '@capc-x' });
  const pipe = decodeIdent(identPayload({ state: 2, fd: 1, type: 1 }))!;
  assert.deepEqual([pipe.state, pipe.type, pipe.local, pipe.peer], ['not-socket', 'pipe', undefined, undefined]);
  assert.equal(decodeIdent(identPayload({ state: 0, fd: -1 })), undefined, 'state 0: nothing to say');
  assert.equal(decodeIdent(Buffer.alloc(10)), undefined, 'too short');
});

const conn = (ident?: ConnIdent): ConnInfo => ({
  id: 3,
  key: 0x55aan,
  pid: 812,
  comm: 'psql',
  probe: 'uprobe:libssl:SSL_write',
  family: 'openssl',
  ident,
});
const sock = (family: ConnIdent['family'], local: ConnIdent['local'], peer: ConnIdent['peer']): ConnIdent => ({
  state: 'socket',
  learned: 'tls-syscall',
  fd: 4,
  family,
  type: 'stream',
  local,
  peer,
  connected: true,
  portBound: false,
  inode: 1,
  cgroup: 2,
  tid: 812,
});

test('identity as text: local -> peer, IPv6 in brackets, unix by path, what a non-socket fd is', () => {
  const v4 = sock('inet', { addr: '127.0.0.1', port: 41712 }, { addr: '127.0.0.1', port: 5432 });
  assert.equal(identityText(v4), '127.0.0.1:41712 -> 127.0.0.1:5432');
  assert.equal(
    identityText(sock('inet6', { addr: '::1', port: 41712 }, { addr: '::1', port: 5432 })),
    '[::1]:41712 -> [::1]:5432',
  );
  assert.equal(identityText(sock('unix', { path: '' }, { path: '/run/pg.sock' })), 'unix -> /run/pg.sock');
  assert.equal(identityText(sock('unix', { path: '@abs' }, { path: '' })), '@abs -> unix');
  assert.equal(endpointText({ addr: 'fe80::1', port: 80 }, 'inet6'), '[fe80::1]:80');
  assert.equal(
    identityText({
      state: 'not-socket',
      learned: 'fd',
      fd: 1,
      type: 'pipe',
      connected: false,
      portBound: false,
      inode: 5,
      cgroup: 1,
      tid: 1,
    }),
    'fd 1 (pipe)',
  );
  assert.equal(
    identityText({
      state: 'no-fd',
      learned: 'fd',
      fd: 7,
      connected: false,
      portBound: false,
      inode: 0,
      cgroup: 1,
      tid: 1,
    }),
    'fd 7 (closed)',
  );
  assert.equal(connWhere(conn(v4)), '127.0.0.1:41712 -> 127.0.0.1:5432');
  assert.equal(connWhere(conn()), 'key 0x55aa', 'unknown: the script key, as before');
  assert.equal(peerText(conn(v4)), '127.0.0.1:5432');
  assert.equal(peerText(conn()), '?');
  assert.deepEqual(identityJson(conn()), { identity: 'unknown', fd: null, local: null, peer: null, cgroup: null });
  assert.deepEqual(identityJson(conn(v4)), {
    identity: 'socket',
    fd: 4,
    local: { addr: '127.0.0.1', port: 41712 },
    peer: { addr: '127.0.0.1', port: 5432 },
    cgroup: 2,
  });
});

/** A capture record as the kernel writes it (header + payload). */
function record(kind: number, payload: Buffer, ts: bigint, tsLast: bigint): { data: Uint8Array; view: DataView } {
  const F = CAPTURE_RECORD.fields;
  const b = Buffer.alloc(CAPTURE_RECORD.size + payload.length);
  b.writeUInt32LE(9, F.id);
  b.writeBigUInt64LE(0x1234n, F.key);
  b.writeBigUInt64LE(4n, F.conn);
  b.writeBigUInt64LE(ts, F.ts);
  b.writeBigUInt64LE(tsLast, F.tsLast);
  b.writeUInt32LE(812, F.pid);
  b.writeUInt32LE(813, F.tid);
  b.writeUInt32LE(payload.length, F.len);
  b.writeUInt8(kind, F.kind);
  b.write('psql', F.comm);
  payload.copy(b, CAPTURE_RECORD.size);
  return { data: b, view: new DataView(b.buffer, b.byteOffset, b.length) };
}

test('records: data carries the first and the last fragment time; an ident record carries the socket', () => {
  const d = record(CAPTURE_KIND.data, Buffer.from('SELECT 1'), 1000n, 1750n);
  const rec = decodeCaptureRecord(d.data, d.view, 0, d.data.length)!;
  assert.equal(rec.kind, 'data');
  assert.equal(rec.ts, 1000n);
  assert.equal(rec.tsLast, 1750n);
  assert.equal(rec.payload.toString(), 'SELECT 1');
  const p = identPayload({ state: 1, fd: 5, family: 2, lport: 1, rport: 2, laddr: [1, 2, 3, 4], raddr: [5, 6, 7, 8] });
  const i = record(CAPTURE_KIND.ident, p, 5n, 5n);
  const irec = decodeCaptureRecord(i.data, i.view, 0, i.data.length)!;
  assert.equal(irec.kind, 'ident');
  assert.equal(irec.payload.length, 0, 'no stream bytes');
  assert.equal(irec.ident?.peer?.addr, '5.6.7.8');
});

const CAPTURE: ManifestCapture = {
  sink: { kind: 'ringbuf', map: 'capc_payload', size: 1 << 20 },
  flushProgram: 'capc_flush',
  idleFlushMs: 100,
  sites: [
    {
      id: 1,
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

const base = { key: 0x55n, offset: 0, ts: 1n, tsLast: 2n, pid: 812, tid: 812, dir: 0 as const, comm: 'psql' };
const dataRec = (conn: number, offset: number, text: string): CaptureRecord => ({
  ...base,
  site: 1,
  conn,
  offset,
  kind: 'data',
  payload: Buffer.from(text),
});
const identRec = (conn: number, ident: ConnIdent): CaptureRecord => ({
  ...base,
  site: 100,
  conn,
  kind: 'ident',
  payload: Buffer.alloc(0),
  ident,
});

test('the reader keeps a connection identity from its ident record on, before or after the first bytes', () => {
  const events: CapEvent[] = [];
  const s = new Streams(CAPTURE, (e) => void events.push(e));
  const v4 = sock('inet', { addr: '127.0.0.1', port: 41712 }, { addr: '127.0.0.1', port: 5432 });
  // Before its data (the usual case): the connection starts with it, and its probe comes with the data.
  s.add(identRec(1, v4), 0);
  s.add(dataRec(1, 0, 'Q'), 0);
  const first = events.filter((e) => e.kind === 'capture-conn' || e.kind === 'capture');
  assert.deepEqual(
    first.map((e) => e.kind),
    ['capture-conn', 'capture'],
  );
  const c1 = (first[1] as Extract<CapEvent, { kind: 'capture' }>).conn;
  assert.equal(c1.ident, v4);
  assert.equal(c1.probe, 'uprobe:libssl:SSL_write');
  assert.equal((first[1] as Extract<CapEvent, { kind: 'capture' }>).tsLast, 2n);
  // After some data (learned late): events from then on carry it.
  s.add(dataRec(2, 0, 'a'), 0);
  const early = events[events.length - 1] as Extract<CapEvent, { kind: 'capture' }>;
  assert.equal(early.conn.ident, undefined);
  s.add(identRec(2, v4), 0);
  s.add(dataRec(2, 1, 'b'), 0);
  const late = events[events.length - 1] as Extract<CapEvent, { kind: 'capture' }>;
  assert.equal(late.conn.ident, v4);
  assert.equal(s.totals.connections, 2, 'an ident record does not make a second connection');
  // An ident record for a connection already ended as exited is ignored.
  s.reap(() => false, 10_000, 1000);
  const n = events.length;
  s.add(identRec(2, v4), 20_000);
  assert.equal(events.length, n);
});

test('the kernel watches by number exactly the syscalls stdlib/signatures.ts lists, on each architecture', () => {
  const header = fs.readFileSync(path.join(repoRoot, 'stdlib', 'capc-ident.bpf.h'), 'utf8');
  for (const arch of ['__TARGET_ARCH_x86', '__TARGET_ARCH_arm64']) {
    const at = header.indexOf(`defined(${arch})`);
    const section = header.slice(at, header.indexOf('#el', at + 1));
    const names = [...section.matchAll(/#define CAPC_NR_(\w+) \d+/g)].map((m) => m[1]!.toLowerCase());
    assert.deepEqual(names, [...IDENTITY_SYSCALLS], arch);
  }
  const check = /capc_ident_syscall\(__u64 nr\)\s*\{([^}]*)\}/.exec(header)![1]!;
  for (const sc of IDENTITY_SYSCALLS) assert.match(check, new RegExp(`CAPC_NR_${sc.toUpperCase()}\\b`));
});
