// tests/ui/queries.test.tsx — the Queries pane (--decode) rendered with
// ink-testing-library: the per-fingerprint table (count, errors, p50/p99,
// rows), the live list, Enter for the whole exchange, Esc back; and which
// pane a session opens on (Maps for a program that only fills maps).
import assert from 'node:assert/strict';
import os from 'node:os';
import { afterEach, test } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import type { Manifest } from '../../compiler/manifest.js';
import { firstPane } from '../../runtime/cli/run-ui.js';
import type { Exchange } from '../../runtime/protocols/exchange.js';
import { UiStore } from '../../runtime/ui/store.js';

process.env.FORCE_COLOR = '1';
const { render, cleanup } = await import('ink-testing-library');
afterEach(() => cleanup());
const React = await import('react');
const { App } = await import('../../runtime/ui/App.js');

const KEY = { up: '\x1b[A', down: '\x1b[B', enter: '\r', esc: '\x1b' };

function exchange(i: number, over: Partial<Exchange> = {}): Exchange {
  return {
    protocol: 'postgres',
    conn: 3,
    side: 'client',
    client: { addr: null, port: null, pid: 812, comm: 'psql' },
    server: { addr: null, port: null, pid: null, comm: null },
    user: 'capc',
    database: 'shop',
    command: 'query',
    statement: `SELECT name FROM items WHERE id = ${i}`,
    fingerprint: 'SELECT name FROM items WHERE id = ?',
    rows: 1,
    columns: 1,
    columnNames: ['name'],
    status: 'SELECT 1',
    error: null,
    notDecoded: null,
    start: 0n,
    end: BigInt((i + 1) * 1000),
    bytesIn: 70,
    bytesOut: 40,
    latencyNs: (i + 1) * 1000,
    ...over,
  };
}

function setup(pane?: 'queries') {
  const store = new UiStore();
  store.event({ kind: 'attaching', probes: 4 });
  for (let i = 0; i < 99; i++) store.event({ kind: 'exchange', x: exchange(i) });
  store.event({
    kind: 'exchange',
    x: exchange(99, {
      statement: 'SELECT * FROM nope',
      fingerprint: 'SELECT * FROM nope',
      rows: null,
      columns: null,
      columnNames: undefined,
      status: null,
      error: '42P01: relation "nope" does not exist',
    }),
  });
  const r = render(
    React.createElement(App, {
      store,
      script: '-e',
      target: 'all processes',
      startedAt: 0,
      onQuit: () => {},
      cpus: 2,
      color: false,
      saveDir: os.tmpdir(),
      size: { cols: 100, rows: 30 },
      refreshMs: 5,
      now: () => 10_000,
      initialPane: pane,
    }),
  );
  const frame = () => stripVTControlCharacters(r.lastFrame() ?? '');
  const settle = () => new Promise((res) => setTimeout(res, 40));
  const press = async (...keys: string[]) => {
    for (const k of keys) {
      r.stdin.write(k);
      await settle();
    }
  };
  return { r, store, frame, settle, press };
}

test('the table groups by fingerprint with count, errors, p50/p99 and rows; the list shows the latest', async () => {
  const u = setup('queries');
  await u.settle();
  const f = u.frame();
  assert.match(f, /\[5 Queries\]/);
  assert.match(f, /COUNT {2}ERR {4}P50 {5}P99 {5}ROWS {2}FINGERPRINT/);
  // 99 of one fingerprint with latencies 1..99 µs: p50 about 50 µs, p99 about 98 µs (5% buckets).
  const row = f.split('\n').find((l) => l.includes('postgres: SELECT name FROM items WHERE id = ?'))!;
  assert.ok(row, f);
  const [count, err, p50, , p99, , rows] = row.trim().split(/\s+/);
  assert.deepEqual([count, err, rows], ['99', '-', '99']);
  assert.ok(Math.abs(Number(p50) - 50) <= 3, `p50 ${p50}`);
  assert.ok(Math.abs(Number(p99) - 99) <= 5, `p99 ${p99}`);
  assert.match(f, /^ +1 +1 .* postgres: SELECT \* FROM nope *$/m);
  assert.match(f, /latest 100 of 100 exchanges · 1 errors · 0 not decoded/);
  assert.match(f, /▸ +100 us conn 3 psql\[812\] -> \? capc@shop: SELECT \* FROM nope \[error 42P01/);
  u.r.unmount();
});

test('Enter shows the whole exchange, Esc goes back; new exchanges keep arriving', async () => {
  const u = setup('queries');
  await u.press(KEY.down, KEY.enter);
  let f = u.frame();
  assert.match(f, /exchange 99 of 100 · Esc back/);
  assert.match(f, /^client {7}psql\[812\] \(address not known\)$/m);
  assert.match(f, /^columns {6}1: name$/m);
  assert.match(f, /^SELECT name FROM items WHERE id = 98$/m);
  await u.press(KEY.esc);
  u.store.event({ kind: 'exchange', x: exchange(500, { statement: 'SELECT 500', fingerprint: 'SELECT ?' }) });
  await u.settle();
  f = u.frame();
  assert.match(f, /latest 101 of 101 exchanges/);
  assert.match(f, /SELECT 500 \[1 row, 1 col, SELECT 1\]/);
  u.r.unmount();
});

test('a session opens on Queries when decoding, on Maps when the program only fills maps', () => {
  const base = { maps: [], events: [], capture: undefined } as unknown as Manifest;
  const onlyMaps = { ...base, maps: [{ name: '@x' }] } as unknown as Manifest;
  const printing = { ...onlyMaps, events: [{ kind: 'printf' }] } as unknown as Manifest;
  const capturing = { ...base, capture: { sites: [] } } as unknown as Manifest;
  assert.equal(firstPane(onlyMaps, false), 'maps');
  assert.equal(firstPane(printing, false), 'events');
  assert.equal(firstPane(capturing, false), 'events');
  assert.equal(firstPane(capturing, true), 'queries');
  assert.equal(firstPane(base, false), 'events');
});

test('the Queries pane of a session that decodes nothing says how to', async () => {
  const store = new UiStore();
  const r = render(
    React.createElement(App, {
      store,
      script: '-e',
      target: 'all processes',
      startedAt: 0,
      onQuit: () => {},
      cpus: 2,
      color: false,
      saveDir: os.tmpdir(),
      size: { cols: 100, rows: 30 },
      refreshMs: 5,
      now: () => 10_000,
    }),
  );
  r.stdin.write('5');
  await new Promise((res) => setTimeout(res, 40));
  assert.match(stripVTControlCharacters(r.lastFrame() ?? ''), /nothing is decoded: run with --decode auto/);
  r.unmount();
});
