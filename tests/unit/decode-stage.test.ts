// tests/unit/decode-stage.test.ts — the decode stage between the capture
// reader and the outputs: exchanges added beside the raw events (or instead
// of them), per-connection state freed when a connection ends (10,000 short
// connections leave nothing behind), the summary at exit, and the text and
// JSON forms of an exchange.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CapEvent, ConnInfo, Renderer } from '../../runtime/events/model.js';
import { exchangeJson, exchangeLine } from '../../runtime/format/exchange.js';
import { ConnectionDecoder } from '../../runtime/protocols/connection.js';
import { DecodeStage } from '../../runtime/protocols/stage.js';

class Collect implements Renderer {
  events: CapEvent[] = [];
  event(e: CapEvent): void {
    this.events.push(e);
  }
  end(): void {}
}

const conn = (id: number): ConnInfo => ({
  id,
  key: 0x10n + BigInt(id),
  pid: 4000 + id,
  comm: 'redis-cli',
  probe: 'uprobe:libssl:SSL_write',
  family: 'openssl',
});
const cap = (c: ConnInfo, dir: 0 | 1, text: string, offset = 0): CapEvent => ({
  kind: 'capture',
  conn: c,
  dir,
  offset,
  data: Buffer.from(text),
  ts: 1_000_000n + BigInt(dir * 250_000),
  tsLast: 1_000_000n + BigInt(dir * 250_000),
  tid: c.pid,
  site: 0,
});
const end = (c: ConnInfo): CapEvent => ({ kind: 'capture-end', conn: c, closed: true, bytes: [0, 0], lost: [0, 0] });
const summary: CapEvent = {
  kind: 'capture-summary',
  connections: 0,
  bytes: [0, 0],
  records: 0,
  lostBytes: 0,
  droppedBytes: 0,
  droppedRecords: 0,
  refusedConnections: 0,
  unpairedReturns: 0,
  identityUnknown: 0,
};

test('unconfigured, the stage passes everything on; configured, it adds exchanges beside the raw events', () => {
  const out = new Collect();
  const stage = new DecodeStage(out);
  stage.event(cap(conn(1), 0, '*1\r\n$4\r\nPING\r\n'));
  assert.deepEqual(
    out.events.map((e) => e.kind),
    ['capture'],
  );
  stage.configure({ protocols: ['redis'], forced: false });
  const c = conn(2);
  stage.event(cap(c, 0, '*1\r\n$4\r\nPING\r\n'));
  stage.event(cap(c, 1, '+PONG\r\n'));
  stage.event(end(c));
  stage.event(summary);
  assert.deepEqual(
    out.events.map((e) => e.kind),
    ['capture', 'capture', 'capture', 'exchange', 'capture-end', 'capture-summary', 'decode-summary'],
  );
  const x = (out.events.find((e) => e.kind === 'exchange') as Extract<CapEvent, { kind: 'exchange' }>).x;
  assert.deepEqual(
    [x.statement, x.status, x.latencyNs, x.client.comm, x.server.comm],
    ['PING', 'PONG', 250_000, 'redis-cli', null],
  );
  const s = out.events.at(-1) as Extract<CapEvent, { kind: 'decode-summary' }>;
  assert.deepEqual([s.recognised, s.unrecognised, s.exchanges, s.notDecoded], [{ redis: 1 }, 0, 1, 0]);
});

test('with raw off (-q) only exchanges and totals pass', () => {
  const out = new Collect();
  const stage = new DecodeStage(out, false);
  stage.configure({ protocols: ['redis'], forced: false });
  const c = conn(3);
  stage.event(cap(c, 0, '*2\r\n$3\r\nGET\r\n$1\r\nk\r\n'));
  stage.event({ kind: 'capture-loss', conn: c, dir: 1, offset: 0, bytes: 5 });
  stage.event(end(c));
  stage.event(summary);
  // The request whose reply was lost, then what was skipped until the end (the episode).
  assert.deepEqual(
    out.events.map((e) => e.kind),
    ['exchange', 'exchange', 'capture-summary', 'decode-summary'],
  );
  const x = (out.events[0] as Extract<CapEvent, { kind: 'exchange' }>).x;
  assert.equal(x.statement, 'GET k');
  assert.match(x.notDecoded!, /stream hole/);
  const ep = (out.events[1] as Extract<CapEvent, { kind: 'exchange' }>).x;
  assert.match(ep.notDecoded!, /5 bytes lost/);
});

test('10,000 short connections: every decoder is freed when its connection ends', () => {
  const out = new Collect();
  const stage = new DecodeStage(out, false);
  stage.configure({ protocols: ['postgres', 'mysql', 'http', 'redis'], forced: false });
  for (let i = 0; i < 10_000; i++) {
    const c = conn(100 + i);
    stage.event(cap(c, 0, `GET /item/${i} HTTP/1.1\r\nHost: x\r\n\r\n`));
    stage.event(cap(c, 1, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    stage.event(end(c));
  }
  assert.equal((stage as unknown as { conns: Map<number, unknown> }).conns.size, 0);
  assert.equal(out.events.filter((e) => e.kind === 'exchange').length, 10_000);
});

test('an exchange as a text line and as JSON: every field, null where unknown', () => {
  const out = new Collect();
  const stage = new DecodeStage(out, false);
  stage.configure({ protocols: ['http'], forced: true });
  const c = conn(9);
  stage.event(cap(c, 0, 'GET /api/orders/17?x=1 HTTP/1.1\r\nHost: shop\r\n\r\n'));
  stage.event(cap(c, 1, 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'));
  const x = (out.events[0] as Extract<CapEvent, { kind: 'exchange' }>).x;
  assert.equal(
    exchangeLine(x),
    '<=> http conn 9 redis-cli[4009] -> ?: GET /api/orders/17?x=1 [error 404 Not Found] 250 us',
  );
  const j = exchangeJson(x);
  for (const k of [
    'protocol',
    'client',
    'server',
    'user',
    'database',
    'statement',
    'fingerprint',
    'rows',
    'columns',
    'status',
    'error',
    'latency_ns',
    'bytes_in',
    'bytes_out',
  ])
    assert.ok(k in j, k);
  assert.deepEqual(j.client, { addr: null, port: null, pid: 4009, comm: 'redis-cli' });
  assert.deepEqual(j.server, { addr: null, port: null, pid: null, comm: null });
  assert.equal(j.fingerprint, 'GET /api/orders/??x=?');
  assert.deepEqual([j.bytes_out, j.bytes_in], [47, 45]);
});

test('a server port suggests the protocol (once connections carry ports): junk on 5432 is reported as not postgres', () => {
  const got: string[] = [];
  const d = new ConnectionDecoder(
    { id: 1, pid: 2, comm: 'app', local: { addr: '127.0.0.1', port: 40000 }, peer: { addr: '127.0.0.1', port: 5432 } },
    { protocols: ['postgres', 'mysql', 'http', 'redis'], forced: false },
    (x) =>
      got.push(`${x.protocol} ${x.notDecoded} ${x.client.addr}:${x.client.port} -> ${x.server.addr}:${x.server.port}`),
  );
  d.data(0, Buffer.from('hello there, this is not a database protocol\n'), { first: 1n, last: 1n });
  d.end('closed');
  assert.deepEqual(got, [
    'postgres not postgres: no message of it found in the first 6 turns of the conversation 127.0.0.1:40000 -> 127.0.0.1:5432',
  ]);
  // The same bytes with no port known: not recognised, and nothing claimed.
  const quiet: string[] = [];
  const q = new ConnectionDecoder(
    { id: 2, pid: 2, comm: 'app', local: null, peer: null },
    { protocols: ['postgres'], forced: false },
    (x) => quiet.push(String(x.notDecoded)),
  );
  q.data(0, Buffer.from('hello there, this is not a database protocol\n'), { first: 1n, last: 1n });
  q.end('closed');
  assert.deepEqual(quiet, []);
});

/** An identity as the kernel reports it: `local` is the traced process's end. */
const inet = (local: [string, number], peer: [string, number]): ConnInfo['ident'] => ({
  state: 'socket',
  learned: 'tls-syscall',
  fd: 5,
  family: 'inet',
  type: 'stream',
  local: { addr: local[0], port: local[1] },
  peer: { addr: peer[0], port: peer[1] },
  connected: true,
  portBound: false,
  inode: 1,
  cgroup: 1,
  tid: 1,
});
const exchanges = (out: Collect) =>
  out.events.filter((e) => e.kind === 'exchange').map((e) => (e as Extract<CapEvent, { kind: 'exchange' }>).x);

test("the connection's identity gives the exchange its ends; latency runs to the response's last fragment", () => {
  const out = new Collect();
  const stage = new DecodeStage(out, false);
  stage.configure({ protocols: ['redis'], forced: false });
  const c = { ...conn(20), ident: inet(['127.0.0.1', 41712], ['127.0.0.1', 6379]) };
  stage.event({ kind: 'capture-conn', conn: c });
  stage.event(cap(c, 0, '*1\r\n$4\r\nPING\r\n'));
  stage.event({ ...(cap(c, 1, '+PONG\r\n') as Extract<CapEvent, { kind: 'capture' }>), tsLast: 1_900_000n });
  const [x] = exchanges(out);
  assert.deepEqual(x!.client, { addr: '127.0.0.1', port: 41712, pid: 4020, comm: 'redis-cli' });
  assert.deepEqual(x!.server, { addr: '127.0.0.1', port: 6379, pid: null, comm: null });
  assert.equal(x!.latencyNs, 900_000, 'from the request (1.0 ms) to the last fragment of the reply (1.9 ms)');
  assert.equal(
    exchangeLine(x!),
    '<=> redis conn 20 redis-cli[4020] 127.0.0.1:41712 -> 127.0.0.1:6379: PING [PONG] 900 us',
  );
  // IPv6 in brackets; a server's exchange has the peer as its client.
  const s = { ...conn(21), comm: 'redis-server', ident: inet(['::1', 6379], ['::1', 50000]) };
  s.ident!.family = 'inet6';
  stage.event({ kind: 'capture-conn', conn: s });
  stage.event(cap(s, 1, '*1\r\n$4\r\nPING\r\n'));
  stage.event(cap(s, 0, '+PONG\r\n'));
  const y = exchanges(out)[1]!;
  assert.equal(y.side, 'server');
  assert.match(exchangeLine(y), /^<=> redis conn 21 \[::1\]:50000 -> redis-server\[4021\] \[::1\]:6379: PING/);
});

test('an identity learned after the first bytes (capture-conn later) reaches the exchanges that follow', () => {
  const out = new Collect();
  const stage = new DecodeStage(out, false);
  stage.configure({ protocols: ['redis'], forced: false });
  const c = conn(22);
  stage.event(cap(c, 0, '*1\r\n$4\r\nPING\r\n'));
  stage.event(cap(c, 1, '+PONG\r\n'));
  stage.event({ kind: 'capture-conn', conn: { ...c, ident: inet(['10.0.0.2', 50001], ['10.0.0.9', 6380]) } });
  stage.event(cap(c, 0, '*1\r\n$4\r\nPING\r\n', 14));
  stage.event(cap(c, 1, '+PONG\r\n', 7));
  assert.deepEqual(
    exchanges(out).map((x) => [x.client.addr, x.server.port]),
    [
      [null, null],
      ['10.0.0.2', 6380],
    ],
  );
});

test("the server's port suggests the protocol; bytes that are surely another protocol are that one", () => {
  const out = new Collect();
  const stage = new DecodeStage(out, false);
  stage.configure({ protocols: ['postgres', 'mysql', 'http', 'redis'], forced: false });
  // HTTP on PostgreSQL's port: the request line is sure, so it is HTTP.
  const h = { ...conn(30), ident: inet(['127.0.0.1', 40000], ['127.0.0.1', 5432]) };
  stage.event({ kind: 'capture-conn', conn: h });
  stage.event(cap(h, 0, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  stage.event(cap(h, 1, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
  // A Redis reply alone is not enough to be sure; on 6379 it is taken for Redis (a connection picked up
  // after its first command was sent).
  const r = { ...conn(31), ident: inet(['127.0.0.1', 40001], ['127.0.0.1', 6379]) };
  stage.event({ kind: 'capture-conn', conn: r });
  stage.event(cap(r, 1, '+OK\r\n'));
  stage.event(cap(r, 0, '*1\r\n$4\r\nPING\r\n', 0));
  stage.event(cap(r, 1, '+PONG\r\n', 5));
  stage.event(end(h));
  stage.event(end(r));
  stage.event(summary);
  const s = out.events.at(-1) as Extract<CapEvent, { kind: 'decode-summary' }>;
  assert.deepEqual(s.recognised, { http: 1, redis: 1 });
  assert.deepEqual(
    exchanges(out).map((x) => [x.protocol, x.statement]),
    [
      ['http', 'GET /'],
      ['redis', 'PING'],
    ],
  );
});

test('both ends of one conversation captured: each exchange shown once, from the client, with both processes', () => {
  const out = new Collect();
  const stage = new DecodeStage(out, false);
  stage.configure({ protocols: ['redis'], forced: false });
  const client = { ...conn(40), ident: inet(['127.0.0.1', 45000], ['127.0.0.1', 6379]) };
  const server = { ...conn(41), comm: 'redis-server', ident: inet(['127.0.0.1', 6379], ['127.0.0.1', 45000]) };
  // Another client of the same server: not the same conversation.
  const other = { ...conn(42), ident: inet(['127.0.0.1', 45001], ['127.0.0.1', 6379]) };
  for (const c of [client, server, other]) stage.event({ kind: 'capture-conn', conn: c });
  stage.event(cap(client, 0, '*1\r\n$4\r\nPING\r\n'));
  stage.event(cap(server, 1, '*1\r\n$4\r\nPING\r\n'));
  stage.event(cap(server, 0, '+PONG\r\n'));
  stage.event(cap(client, 1, '+PONG\r\n'));
  stage.event(cap(other, 0, '*1\r\n$4\r\nPING\r\n'));
  stage.event(cap(other, 1, '+PONG\r\n'));
  for (const c of [client, server, other]) stage.event(end(c));
  stage.event(summary);
  const xs = exchanges(out);
  assert.deepEqual(
    xs.map((x) => [x.conn, x.side, x.client.comm, x.client.port, x.server.comm, x.server.pid]),
    [
      [40, 'client', 'redis-cli', 45000, 'redis-server', 4041],
      [42, 'client', 'redis-cli', 45001, null, null],
    ],
  );
  const s = out.events.at(-1) as Extract<CapEvent, { kind: 'decode-summary' }>;
  assert.deepEqual([s.exchanges, s.paired], [2, 1]);
});

test('a server whose client capc sees but cannot decode keeps its own exchanges', () => {
  const out = new Collect();
  const stage = new DecodeStage(out, false);
  stage.configure({ protocols: ['redis'], forced: false });
  const client = { ...conn(50), ident: inet(['127.0.0.1', 46000], ['127.0.0.1', 7000]) };
  const server = { ...conn(51), comm: 'redis-server', ident: inet(['127.0.0.1', 7000], ['127.0.0.1', 46000]) };
  for (const c of [client, server]) stage.event({ kind: 'capture-conn', conn: c });
  // The client's connection was picked up mid-way: it gave up recognising it.
  for (let i = 0; i < 6; i++) {
    stage.event(cap(client, 0, 'zzzz', i * 8));
    stage.event(cap(client, 1, 'yyyy', i * 4));
  }
  stage.event(cap(server, 1, '*1\r\n$4\r\nPING\r\n'));
  stage.event(cap(server, 0, '+PONG\r\n'));
  assert.deepEqual(
    exchanges(out).map((x) => [x.conn, x.side, x.statement]),
    [[51, 'server', 'PING']],
  );
});

test("the client's connection ended before the server's last response reached capc: still shown once", () => {
  const out = new Collect();
  const stage = new DecodeStage(out, false);
  stage.configure({ protocols: ['redis'], forced: false });
  const client = { ...conn(60), ident: inet(['127.0.0.1', 47000], ['127.0.0.1', 6379]) };
  const server = { ...conn(61), comm: 'redis-server', ident: inet(['127.0.0.1', 6379], ['127.0.0.1', 47000]) };
  for (const c of [client, server]) stage.event({ kind: 'capture-conn', conn: c });
  stage.event(cap(client, 0, '*1\r\n$4\r\nPING\r\n'));
  stage.event(cap(client, 1, '+PONG\r\n'));
  stage.event(end(client));
  stage.event(cap(server, 1, '*1\r\n$4\r\nPING\r\n'));
  stage.event(cap(server, 0, '+PONG\r\n'));
  stage.event(end(server));
  assert.deepEqual(
    exchanges(out).map((x) => [x.conn, x.side]),
    [[60, 'client']],
  );
  // Both ends over: nothing is kept of the conversation.
  assert.equal((stage as unknown as { bySocket: Map<string, unknown> }).bySocket.size, 0);
});

test('ended ends kept for pairing are bounded: 10,000 conversations whose server side never shows leave a bounded memory', () => {
  const out = new Collect();
  const stage = new DecodeStage(out, false);
  stage.configure({ protocols: ['redis'], forced: false });
  for (let i = 0; i < 10_000; i++) {
    const c = { ...conn(1000 + i), ident: inet(['127.0.0.1', 20000 + i], ['127.0.0.1', 6379]) };
    stage.event({ kind: 'capture-conn', conn: c });
    stage.event(cap(c, 0, '*1\r\n$4\r\nPING\r\n'));
    stage.event(cap(c, 1, '+PONG\r\n'));
    stage.event(end(c));
  }
  assert.equal((stage as unknown as { bySocket: Map<string, unknown> }).bySocket.size, 4096);
  assert.equal(exchanges(out).length, 10_000);
});
