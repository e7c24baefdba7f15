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
  const q = new ConnectionDecoder({ id: 2, pid: 2, comm: 'app' }, { protocols: ['postgres'], forced: false }, (x) =>
    quiet.push(String(x.notDecoded)),
  );
  q.data(0, Buffer.from('hello there, this is not a database protocol\n'), { first: 1n, last: 1n });
  q.end('closed');
  assert.deepEqual(quiet, []);
});
