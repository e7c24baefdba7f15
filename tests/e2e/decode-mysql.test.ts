// tests/e2e/decode-mysql.test.ts — `capc run --decode mysql` against a real
// MariaDB over TLS (its own mariadbd, datadir, port; require_secure_transport
// on): the mariadb client, PyMySQL and a libmariadb client using prepared
// statements, captured on the client side and in mariadbd at once (kept to
// this server's port in the kernel) and shown once, from the client, with
// both ends' addresses, ports and processes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import path from 'node:path';
import { assertClientSeen, decodeRun, marked, run, tlsCaptureOf } from '../support/decode-run.js';
import { requireKernel } from '../support/kernel.js';
import { mariadbMissing, startMariadb, type Mariadb } from '../support/servers/mariadb.js';
import { systemPython } from '../support/servers/process.js';
import { buildTarget } from '../support/targets.js';

let db: Mariadb | undefined;
const tag = `capc-my-${process.pid}`;

before(async () => {
  if (mariadbMissing() || process.getuid?.() !== 0) return;
  db = await startMariadb();
  await db.admin(`CREATE TABLE ${db.database}.items (id INT PRIMARY KEY, name VARCHAR(64))`);
});
after(async () => db?.stop());

test('mariadb client, PyMySQL and prepared statements over TLS: captured at both ends, decoded once', async (t) => {
  if (!requireKernel(t)) return;
  const missing = mariadbMissing();
  if (missing) {
    if (process.env.CAPC_REQUIRE_KERNEL === '1') throw new Error(missing);
    return t.skip(missing);
  }
  const s = db!;
  const py = systemPython(['pymysql']);
  assert.ok(py, 'python3-pymysql');
  const stmt = buildTarget('mysql-stmt', ['-I/usr/include/mariadb', '-lmariadb']);
  const clients = ['mariadb', 'python3', path.basename(stmt).slice(0, 15)];
  const { exchanges, summary } = await decodeRun(
    ['--decode', 'mysql'],
    async () => {
      await s.client(
        `INSERT INTO items VALUES (1, '${tag}-a'), (2, '${tag}-b'); SELECT id, name FROM items WHERE name LIKE '${tag}%' ORDER BY id`,
      );
      await s.client(`SELECT * FROM missing_table WHERE x = '${tag}'`).catch(() => {});
      await run(py!, [
        '-c',
        `import pymysql, ssl
c = pymysql.connect(host='127.0.0.1', port=${s.port}, user='${s.user}', password='${s.password}', database='${s.database}', ssl={'check_hostname': False, 'verify_mode': ssl.CERT_NONE})
cur = c.cursor()
cur.execute("SELECT name FROM items WHERE id = %s AND name LIKE %s", (2, '${tag}%'))
assert cur.fetchall() == (('${tag}-b',),)
c.select_db('mysql')
cur.execute("SELECT '${tag}' FROM user LIMIT 1")
c.close()`,
      ]);
      await run(stmt, ['127.0.0.1', String(s.port), s.user, s.password, s.database]);
    },
    { program: tlsCaptureOf(s.port) },
  );
  assert.deepEqual(marked(exchanges, tag, 'server'), [], "the server's side is not shown twice");
  assert.ok(summary!.paired >= 6, `seen from the server's end too: ${summary!.paired}`);
  {
    const side = 'client';
    const mine = marked(exchanges, tag, side);
    const by = (prefix: string) => {
      const x = mine.find((e) => e.statement!.startsWith(prefix));
      assert.ok(x, `${side}: no exchange for ${prefix}; got ${mine.map((e) => e.statement).join(' | ')}`);
      return x;
    };
    assert.deepEqual([by('INSERT INTO items').rows, by('INSERT INTO items').status], [2, 'OK']);
    const sel = by('SELECT id, name FROM items');
    assert.deepEqual([sel.rows, sel.columns, sel.column_names], [2, 2, ['id', 'name']]);
    assert.deepEqual([sel.user, sel.database], ['capc', 'shop']);
    assert.match(by('SELECT * FROM missing_table').error!, /^1146 \(42S02\): Table 'shop.missing_table' doesn't exist/);
    assert.equal(by('SELECT name FROM items WHERE id = 2').rows, 1);
    assert.equal(by(`SELECT '${tag}' FROM user`).database, 'mysql', 'COM_INIT_DB (select_db) was followed');
    for (const x of mine) assertClientSeen(x, s.port, clients, 'mariadbd');
    // Prepared statements: the text comes back by statement id.
    const prepared = exchanges.filter(
      (x) => x.side === side && x.statement === 'SELECT id, name FROM stmt_items WHERE id < ?',
    );
    assert.ok(prepared.length >= 1, `${side}: the prepared SELECT`);
    assert.deepEqual([prepared[0]!.command, prepared[0]!.rows, prepared[0]!.columns], ['execute', 3, 2]);
    const inserts = exchanges.filter(
      (x) => x.side === side && x.statement === 'INSERT INTO stmt_items (id, name) VALUES (?, ?)',
    );
    assert.equal(inserts.length, 4, `${side}: four prepared INSERTs`);
    for (const x of [...prepared, ...inserts]) assertClientSeen(x, s.port, clients, 'mariadbd');
  }
  assert.equal(exchanges.filter((x) => x.side === 'server').length, 0, 'every connection was seen from its client');
});
