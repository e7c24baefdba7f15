// tests/unit/protocols-bad-input.test.ts — the decoders on what real servers
// rarely send and broken or hostile streams do: payloads over 16 MiB split in
// MySQL packets, a 1 GiB result set (memory stays flat: rows are counted,
// never kept), corrupt lengths, bytes that are not the protocol, truncated
// messages, binary data; then a seeded fuzz loop over the recorded sessions.
// Never a crash, never a hang, memory bounded, and what was not decoded is said.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionDecoder } from '../../runtime/protocols/connection.js';
import { DEFAULT_LIMITS, type Exchange } from '../../runtime/protocols/exchange.js';
import { decode, fixtures, rechunk, type Step } from '../support/protocol-fixtures.js';

let ts = 1000n;
const c = (data: Buffer | string): Step => ({ dir: 0, data: Buffer.from(data as string, 'latin1'), ts: ts++ });
const s = (data: Buffer | string): Step => ({ dir: 1, data: Buffer.from(data as string, 'latin1'), ts: ts++ });

// ---- MySQL packets ------------------------------------------------------------
function packets(payload: Buffer, seq = 0): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  do {
    const n = Math.min(0xffffff, payload.length - at);
    const h = Buffer.alloc(4);
    h.writeUIntLE(n, 0, 3);
    h[3] = seq++ & 0xff;
    out.push(h, payload.subarray(at, at + n));
    at += n;
    if (n < 0xffffff) break;
  } while (true);
  return Buffer.concat(out);
}
const ok = (seq: number, affected = 0) => packets(Buffer.from([0x00, affected, 0, 2, 0, 0, 0]), seq);
const query = (sql: string | Buffer) => packets(Buffer.concat([Buffer.from([0x03]), Buffer.from(sql)]));

// ---- PostgreSQL messages -------------------------------------------------------
function pg(type: string, body: Buffer | string): Buffer {
  const b = Buffer.from(body as string, 'latin1');
  const h = Buffer.alloc(5);
  h.write(type, 0, 'latin1');
  h.writeUInt32BE(b.length + 4, 1);
  return Buffer.concat([h, b]);
}

test('MySQL: a 20 MiB statement in two packets is kept to its first MiB and counted whole; the next one decodes', () => {
  const big = Buffer.alloc(20 << 20, 'x');
  big.write('INSERT INTO t VALUES ', 0);
  const steps = rechunk([c(query(big)), s(ok(2, 1)), c(query('SELECT 1')), s(ok(1))], 65536);
  const { exchanges } = decode(steps, { protocols: ['mysql'], forced: true });
  assert.equal(exchanges.length, 2);
  const [a, b] = exchanges as [Exchange, Exchange];
  assert.equal(a.statement!.length, DEFAULT_LIMITS.statementBytes);
  assert.ok(a.statement!.startsWith('INSERT INTO t VALUES xxx'));
  assert.equal(a.statementTruncated, true);
  assert.equal(a.bytesOut, (20 << 20) + 1 + 8, 'two packet headers and the command byte');
  assert.deepEqual([a.rows, a.status, a.notDecoded], [1, 'OK', null]);
  assert.deepEqual([b.statement, b.rows], ['SELECT 1', 0]);
});

test('MySQL: a row of 17 MiB (two packets) is one row', () => {
  const row = Buffer.alloc(17 << 20, 0x41);
  row[0] = 0xfe; // a length-encoded string of 8-byte length: the row is longer than 16 MiB
  row.writeBigUInt64LE(BigInt(row.length - 9), 1);
  const colDef = packets(
    Buffer.concat([
      ...['def', 'db', 't', 't', 'big', 'big'].map((x) => Buffer.from([x.length, ...Buffer.from(x)])),
      Buffer.alloc(13),
    ]),
    2,
  );
  const eof = (seq: number) => packets(Buffer.from([0xfe, 0, 0, 2, 0]), seq);
  const resp = Buffer.concat([packets(Buffer.from([1]), 1), colDef, eof(3), packets(row, 4), eof(6)]);
  const { exchanges } = decode(rechunk([c(query('SELECT big FROM t')), s(resp)], 1 << 20), { protocols: ['mysql'] });
  assert.deepEqual(
    exchanges.map((x) => [x.statement, x.rows, x.columns, x.columnNames, x.notDecoded]),
    [['SELECT big FROM t', 1, 1, ['big'], null]],
  );
});

test('PostgreSQL: a 1 GiB result set streams through with flat memory; rows counted', () => {
  const rowBody = Buffer.concat([Buffer.from([0, 1]), Buffer.from([0, 0, 3, 0xfa]), Buffer.alloc(1018, 0x62)]);
  const row = pg('D', rowBody); // 1029 bytes
  const perChunk = Math.floor((1 << 20) / row.length);
  const chunk = Buffer.concat(Array<Buffer>(perChunk).fill(row));
  const chunks = Math.ceil((1 << 30) / chunk.length);
  const exchanges: Exchange[] = [];
  // The decoder is driven directly: no array of steps holds the 1 GiB.
  const d = new ConnectionDecoder(
    { id: 1, pid: 1, comm: 't', local: null, peer: null },
    { protocols: ['postgres'], forced: false },
    (x: Exchange) => exchanges.push(x),
  );
  const st = (t: bigint) => ({ first: t, last: t });
  d.data(0, pg('Q', 'SELECT * FROM huge\0'), st(1n));
  d.data(1, pg('T', Buffer.concat([Buffer.from([0, 1]), Buffer.from('v\0'), Buffer.alloc(18)])), st(2n));
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  for (let i = 0; i < chunks; i++) d.data(1, chunk, st(3n));
  const ms = performance.now() - t0;
  const grew = process.memoryUsage().heapUsed - heap0;
  d.data(1, Buffer.concat([pg('C', `SELECT ${chunks * perChunk}\0`), pg('Z', 'I')]), st(4n));
  assert.equal(exchanges.length, 1);
  assert.equal(exchanges[0]!.rows, chunks * perChunk);
  assert.ok(exchanges[0]!.bytesIn > 1 << 30);
  assert.ok(grew < 64 << 20, `the heap grew by ${(grew / 2 ** 20).toFixed(0)} MiB over 1 GiB of rows`);
  console.log(
    `# 1 GiB result set: ${chunks * perChunk} rows in ${ms.toFixed(0)} ms, heap +${(grew / 2 ** 20).toFixed(1)} MiB`,
  );
});

test('bytes that are not the protocol: auto leaves them alone, a forced protocol says so once', () => {
  const junk: Step[] = [];
  let x = 12345;
  for (let i = 0; i < 8; i++) {
    const b = Buffer.alloc(300);
    for (let k = 0; k < b.length; k++) b[k] = (x = (x * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    junk.push({ dir: (i % 2) as 0 | 1, data: b, ts: BigInt(i) });
  }
  const auto = decode(junk);
  assert.deepEqual(auto.exchanges, []);
  assert.equal(auto.decoder.recognised, false);
  for (const p of ['postgres', 'mysql', 'http', 'redis'] as const) {
    const forced = decode(junk, { protocols: [p], forced: true });
    assert.ok(forced.exchanges.length >= 1, p);
    assert.ok(
      forced.exchanges.every((e) => e.notDecoded !== null),
      `${p}: ${forced.exchanges.map((e) => e.notDecoded).join(' / ')}`,
    );
  }
});

test('corrupt lengths lose the place (said), never allocate them, never hang', () => {
  const cases: [string, Step[]][] = [
    ['postgres length 0x7fffffff', [c(Buffer.concat([pg('Q', 'SELECT 1\0')])), s(Buffer.from('T\x7f\xff\xff\xff'))]],
    ['postgres unknown type', [c(pg('Q', 'SELECT 1\0')), s(pg('?', 'x'))]],
    ['mysql sequence jump', [c(query('SELECT 1')), s(packets(Buffer.from([0, 0, 0, 2, 0, 0, 0]), 7))]],
    ['http bad content-length', [c('POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n'), s('HTTP/1.1 200 OK\r\n\r\n')]],
    [
      'http huge chunk',
      [c('GET / HTTP/1.1\r\n\r\n'), s('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')],
    ],
    ['resp huge array', [c('*3\r\n$3\r\nGET\r\n$1\r\nk\r\n$1\r\nv\r\n'), s('*99999999999\r\n')]],
    ['resp negative bulk', [c('*1\r\n$4\r\nPING\r\n'), s('$-7\r\n')]],
  ];
  for (const [what, steps] of cases) {
    const t0 = performance.now();
    const { exchanges } = decode(steps);
    assert.ok(performance.now() - t0 < 200, what);
    assert.ok(
      exchanges.some((e) => e.notDecoded !== null),
      `${what}: ${exchanges.map((e) => `${e.statement} ${e.notDecoded}`).join(' / ') || 'no exchange'}`,
    );
  }
});

test('a request without its response, and a response cut short, are reported at the end', () => {
  const a = decode([c(pg('Q', 'SELECT pg_sleep(10)\0'))], { protocols: ['postgres'], forced: true });
  assert.deepEqual(
    a.exchanges.map((e) => [e.statement, e.notDecoded]),
    [['SELECT pg_sleep(10)', 'the connection closed']],
  );
  const b = decode([c('GET /x HTTP/1.1\r\n\r\n'), s('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc')]);
  assert.deepEqual(
    b.exchanges.map((e) => [e.statement, e.notDecoded]),
    [['GET /x', 'the connection closed']],
  );
  // A body read until the connection closes ends with it.
  const d = decode([c('GET /y HTTP/1.0\r\n\r\n'), s('HTTP/1.0 200 OK\r\n\r\nall of it')]);
  assert.deepEqual(
    d.exchanges.map((e) => [e.statement, e.status, e.notDecoded, e.bytesIn]),
    [['GET /y', '200 OK', null, 28]],
  );
});

test('binary data: statements with invalid UTF-8, binary values, 0xfe/0xff inside rows', () => {
  const sql = Buffer.concat([
    Buffer.from("INSERT INTO b VALUES (_binary'"),
    Buffer.from([0xff, 0xfe, 0x00, 0x80]),
    Buffer.from("')"),
  ]);
  const { exchanges } = decode([c(query(sql)), s(ok(1, 1))], { protocols: ['mysql'] });
  assert.equal(exchanges.length, 1);
  assert.match(exchanges[0]!.statement!, /^INSERT INTO b VALUES \(_binary'\uFFFD\uFFFD\0\uFFFD'\)$/);
  assert.equal(exchanges[0]!.fingerprint, 'INSERT INTO b VALUES (_binary?)');
  const r = decode([c('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\n\xff\x00\r\n\r\n'), s('+OK\r\n')]);
  assert.deepEqual(
    r.exchanges.map((e) => [e.statement, e.status]),
    [['SET k "\uFFFD\\u0000\\r\\n"', 'OK']],
  );
});

/** xorshift32: the fuzz loop is the same on every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

test('fuzz: mutated, re-cut and holed recordings never crash, hang or keep more than the limits', () => {
  const all = fixtures();
  const r = rng(0xc0ffee);
  const limits = { ...DEFAULT_LIMITS, statementBytes: 256, messageBytes: 512, pending: 16, pendingBytes: 1024 };
  const n = Number(process.env.CAPC_FUZZ_ITERATIONS ?? 1500);
  for (let it = 0; it < n; it++) {
    const f = all[Math.floor(r() * all.length)]!;
    const steps: Step[] = [];
    for (const st of f.steps) {
      if ('lost' in st) continue;
      const data = Buffer.from(st.data);
      const roll = r();
      if (roll < 0.3) for (let k = 0; k < 1 + r() * 8; k++) data[Math.floor(r() * data.length)] = Math.floor(r() * 256);
      if (roll > 0.9) {
        steps.push({ dir: st.dir, lost: Math.max(1, Math.floor(r() * data.length)) });
        continue;
      }
      const cut = 1 + Math.floor(r() * 64);
      for (let i = 0; i < data.length; i += cut)
        steps.push({ dir: st.dir, data: data.subarray(i, i + cut), ts: st.ts });
      if (r() < 0.05) steps.push({ dir: st.dir, data: Buffer.from(data), ts: st.ts }); // a duplicated chunk
    }
    const forced = r() < 0.3;
    const t0 = performance.now();
    let out: Exchange[];
    try {
      out = decode(steps, { protocols: forced ? [f.protocol as 'mysql'] : undefined, forced, limits }).exchanges;
    } catch (e) {
      assert.fail(`iteration ${it} (${f.file}): ${(e as Error).stack}`);
    }
    assert.ok(performance.now() - t0 < 500, `iteration ${it} (${f.file}) took ${performance.now() - t0} ms`);
    for (const x of out) {
      assert.ok(
        x.statement === null || x.statement.length <= 4 * limits.statementBytes + 64,
        `iteration ${it}: statement kept`,
      );
      assert.ok(x.bytesIn >= 0 && x.bytesOut >= 0 && (x.rows === null || x.rows >= 0), `iteration ${it}: counts`);
      assert.ok((x.columnNames?.length ?? 0) <= limits.columnNames);
    }
  }
});
