// tests/unit/protocols.test.ts — the decoders on real recorded sessions
// (tests/fixtures/protocols/, recorded by record.ts there from PostgreSQL,
// MariaDB, Redis and nginx over TLS): what they decode (golden file, plus the
// facts the recording session knows it produced), that chunking does not
// matter (every byte boundary), and that holes never make a decoder invent or
// mis-attribute a statement.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  decode,
  fixtureDir,
  fixtures,
  rechunk,
  splitAt,
  summary,
  totalBytes,
  type Step,
} from '../support/protocol-fixtures.js';
import type { Exchange } from '../../runtime/protocols/exchange.js';

const golden = path.join(fixtureDir, 'expected.txt');

function render(): string {
  return fixtures()
    .map((f) => [`== ${f.file}`, ...decode(f.steps).exchanges.map(summary)].join('\n'))
    .join('\n')
    .concat('\n');
}

test('recorded sessions decode as the golden file says (UPDATE=1 rewrites it)', () => {
  const got = render();
  if (process.env.UPDATE === '1') fs.writeFileSync(golden, got);
  assert.equal(got, fs.readFileSync(golden, 'utf8'));
});

const byFile = (name: string) => {
  const f = fixtures().find((x) => x.file.startsWith(name));
  assert.ok(f, `fixture ${name}`);
  return { f, xs: decode(f.steps).exchanges };
};
const find = (xs: Exchange[], statement: string) => {
  const x = xs.find((e) => e.statement === statement);
  assert.ok(x, `no exchange for ${statement}: ${xs.map((e) => e.statement).join(' / ')}`);
  return x;
};

test('PostgreSQL: login, simple and extended queries, errors, COPY, on both sides', () => {
  for (const [file, side] of [
    ['postgres-session-1-client', 'client'],
    ['postgres-session-2-server', 'server'],
  ] as const) {
    const { xs } = byFile(file);
    assert.equal(xs[0]!.command, 'login');
    assert.equal(xs[0]!.status, 'ready');
    assert.ok(xs.every((x) => x.side === side && x.user === 'capc' && x.database === 'shop'));
    const sel = find(xs, 'SELECT id, name, price FROM items WHERE id < 3 ORDER BY id');
    assert.deepEqual([sel.rows, sel.columns, sel.columnNames, sel.status], [2, 3, ['id', 'name', 'price'], 'SELECT 2']);
    assert.equal(sel.fingerprint, 'SELECT id, name, price FROM items WHERE id < ? ORDER BY id');
    assert.match(find(xs, 'SELECT * FROM no_such_table').error!, /^42P01: relation "no_such_table" does not exist/);
    assert.ok(find(xs, 'COPY items TO STDOUT').notes!.includes('COPY to the client'));
    assert.equal(find(xs, 'UPDATE items SET price = price + 1 WHERE id > 2').rows, 2);
    assert.ok(xs.every((x) => x.latencyNs !== null && x.latencyNs >= 0));
  }
  const failed = byFile('postgres-session-3-client').xs[0]!;
  assert.equal(failed.status, 'failed');
  assert.match(failed.error!, /^28P01: password authentication failed/);
  // pgbench -M prepared: Parse/Bind/Describe/Execute/Sync; the statement text comes from the Parse.
  const ext = byFile('postgres-session-8-client').xs.filter((x) => x.command === 'execute');
  assert.equal(ext.length, 3);
  assert.ok(ext.every((x) => x.statement === 'SELECT name FROM items WHERE id = $1;' && x.rows === 1 && !x.notDecoded));
  assert.equal(ext[0]!.fingerprint, 'SELECT name FROM items WHERE id = ?;');
});

test('MariaDB: login, COM_QUERY, COM_INIT_DB, prepared statements by id, binary rows, errors', () => {
  const { xs } = byFile('mysql-session-6-client');
  assert.deepEqual(
    xs.map((x) => x.command),
    ['login', 'query', 'query', 'query', 'init_db', 'query', 'ping', 'query'],
  );
  assert.equal(xs[4]!.database, 'mysql', 'COM_INIT_DB changes the database');
  assert.equal(
    find(xs, 'SELECT name FROM items WHERE id IN (1, 2)').fingerprint,
    'SELECT name FROM items WHERE id IN (?)',
  );
  assert.equal(find(xs, 'UPDATE items SET price = price + 1 WHERE id > 1').rows, 2);
  assert.match(find(xs, 'SELEC oops').error!, /^1064 \(42000\): You have an error/);
  const stmt = byFile('mysql-session-8-client').xs;
  const inserts = stmt.filter((x) => x.statement === 'INSERT INTO stmt_items (id, name) VALUES (?, ?)');
  assert.equal(inserts.length, 4);
  assert.ok(inserts.every((x) => x.command === 'execute' && x.rows === 1));
  const sel = find(stmt, 'SELECT id, name FROM stmt_items WHERE id < ?');
  assert.deepEqual([sel.command, sel.rows, sel.columns], ['execute', 3, 2]);
  assert.match(find(stmt, 'SELECT nothing FROM no_such_table WHERE x = ?').error!, /^1146/);
  const denied = byFile('mysql-session-4-client').xs[0]!;
  assert.deepEqual([denied.command, denied.status], ['login', 'failed']);
  assert.match(denied.error!, /^1045 \(28000\): Access denied/);
});

test('HTTP: keep-alive requests, HEAD, errors, chunked bodies both ways', () => {
  const ka = byFile('http-session-2-client').xs;
  assert.deepEqual(
    ka.map((x) => [x.statement, x.status, x.error]),
    [
      ['GET /page.html', '200 OK', null],
      ['GET /missing', '404 Not Found', '404 Not Found'],
      ['GET /teapot', '418', '418'],
    ],
  );
  assert.equal(byFile('http-session-3-client').xs[0]!.statement, 'HEAD /page.html');
  const gz = byFile('http-session-5-client').xs[0]!;
  assert.equal(gz.status, '200 OK');
  assert.equal(gz.details!.content_type, 'text/plain');
  const up = byFile('http-session-9-client').xs[0]!;
  assert.equal(up.statement, 'POST /echo');
  assert.ok(up.bytesOut > 3000, 'the chunked upload counts toward the request');
  assert.equal(byFile('http-session-8-client').xs[0]!.fingerprint, 'POST /echo?x=?');
});

test('Redis: RESP2 and RESP3 replies, errors, AUTH redacted, a pipeline in order', () => {
  const auth = byFile('redis-session-1-client').xs[0]!;
  assert.equal(auth.statement, 'AUTH ?', 'the password is never shown');
  assert.equal(find(byFile('redis-session-12-client').xs, 'LRANGE list 0 -1').rows, 3);
  assert.match(find(byFile('redis-session-15-client').xs, 'LPOP user:1').error!, /^WRONGTYPE/);
  assert.equal(find(byFile('redis-session-17-client').xs, 'HGETALL h').status, 'map of 2');
  const piped = byFile('redis-session-20-client').xs.filter((x) => x.command === 'SET');
  assert.deepEqual(
    piped.map((x) => x.statement),
    Array.from({ length: 20 }, (_, i) => `SET k${i} ${i % 10}`),
  );
  assert.ok(piped.every((x) => x.status === 'OK' && x.fingerprint === 'SET ? ?'));
});

/** What must stay the same however the bytes are cut: everything but the timestamps. */
const same = (steps: Step[]) => decode(steps).exchanges.map(summary);

test('chunking does not matter: one byte at a time, and a cut at every byte boundary', () => {
  for (const f of fixtures()) {
    const want = same(f.steps);
    assert.deepEqual(same(rechunk(f.steps, 1)), want, `${f.file}: one byte at a time`);
    assert.deepEqual(same(rechunk(f.steps, 7)), want, `${f.file}: 7 bytes at a time`);
    const n = totalBytes(f.steps);
    for (let at = 1; at < n; at++) assert.deepEqual(same(splitAt(f.steps, at)), want, `${f.file}: cut at ${at}`);
  }
});

/** The facts of an exchange a hole could corrupt. */
const facts = (x: Exchange) => JSON.stringify([x.command, x.statement, x.rows, x.columns, x.status, x.error]);

test('holes: never an invented or mis-attributed statement, and what was lost is said', () => {
  let holes = 0;
  for (const f of fixtures()) {
    const whole = decode(f.steps).exchanges;
    const known = new Set(whole.map(facts));
    const users = new Set(whole.map((x) => x.user));
    for (let i = 0; i < f.steps.length; i++) {
      const s = f.steps[i]!;
      if ('lost' in s) continue;
      // The whole chunk lost, then (a second run) only its middle.
      for (const [from, to] of [
        [0, s.data.length],
        [Math.floor(s.data.length / 3), Math.floor((2 * s.data.length) / 3)],
      ] as const) {
        if (to <= from) continue;
        const steps: Step[] = [...f.steps.slice(0, i)];
        if (from > 0) steps.push({ dir: s.dir, data: s.data.subarray(0, from), ts: s.ts });
        steps.push({ dir: s.dir, lost: to - from });
        if (to < s.data.length) steps.push({ dir: s.dir, data: s.data.subarray(to), ts: s.ts });
        steps.push(...f.steps.slice(i + 1));
        const { exchanges, decoder } = decode(steps);
        holes++;
        const statements = new Set(whole.map((x) => x.statement));
        for (const x of exchanges) {
          if (x.notDecoded || x.notes?.some((n) => /lost/.test(n))) {
            // Partly decoded: what it does say must still be true.
            assert.ok(x.statement === null || statements.has(x.statement), `${f.file}: invented ${x.statement}`);
            continue;
          }
          assert.ok(
            known.has(facts(x)),
            `${f.file}, chunk ${i} lost [${from}, ${to}): ${summary(x)} is not an exchange of the intact session`,
          );
          assert.ok(x.user === null || users.has(x.user), `${f.file}: user ${x.user}`);
        }
        const said = (x: Exchange) => !!x.notDecoded || !!x.notes?.some((n) => /lost/.test(n));
        const clean = exchanges.filter((x) => !said(x)).length;
        const cleanWhole = whole.filter((x) => !said(x)).length;
        assert.ok(clean <= cleanWhole, `${f.file}: more decoded with a hole than without`);
        // (A connection never recognised is counted as such in the decode summary.)
        if (clean < cleanWhole && decoder.recognised)
          assert.ok(exchanges.some(said), `${f.file}: chunk ${i} lost silently`);
      }
    }
  }
  assert.ok(holes > 300, `${holes} holes tried`);
});
