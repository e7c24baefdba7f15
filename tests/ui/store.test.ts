// tests/ui/store.test.ts — the UI's store keeps bounded, O(1)-appended state
// and never renders: a ring of recent entries, joined partial printf lines,
// per-connection conversations with a byte cap, drop totals, and what to
// print after the UI closes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConnInfo } from '../../runtime/events/model.js';
import { UiStore } from '../../runtime/ui/store.js';
import { StreamBook } from '../../runtime/ui/stream-book.js';

const conn = (id: number, comm = 'curl', pid = 100 + id): ConnInfo => ({
  id,
  key: BigInt(id),
  pid,
  comm,
  probe: 'uprobe:libssl:SSL_write',
  family: 'ssl',
});
const printf = (s: string) => ({ kind: 'printf' as const, text: Buffer.from(s) });

test('the entry ring keeps the newest entries only', () => {
  const st = new UiStore({ capacity: 3 });
  for (let i = 0; i < 10; i++) st.event(printf(`line ${i}\n`));
  assert.deepEqual(
    st.entries().map((e) => (e.kind === 'printf' ? e.text.toString() : '')),
    ['line 7\n', 'line 8\n', 'line 9\n'],
  );
  assert.equal(st.events, 10);
  assert.equal(st.seq, 10);
  const seen: number[] = [];
  st.newestFirst((e) => (seen.push(e.seq), true));
  assert.deepEqual(seen, [9, 8, 7]);
});

test('printf without a newline is joined to what follows, into a new entry object', () => {
  const st = new UiStore();
  st.event(printf('a'));
  const first = st.entries()[0];
  st.event(printf('b\n'));
  st.event(printf('c\n'));
  const texts = st.entries().map((e) => (e.kind === 'printf' ? e.text.toString() : ''));
  assert.deepEqual(texts, ['ab\n', 'c\n']);
  assert.equal(first?.kind === 'printf' && first.text.toString(), 'a', 'a paused view keeps what it saw');
});

test('a replay after a long session says how many entries were only on screen', () => {
  const st = new UiStore({ capacity: 3 });
  for (let i = 0; i < 10; i++) st.event(printf(`line ${i}\n`));
  st.event({ kind: 'stopping' });
  const r = st.afterUi({ replay: true });
  assert.equal(r.skipped, 7);
  assert.equal(r.events.length, 3);
});

test('text entries live in a byte ring: older text that was overwritten is gone, never garbled', () => {
  const st = new UiStore({ capacity: 100, textBytes: 64 });
  for (let i = 0; i < 10; i++) st.event(printf(`line number ${i}\n`)); // 15 bytes each: only the last 4 fit
  assert.deepEqual(
    st.entries().map((e) => (e.kind === 'printf' ? e.text.toString() : '')),
    ['line number 6\n', 'line number 7\n', 'line number 8\n', 'line number 9\n'],
  );
  st.childOutput(Buffer.from('x'.repeat(100)));
  const all = st.entries();
  assert.equal(all.length, 1);
  assert.equal(
    all[0]!.kind === 'child' && all[0]!.text.toString(),
    'x'.repeat(64),
    'text longer than the ring keeps its end',
  );
});

test('captures go to the events ring and to their connection, in order, with losses', () => {
  const st = new UiStore();
  const c = conn(1);
  st.event({
    kind: 'capture',
    conn: c,
    dir: 0,
    offset: 0,
    data: Buffer.from('GET / HTTP/1.1\r\n'),
    ts: 0n,
    tsLast: 0n,
    tid: 1,
    site: 0,
  });
  st.event({
    kind: 'capture',
    conn: c,
    dir: 1,
    offset: 0,
    data: Buffer.from('HTTP/1.1 200 OK\r\n'),
    ts: 0n,
    tsLast: 0n,
    tid: 1,
    site: 0,
  });
  st.event({ kind: 'capture-loss', conn: c, dir: 1, offset: 17, bytes: 100 });
  st.event({ kind: 'capture-end', conn: c, closed: true, bytes: [16, 117], lost: [0, 100] });
  const v = st.streams.get(1)!;
  assert.deepEqual(v.bytes, [16, 17]);
  assert.deepEqual(v.lost, [0, 100]);
  assert.equal(v.state, 'closed');
  assert.equal(v.lossMarkers, 1);
  assert.equal(st.streams.chunks(v).length, 3);
  assert.equal(st.bytes, 33);
  assert.deepEqual(
    st.entries().map((e) => e.kind),
    ['capture', 'capture', 'capture-loss', 'capture-end'],
  );
});

test('a conversation keeps its newest bytes under the cap and counts the rest', () => {
  const book = new StreamBook({ bytesPerConn: 100, maxConns: 2 });
  for (let i = 0; i < 30; i++) book.data(conn(1), 0, i * 10, Buffer.alloc(10, 65 + (i % 26)));
  const v = book.get(1)!;
  assert.equal(v.keptBytes, 100);
  assert.equal(v.droppedBytes, 200);
  assert.equal(book.chunks(v)[0]!.offset, 200);
  // The oldest closed connection is forgotten first when the table is full.
  book.data(conn(2), 0, 0, Buffer.from('x'));
  book.end(conn(2), true);
  book.data(conn(3), 0, 0, Buffer.from('y'));
  assert.deepEqual(
    book.list().map((c) => c.info.id),
    [1, 3],
  );
  assert.equal(book.forgotten, 1);
});

test('after the UI: drop totals, then the closing output in order', () => {
  const st = new UiStore();
  st.event({ kind: 'lost', ring: 'capc_events', count: 5 });
  st.event({ kind: 'map-full', map: '@m', count: 2, maxEntries: 10 });
  st.event(printf('during\n'));
  st.event({ kind: 'stopping' });
  st.event(printf('END says bye\n'));
  st.event({ kind: 'lost', ring: 'capc_events', count: 1 });
  const maps = {
    kind: 'maps' as const,
    atExit: true,
    maps: [{ name: '@x', kind: 'count' as const, keyed: false, entries: [{ key: [], value: 3n }] }],
  };
  st.event(maps);
  st.end();
  const after = st.afterUi().events;
  assert.deepEqual(
    after.map((e) => e.kind),
    ['lost', 'map-full', 'printf', 'lost', 'maps'],
  );
  assert.deepEqual(after[0], { kind: 'lost', ring: 'capc_events', count: 5 });
  // A session that ended by itself also replays what the events pane held (not the closing output twice).
  const replay = st.afterUi({ replay: true });
  assert.deepEqual(
    replay.events.map((e) => (e.kind === 'printf' ? e.text.toString() : e.kind)),
    ['during\n', 'lost', 'map-full', 'END says bye\n', 'lost', 'maps'],
  );
  assert.equal(replay.skipped, 0);
  assert.equal(st.lost.get('capc_events'), 6);
  assert.equal(st.maps, maps.maps);
});

test('snapshots keep the previous one for rates; clearing empties the maps shown', () => {
  const st = new UiStore();
  const snap = (at: number) => ({
    at,
    probes: [],
    rings: [],
    counters: [],
    maps: [{ name: '@x', kind: 'count' as const, keyed: false, entries: [{ key: [], value: 1n }] }],
  });
  st.snapshot(snap(1000));
  st.event(printf('x\n'));
  st.snapshot(snap(2000));
  assert.equal(st.prevSnap?.events, 0);
  assert.equal(st.snap?.events, 1);
  st.clearShownMaps();
  assert.equal(st.maps[0]!.entries.length, 0);
});

test('time(), join(), print(value) and print(@map) show among the events, as text mode prints them; loop limits are replayed', () => {
  const st = new UiStore();
  st.event({
    kind: 'maps',
    maps: [
      {
        name: '@all',
        kind: 'count',
        keyed: true,
        entries: [{ key: [{ kind: 'int', value: 1n }] as never, value: 5n }],
      },
    ],
    atExit: true,
  });
  st.event({ kind: 'time', text: Buffer.from('12:00:00\n') });
  st.event({ kind: 'join', text: Buffer.from('a b c') });
  st.event({ kind: 'value', text: Buffer.from('42'), json: '42' });
  st.event({
    kind: 'maps',
    maps: [{ name: '@n', kind: 'count', keyed: false, entries: [{ key: [], value: 7n }] }],
    atExit: false,
  });
  st.event({ kind: 'loop-limit', where: '-e:2', count: 3, limit: 100 });
  const texts = st.entries().map((e) => (e.kind === 'printf' ? e.text.toString() : ''));
  assert.deepEqual(texts, ['12:00:00\n', 'a b c\n', '42\n', '@n: 7\n']);
  assert.equal(st.maps[0]?.name, '@all', 'a print() of one map does not replace the live maps');
  st.event({ kind: 'stopping' });
  const after = st.afterUi({ replay: false }).events;
  assert.deepEqual(
    after.find((e) => e.kind === 'loop-limit'),
    { kind: 'loop-limit', where: '-e:2', count: 3, limit: 100 },
  );
});
