// tests/e2e/decode-postgres.test.ts — `capc run --decode` against a real
// PostgreSQL over TLS (its own server, port and temp dir): psql and psycopg2
// on the client side, the postgres backends on the server side, both traced
// at once and kept to this server's connections in the kernel (by port);
// every statement the test issued is found once, from the client, with both
// ends' addresses, ports and processes, its user, database, rows, columns or
// error. Also -q text output (exchange lines only) of one end at a time, and
// the .cap form `-> decode(postgres)`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertClientSeen, decodeRun, marked, run, tlsCaptureOf } from '../support/decode-run.js';
import { requireKernel } from '../support/kernel.js';
import { runCapc } from '../support/capc.js';
import { postgresBin, postgresMissing, startPostgres, type Postgres } from '../support/servers/postgres.js';
import { systemPython } from '../support/servers/process.js';

let pg: Postgres | undefined;
const tag = `capc-pg-${process.pid}`;

before(async () => {
  if (postgresMissing() || process.getuid?.() !== 0) return;
  pg = await startPostgres();
  await pg.psql('CREATE TABLE items (id int primary key, name text)', { ssl: false });
});
after(async () => pg?.stop());

function ready(t: import('node:test').TestContext): Postgres | undefined {
  if (!requireKernel(t)) return undefined;
  const missing = postgresMissing();
  if (missing) {
    if (process.env.CAPC_REQUIRE_KERNEL === '1') throw new Error(missing);
    t.skip(missing);
    return undefined;
  }
  return pg;
}

test('psql and psycopg2 over TLS: statements, rows, columns, errors, decoded once for both ends', async (t) => {
  const s = ready(t);
  if (!s) return;
  const py = systemPython(['psycopg2']);
  assert.ok(py, 'python3-psycopg2');
  const { exchanges, summary } = await decodeRun(
    ['--decode', 'postgres'],
    async () => {
      await run(
        postgresBin('psql')!,
        [
          '-X',
          '-q',
          '-c',
          `INSERT INTO items VALUES (1, '${tag}-a'), (2, '${tag}-b'), (3, '${tag}-c')`,
          '-c',
          `SELECT id, name FROM items WHERE name LIKE '${tag}%' ORDER BY id`,
          '-c',
          `SELECT * FROM missing_${process.pid} /* ${tag} */`,
        ],
        s.env(true),
      ).catch(() => {}); // the last statement fails, as meant
      await run(py!, [
        '-c',
        `import psycopg2
c = psycopg2.connect(host='127.0.0.1', port=${s.port}, user='${s.user}', password='${s.password}', dbname='${s.database}', sslmode='require')
cur = c.cursor()
cur.execute("SELECT name FROM items WHERE id = %s AND name LIKE %s", (2, '${tag}%'))
assert cur.fetchall() == [('${tag}-b',)]
c.close()`,
      ]);
    },
    { program: tlsCaptureOf(s.port) },
  );
  // Both ends were captured: one exchange per statement, from the client.
  assert.deepEqual(marked(exchanges, tag, 'server'), [], "the server's side is not shown twice");
  assert.ok(summary!.paired >= 4, `seen from the server's end too: ${summary!.paired}`);
  {
    const side = 'client';
    const mine = marked(exchanges, tag, side);
    const by = (prefix: string) => {
      const x = mine.find((e) => e.statement!.startsWith(prefix));
      assert.ok(x, `${side}: no exchange for ${prefix}; got ${mine.map((e) => e.statement).join(' | ')}`);
      return x;
    };
    const ins = by('INSERT INTO items');
    assert.deepEqual([ins.rows, ins.status, ins.error, ins.not_decoded], [3, 'INSERT 0 3', null, null]);
    const sel = by('SELECT id, name FROM items');
    assert.deepEqual([sel.rows, sel.columns, sel.column_names, sel.status], [2 + 1, 2, ['id', 'name'], 'SELECT 3']);
    assert.equal(sel.user, 'capc');
    assert.equal(sel.database, 'shop');
    assert.equal(sel.fingerprint, 'SELECT id, name FROM items WHERE name LIKE ? ORDER BY id');
    assert.ok(sel.latency_ns! > 0 && sel.bytes_in > 0 && sel.bytes_out > 0);
    assert.match(by('SELECT * FROM missing_').error!, /^42P01: relation "missing_\d+" does not exist/);
    const py = by('SELECT name FROM items WHERE id = 2');
    assert.equal(py.rows, 1);
    for (const x of mine) assertClientSeen(x, s.port, ['psql', 'python3'], 'postgres');
    assert.equal(sel.client.comm, 'psql');
    assert.equal(py.client.comm, 'python3');
    assert.notEqual(sel.client.port, py.client.port, 'two connections, two client ports');
  }
  const logins = exchanges.filter((x) => x.command === 'login' && x.user === 'capc');
  assert.ok(logins.length >= 2, `logins: ${logins.length}`);
  for (const l of logins) assertClientSeen(l, s.port, ['psql', 'python3'], 'postgres');
});

test("-q prints only the exchange lines, from the server's end or the client's; the .cap form -> decode(postgres)", async (t) => {
  const s = ready(t);
  if (!s) return;
  const marker = `${tag}-text`;
  const work = async () => {
    await run(postgresBin('psql')!, ['-X', '-q', '-c', `SELECT '${marker}' AS m`], s.env(true));
  };
  const port = String(s.port);
  for (const [args, line] of [
    // The server's end only: its peer is the client.
    [
      ['run', '-q', '--decode', 'auto', '-e', tlsCaptureOf(s.port, 'server')],
      `^<=> postgres conn \\d+ 127\\.0\\.0\\.1:(?!${port}\\b)\\d+ -> postgres\\[\\d+\\] 127\\.0\\.0\\.1:${port} capc@shop: `,
    ],
    // The client's end only, decoded as the program says.
    [
      ['run', '-q', '-e', tlsCaptureOf(s.port, 'client').replace('-> ringbuf', '-> ringbuf -> decode(postgres)')],
      `^<=> postgres conn \\d+ psql\\[\\d+\\] 127\\.0\\.0\\.1:(?!${port}\\b)\\d+ -> 127\\.0\\.0\\.1:${port} capc@shop: `,
    ],
  ] as const) {
    const r = await runCapc([...args], {
      timeoutMs: 120000,
      onAttached: async (pid) => {
        await work();
        await new Promise((res) => setTimeout(res, 400));
        process.kill(pid, 'SIGINT');
      },
    });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => l.includes(marker));
    assert.equal(lines.length, 1, `one end, one line:\n${r.stdout}`);
    assert.match(lines[0]!, new RegExp(`${line}SELECT '${marker}' AS m \\[1 row, 1 col, SELECT 1\\] `));
    assert.ok(!/^(>>>|<<<)/m.test(r.stdout), 'no raw stream blocks with -q');
  }
});
