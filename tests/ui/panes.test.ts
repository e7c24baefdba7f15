// tests/ui/panes.test.ts — what the panes show, as text: events lines with
// escaping and hex, the filter, the scroll window, maps sorted by value with
// bars, conversations, probe statistics and the short formats.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConnInfo } from '../../runtime/events/model.js';
import { bytes, clock, nanos, shortProbe, si } from '../../runtime/ui/format.js';
import { conversationLines, entryLines, matches, parseFilter } from '../../runtime/ui/lines.js';
import { eventsWindow, mapsLines } from '../../runtime/ui/panes.js';
import { computeStats } from '../../runtime/ui/stats.js';
import { UiStore } from '../../runtime/ui/store.js';

const conn: ConnInfo = { id: 7, key: 0x10n, pid: 4242, comm: 'curl', probe: 'uprobe:libssl:SSL_write', family: 'ssl' };
const at = { seq: 0, at: 0 };

test('payloads are shown escaped, never as raw control bytes; hex with x', () => {
  const e = {
    ...at,
    kind: 'capture' as const,
    conn,
    dir: 0 as const,
    offset: 16,
    data: Buffer.from('GET /\x1b[2J\r\n\tok\n'),
  };
  const text = entryLines(e, { hex: false, maxPayloadLines: 8 }).map((l) => l.text);
  assert.deepEqual(text, ['>>> conn 7 curl[4242] egress 15 bytes at 16', '  GET /\\x1b[2J\\r', '          ok']);
  const hex = entryLines(e, { hex: true, maxPayloadLines: 8 }).map((l) => l.text);
  assert.match(
    hex[1]!,
    /^ {2}00000010 {2}47 45 54 20 2f 1b 5b 32 {2}4a 0d 0a 09 6f 6b 0a {5}\|GET \/\.\[2J\.\.\.ok\.\|$/,
  );
  const long = { ...e, data: Buffer.from('x\n'.repeat(20)) };
  const cut = entryLines(long, { hex: false, maxPayloadLines: 3 });
  assert.equal(cut.length, 5);
  assert.equal(cut[4]!.text, '  … 17 more lines');
});

test('filters: text, comm:, pid:, and a number that is a pid or text', () => {
  const p = { ...at, kind: 'printf' as const, text: Buffer.from('tick 12\n') };
  const c = { ...at, kind: 'capture' as const, conn, dir: 1 as const, offset: 0, data: Buffer.from('HTTP/1.1 200') };
  assert.equal(matches(p, parseFilter('tick 1')), true);
  assert.equal(matches(p, parseFilter('tock')), false);
  assert.equal(matches(p, parseFilter('pid:4242')), false);
  assert.equal(matches(c, parseFilter('pid:4242')), true);
  assert.equal(matches(c, parseFilter('comm:cur')), true);
  assert.equal(matches(c, parseFilter('200')), true);
  assert.equal(matches(c, parseFilter('4242')), true);
  assert.equal(matches(c, parseFilter('wget')), false);
  assert.equal(parseFilter('   '), undefined);
});

test('the events window shows the newest lines, scrolls back, and stops at the oldest', () => {
  const st = new UiStore();
  for (let i = 0; i < 50; i++) st.event({ kind: 'printf', text: Buffer.from(`tick ${i}\n`) });
  const tail = eventsWindow(st, { hex: false, height: 5, scroll: 0 });
  assert.deepEqual(
    tail.lines.map((l) => l.text),
    ['tick 45', 'tick 46', 'tick 47', 'tick 48', 'tick 49'],
  );
  assert.ok(tail.maxScroll >= 5, 'more is there to scroll to');
  const back = eventsWindow(st, { hex: false, height: 5, scroll: 10 });
  assert.equal(back.lines[0]!.text, 'tick 35');
  const far = eventsWindow(st, { hex: false, height: 5, scroll: 1000 });
  assert.equal(far.lines[0]!.text, 'tick 0');
  assert.equal(far.maxScroll, 45);
  const filtered = eventsWindow(st, { hex: false, height: 5, scroll: 0, filter: parseFilter('tick 4') });
  assert.deepEqual(
    filtered.lines.map((l) => l.text),
    ['tick 45', 'tick 46', 'tick 47', 'tick 48', 'tick 49'],
  );
});

test('maps: largest first, bars scaled to the largest, scalars on one line, filter by key', () => {
  const lines = mapsLines(
    [
      {
        name: '@calls',
        kind: 'count',
        keyed: true,
        entries: [
          { key: [Buffer.from('bash\0')], value: 10n },
          { key: [Buffer.from('curl\0')], value: 40n },
          { key: [Buffer.from('node\0')], value: 20n },
        ],
      },
      { name: '@all', kind: 'count', keyed: false, entries: [{ key: [], value: 70n }] },
    ],
    60,
  ).map((l) => l.text);
  assert.equal(lines[0], '@all: 70');
  assert.equal(lines[1], '@calls  (count, 3 keys)');
  assert.match(lines[2]!, /^ {2}\[curl\] +█+ 40$/);
  assert.match(lines[4]!, /^ {2}\[bash\] +█+ +10$/);
  const bar = (s: string) => (s.match(/█/g) ?? []).length;
  assert.equal(Math.round(bar(lines[2]!) / 4), Math.round(bar(lines[4]!)), 'bars are proportional');
  assert.ok(lines.every((l) => l.length <= 60));
  const only = mapsLines(
    [
      {
        name: '@calls',
        kind: 'count',
        keyed: true,
        entries: [
          { key: [Buffer.from('bash\0')], value: 10n },
          { key: [Buffer.from('curl\0')], value: 40n },
        ],
      },
    ],
    60,
    parseFilter('bash'),
  );
  assert.equal(only.length, 2);
});

test('a conversation joins contiguous records and marks losses', () => {
  const lines = conversationLines(
    [
      { dir: 0, offset: 0, data: Buffer.from('GET / HT') },
      { dir: 0, offset: 8, data: Buffer.from('TP/1.1\n') },
      { dir: 1, offset: 0, data: Buffer.from('HTTP/1.1 200 OK\n') },
      { dir: 1, offset: 16, lost: 50 },
      { dir: 1, offset: 66, data: Buffer.from('tail\n') },
    ],
    false,
    0,
  ).map((l) => l.text);
  assert.deepEqual(lines, [
    '>>> egress 15 bytes at 0',
    'GET / HTTP/1.1',
    '<<< ingress 16 bytes at 0',
    'HTTP/1.1 200 OK',
    '!!! ingress: 50 bytes lost at offset 16',
    '<<< ingress 5 bytes at 66',
    'tail',
  ]);
});

test('per-probe cost over the last period, as bpftop computes it', () => {
  const st = new UiStore();
  const probe = (hits: number, ns: number) => ({
    spec: 'uprobe:/tmp/t/target:add',
    name: 'uprobe:/tmp/t/target:add',
    role: 'probe',
    hits,
    runTimeNs: ns,
  });
  const snap = (at: number, hits: number, ns: number) => ({
    at,
    probes: [probe(hits, ns)],
    rings: [{ name: 'capc_events', role: 'events' as const, size: 1000, peakBytes: 250 }],
    counters: [
      { kind: 'ring-drop' as const, subject: 'capc_events', value: 3 },
      { kind: 'map-full' as const, subject: '@m', value: 1 },
    ],
  });
  st.snapshot(snap(1000, 100, 10_000));
  for (let i = 0; i < 500; i++) st.event({ kind: 'printf', text: Buffer.from('x\n') });
  st.snapshot(snap(2000, 1100, 210_000));
  const s = computeStats(st, 2, 0);
  assert.equal(s.eventsPerSec, 500);
  assert.equal(s.bytesPerSec, 1000);
  assert.deepEqual(s.sinks, [{ name: 'events', fillPct: 25, drops: 3, unit: 'events' }]);
  assert.equal(s.mapFull, 1);
  assert.equal(s.probes[0]!.label, 'uprobe:target:add');
  assert.equal(s.probes[0]!.hits, 1100);
  assert.equal(s.probes[0]!.hitsPerSec, 1000);
  assert.equal(s.probes[0]!.nsPerHit, 200);
  assert.equal(s.probes[0]!.cpuPct, 0.01);
});

test("exporters' losses are drops on the stats bar, one sink each", () => {
  const st = new UiStore();
  st.snapshot({
    at: 1000,
    probes: [],
    rings: [],
    counters: [],
    exports: [
      { sink: 'pcapng', count: 12, unit: 'packets' },
      { sink: 'otlp', count: 0, unit: 'log records' },
    ],
  });
  assert.deepEqual(computeStats(st, 2, 0).sinks, [
    { name: 'pcapng', drops: 12, unit: 'packets' },
    { name: 'otlp', drops: 0, unit: 'log records' },
  ]);
});

test('short formats', () => {
  assert.deepEqual(
    [si(999), si(1234), si(1_234_567), bytes(1536), nanos(412), nanos(1234), clock(83_000), clock(3_723_000)],
    ['999', '1.2k', '1.2M', '1.5 KiB', '412 ns', '1.23 µs', '1:23', '1:02:03'],
  );
  assert.equal(shortProbe('uprobe:/usr/lib/x86_64-linux-gnu/libssl.so.3:SSL_write'), 'uprobe:libssl.so.3:SSL_write');
  assert.equal(shortProbe('tracepoint:syscalls:sys_enter_openat'), 'tracepoint:syscalls:sys_enter_openat');
});

test('the header lists the probes the script wrote, as many as fit, and counts the rest', async () => {
  const { probeSummary } = await import('../../runtime/ui/Header.js');
  const row = (label: string, hits: number, role = '') => ({ label, role, hits });
  const rows = [
    row('uprobe:libssl.so.3:SSL_write', 17),
    row('uretprobe:libssl.so.3:SSL_write', 17, 'return'),
    row('uprobe:libssl.so.3:SSL_read', 61),
    row('uprobe:libssl.so.3:SSL_free', 3, 'close'),
  ];
  assert.equal(
    probeSummary(rows, 4, 80).trimEnd(),
    'probes: u:libssl.so.3:SSL_write 17 · u:libssl.so.3:SSL_read 61 (+2 for capture)',
  );
  assert.equal(probeSummary(rows, 4, 60).trimEnd(), 'probes: u:libssl.so.3:SSL_write 17 +1 more (+2 for capture)');
  assert.equal(probeSummary([], 3, 80).trimEnd(), 'probes: 3 attached');
});
