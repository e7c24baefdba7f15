// tests/unit/fingerprint.test.ts — statements with their literals replaced by
// `?` (runtime/protocols/fingerprint.ts): each case is a rule the grouping
// depends on (strings and escapes per dialect, signs versus subtraction,
// comments, dollar quotes, IN lists and VALUES rows collapsed), in both
// dialects.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { httpFingerprint, redisFingerprint, sqlFingerprint } from '../../runtime/protocols/fingerprint.js';

const SQL: [string, 'mysql' | 'postgres', string][] = [
  ["SELECT * FROM t WHERE a = 1 AND b = 'x''y'", 'postgres', 'SELECT * FROM t WHERE a = ? AND b = ?'],
  ['SELECT * FROM t WHERE a = -1 AND b = a - 5', 'postgres', 'SELECT * FROM t WHERE a = ? AND b = a - ?'],
  [
    "select a,b from t where c in (1, 2, 3) and d in ('a','b')",
    'mysql',
    'select a,b from t where c in (?) and d in (?)',
  ],
  ["INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')", 'mysql', 'INSERT INTO t VALUES (?, ?)'],
  ['SELECT  a\n\tFROM   t -- comment\nWHERE x = 0x1F', 'mysql', 'SELECT a FROM t WHERE x = ?'],
  ['SELECT a /* c */ FROM t # hash\n WHERE y = 1.5e10', 'mysql', 'SELECT a FROM t WHERE y = ?'],
  ['SELECT $1, $tag$ body $tag$, $$x$$ FROM t', 'postgres', 'SELECT ?, ?, ? FROM t'],
  ["SELECT E'a\\'b', 'c\\' FROM t", 'postgres', 'SELECT ?, ? FROM t'],
  ["SELECT 'a\\'b' FROM t", 'mysql', 'SELECT ? FROM t'],
  ['SELECT "Col" FROM "T" WHERE `x` = "str"', 'mysql', 'SELECT ? FROM ? WHERE `x` = ?'],
  ['SELECT "Col" FROM "T"', 'postgres', 'SELECT "Col" FROM "T"'],
  ["SELECT x'ff', b'01', X'AB' FROM t", 'mysql', 'SELECT ?, ?, ? FROM t'],
  ['SELECT .5, 3., 1e-3, +4, (-2) FROM t', 'postgres', 'SELECT ?, ?, ?, ?, (?) FROM t'],
  ['SELECT a1, _b2, c$3, é FROM t WHERE z=-7', 'postgres', 'SELECT a1, _b2, c$3, é FROM t WHERE z=?'],
  ['UPDATE t SET a = a+1, b=b -2 WHERE id IN(7)', 'mysql', 'UPDATE t SET a = a+?, b=b -? WHERE id IN (?)'],
  ['', 'mysql', ''],
  ['   ', 'mysql', ''],
  ['BEGIN', 'postgres', 'BEGIN'],
  ["SELECT 'unterminated", 'mysql', 'SELECT ?'],
  ['SELECT /* unterminated', 'mysql', 'SELECT'],
  ['SELECT a FROM t WHERE b IN ( ? , ? ) AND c = ?', 'mysql', 'SELECT a FROM t WHERE b IN (?) AND c = ?'],
  ["SELECT e'x' FROM t", 'postgres', 'SELECT ? FROM t'],
  ["SELECT e 'x' FROM t", 'postgres', 'SELECT e ? FROM t'],
  ['VALUES (1,2),(3,4)', 'postgres', 'VALUES (?,?)'],
  ['SELECT ARRAY[1,2,3]', 'postgres', 'SELECT ARRAY[?,?,?]'],
  ['SELECT 1--2\n+3', 'postgres', 'SELECT ? +?'],
  ['SELECT a-1, a -1, a - -1', 'postgres', 'SELECT a-?, a -?, a - ?'],
];

test('SQL fingerprints: literals, comments, signs, lists', () => {
  for (const [sql, dialect, want] of SQL) assert.equal(sqlFingerprint(sql, dialect), want, `${dialect}: ${sql}`);
});

test('the same text, read in each dialect', () => {
  const s = 'SELECT "a" FROM t WHERE x = 1';
  for (let k = 0; k < 3; k++) {
    assert.equal(sqlFingerprint(s, 'mysql'), 'SELECT ? FROM t WHERE x = ?');
    assert.equal(sqlFingerprint(s, 'postgres'), 'SELECT "a" FROM t WHERE x = ?');
  }
  for (let i = 0; i < 2000; i++)
    assert.equal(sqlFingerprint(`SELECT c${i} FROM t WHERE id = ${i}`, 'postgres'), `SELECT c${i} FROM t WHERE id = ?`);
  const long = `SELECT '${'x'.repeat(10000)}', 5`;
  assert.equal(sqlFingerprint(long, 'mysql'), 'SELECT ?, ?');
});

test('HTTP and Redis fingerprints', () => {
  assert.equal(httpFingerprint('GET', '/api/orders/17?x=3&y'), 'GET /api/orders/??x=?&y');
  assert.equal(httpFingerprint('GET', '/u/0123456789abcdef/p'), 'GET /u/?/p');
  assert.equal(redisFingerprint(['set', 'user:17', 'hello']), 'SET ? ?');
  assert.equal(redisFingerprint(['config', 'get', 'maxmemory']), 'CONFIG GET ?');
  assert.equal(redisFingerprint(['MSET', 'a', '1', 'b', '2']), 'MSET ? ? ? ...');
});
