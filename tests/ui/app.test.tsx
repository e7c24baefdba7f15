// tests/ui/app.test.tsx — the terminal UI as components, rendered with
// ink-testing-library and read as text (ANSI stripped): what each pane shows,
// and what every key does, at 80×24 and other sizes.
// test-lane: exclusive (Ink frames and key handling measured against timers)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import type { ConnInfo } from '../../runtime/events/model.js';
import type { SessionSnapshot } from '../../runtime/session/snapshot.js';
import { UiStore } from '../../runtime/ui/store.js';

// Colour support is decided when chalk loads: force it, so NO_COLOR is what turns it off.
process.env.FORCE_COLOR = '1';
const { render, cleanup } = await import('ink-testing-library');
// A failed assertion must not leave an Ink app (and its timer) keeping the test process alive.
afterEach(() => cleanup());
const React = await import('react');
const { App } = await import('../../runtime/ui/App.js');
type Props = Parameters<typeof App>[0];

const connBase: ConnInfo = {
  id: 1,
  key: 0x55n,
  pid: 4242,
  comm: 'curl',
  probe: 'uprobe:libssl:SSL_write',
  family: 'ssl',
};
const KEY = { tab: '\t', shiftTab: '\x1b[Z', up: '\x1b[A', down: '\x1b[B', enter: '\r', esc: '\x1b', ctrlC: '\x03' };

function snapshot(at: number, hits: number, drops = 0): SessionSnapshot {
  return {
    at,
    probes: [
      { spec: 'interval:ms:100', name: 'interval:ms:100', role: 'probe', hits, runTimeNs: hits * 500 },
      {
        spec: 'uprobe:/tmp/x/target:add',
        name: 'uprobe:/tmp/x/target:add',
        role: 'probe',
        hits: hits * 10,
        runTimeNs: hits * 10 * 90,
      },
    ],
    rings: [{ name: 'capc_events', role: 'events', size: 1 << 20, peakBytes: 1 << 18 }],
    counters: [{ kind: 'ring-drop', subject: 'capc_events', value: drops }],
    maps: [
      {
        name: '@calls',
        kind: 'count',
        keyed: true,
        entries: [
          { key: [Buffer.from('bash\0')], value: 5n },
          { key: [Buffer.from('curl\0')], value: 50n },
        ],
      },
    ],
  };
}

function setup(over: Partial<Props> = {}) {
  const store = new UiStore();
  store.event({ kind: 'attaching', probes: 2 });
  for (let i = 0; i < 40; i++) store.event({ kind: 'printf', text: Buffer.from(`tick ${i}\n`) });
  store.snapshot(snapshot(1000, 10));
  store.snapshot(snapshot(2000, 20));
  let quits = 0;
  const props: Props = {
    store,
    script: 'ticks.cap',
    target: '-c ./target 100',
    startedAt: 0,
    onQuit: () => quits++,
    cpus: 2,
    color: true,
    saveDir: os.tmpdir(),
    size: { cols: 80, rows: 24 },
    refreshMs: 5,
    now: () => 83_000,
    ...over,
  };
  const r = render(React.createElement(App, props));
  const frame = () => stripVTControlCharacters(r.lastFrame() ?? '');
  const settle = () => new Promise((res) => setTimeout(res, 40));
  const press = async (...keys: string[]) => {
    for (const k of keys) {
      r.stdin.write(k);
      await settle();
    }
  };
  return { r, store, frame, settle, press, quits: () => quits };
}

test('the screen: header with probes and hits, the events tail, the stats bar, within 80×24', async () => {
  const u = setup();
  await u.settle();
  const lines = u.frame().split('\n');
  assert.equal(lines.length, 23, 'rows - 1 lines: Ink never clears the whole screen');
  assert.ok(
    lines.every((l) => l.length <= 80),
    lines.find((l) => l.length > 80),
  );
  assert.match(lines[0]!, /^capc {2}ticks\.cap {2}-c \.\/target 100 +● live {2}up 1:23$/);
  assert.match(lines[1]!, /probes: i:ms:100 20 · u:target:add 200/);
  assert.match(lines[2]!, /\[1 Events\]/);
  assert.equal(lines[3], 'tick 24');
  assert.equal(lines[18], 'tick 39');
  assert.match(u.frame(), /events\/s .* ring fill events 25%/);
  assert.match(u.frame(), /drops: events 0 events/);
  assert.match(u.frame(), /cost [\d.]+% cpu: u:target:add 90 ns\/hit 100\/s i:ms:100 500 ns\/hit 10\/s/);
  u.r.unmount();
});

test('space pauses the view while events keep arriving and are counted', async () => {
  const u = setup();
  await u.press(' ');
  assert.match(u.frame(), /PAUSED \+0 new/);
  for (let i = 40; i < 45; i++) u.store.event({ kind: 'printf', text: Buffer.from(`tick ${i}\n`) });
  await u.settle();
  assert.match(u.frame(), /PAUSED \+5 new/);
  assert.doesNotMatch(u.frame(), /tick 44/);
  await u.press(' ');
  assert.match(u.frame(), /tick 44/);
  assert.doesNotMatch(u.frame(), /PAUSED/);
  u.r.unmount();
});

test('scrolling back shows older lines; keys that mean nothing are ignored', async () => {
  const u = setup();
  await u.press(KEY.up, KEY.up, 'k');
  assert.match(u.frame(), /^tick 36$/m);
  assert.doesNotMatch(u.frame(), /^tick 39$/m);
  const before = u.frame();
  await u.press('z', 'c', '\x1b[C', '%');
  assert.equal(u.frame(), before);
  await u.press('G');
  assert.match(u.frame(), /^tick 39$/m);
  u.r.unmount();
});

test('tab and shift-tab switch panes: maps sorted by value with bars, probes with their cost', async () => {
  const u = setup();
  await u.press(KEY.tab);
  const maps = u.frame();
  assert.match(maps, /\[2 Maps\]/);
  assert.match(maps, /@calls {2}\(count, 2 keys\)\n {2}\[curl\] +█+ 50\n {2}\[bash\] +█+ +5/);
  await u.press(KEY.tab, KEY.tab);
  assert.match(u.frame(), /\[4 Probes\]/);
  assert.match(u.frame(), /uprobe:target:add +200 +100 +90 ns/);
  await u.press(KEY.shiftTab);
  assert.match(u.frame(), /\[3 Streams\]/);
  u.r.unmount();
});

test('/ filters by text; Esc clears the filter', async () => {
  const u = setup();
  await u.press('/', 'tick 3', KEY.enter);
  const f = u.frame();
  assert.match(f, /filter: tick 3/);
  assert.deepEqual(
    f.split('\n').filter((l) => l.startsWith('tick')),
    ['tick 3', ...Array.from({ length: 10 }, (_, i) => `tick 3${i}`)],
  );
  await u.press(KEY.esc);
  await u.settle();
  assert.match(u.frame(), /^tick 24$/m);
  u.r.unmount();
});

test('streams: a connection with bytes each way and a loss marker; Enter reads it, x shows hex', async () => {
  const u = setup();
  const conn: ConnInfo = { ...connBase };
  u.store.event({
    kind: 'capture',
    conn,
    dir: 0,
    offset: 0,
    data: Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
    ts: 0n,
    tsLast: 0n,
    tid: 1,
    site: 0,
  });
  u.store.event({
    kind: 'capture',
    conn,
    dir: 1,
    offset: 0,
    data: Buffer.from('HTTP/1.1 200 OK\r\n'),
    ts: 0n,
    tsLast: 0n,
    tid: 1,
    site: 0,
  });
  u.store.event({ kind: 'capture-loss', conn, dir: 1, offset: 17, bytes: 512 });
  await u.press('3');
  assert.match(u.frame(), /▸ +1 {2}curl\[4242\] +27 B +17 B +512 B {2}open {5}\?$/m, 'the peer is not known yet');
  await u.press(KEY.enter);
  assert.match(u.frame(), /curl\[4242\] conn 1 · open · key 0x55 · uprobe:libssl:SSL_write/);
  // The kernel learns the socket: the header and the list show it.
  conn.ident = {
    state: 'socket',
    learned: 'tls-syscall',
    fd: 5,
    family: 'inet6',
    type: 'stream',
    local: { addr: '::1', port: 41712 },
    peer: { addr: '::1', port: 443 },
    connected: true,
    portBound: false,
    inode: 1234,
    cgroup: 1,
    tid: 4242,
  };
  u.store.event({ kind: 'capture-conn', conn });
  await u.settle();
  const conv = u.frame();
  assert.match(conv, /curl\[4242\] conn 1 · \[::1\]:41712 -> \[::1\]:443 · open · fd 5 · key 0x55 · uprobe:/);
  assert.match(
    conv,
    />>> egress 27 bytes at 0\nGET \/ HTTP\/1\.1\\r\nHost: x\\r\n\\r\n<<< ingress 17 bytes at 0\nHTTP\/1\.1 200 OK\\r\n!!! ingress: 512 bytes lost at offset 17/,
  );
  await u.press('x');
  assert.match(
    u.frame(),
    /00000000 {2}47 45 54 20 2f 20 48 54 {2}54 50 2f 31 2e 31 0d 0a {2}\|GET \/ HTTP\/1\.1\.\.\|/,
  );
  await u.press(KEY.esc);
  await u.settle();
  assert.match(u.frame(), /ID {2}PROCESS/);
  assert.match(u.frame(), /▸ +1 {2}curl\[4242\] +27 B +17 B +512 B {2}open {5}\[::1\]:443/);
  u.r.unmount();
});

test('c clears the maps (maps pane only) through the session controls; s saves and says where', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-ui-save-'));
  const u = setup({ saveDir: dir });
  let cleared = 0;
  u.store.controls = { clearMaps: () => (cleared++, { maps: 1, entries: 2 }) };
  await u.press('c');
  assert.equal(cleared, 0, 'c does nothing in the events pane');
  await u.press('s');
  const saved = /saved 40 events to (\S+)/.exec(u.frame());
  assert.ok(saved, u.frame());
  assert.equal(fs.readFileSync(saved[1]!, 'utf8').split('\n')[39], 'tick 39');
  await u.press(KEY.tab, 'c');
  assert.equal(cleared, 1);
  assert.match(u.frame(), /cleared 2 entries from 1 map/);
  assert.match(u.frame(), /@calls {2}\(count, 0 keys\)/);
  u.r.unmount();
  fs.rmSync(dir, { recursive: true });
});

test('? shows the keys; q and Ctrl-C ask the session to stop', async () => {
  const u = setup();
  await u.press('?');
  assert.match(u.frame(), /Keys *\n {2}q {2}Ctrl-C/);
  await u.press('z');
  assert.doesNotMatch(u.frame(), /^Keys$/m);
  await u.press('q');
  assert.equal(u.quits(), 1);
  assert.match(u.frame(), /stopping: detaching probes, running END/);
  await u.press(KEY.ctrlC, 'q');
  assert.equal(u.quits(), 1, 'once');
  u.r.unmount();
  const v = setup();
  await v.press(KEY.ctrlC);
  assert.equal(v.quits(), 1);
  v.r.unmount();
});

test('a terminal too small gets a message, not a broken layout; a bigger one reflows', async () => {
  const u = setup({ size: { cols: 50, rows: 10 } });
  await u.settle();
  assert.match(u.frame(), /too small \(50×10\).*\n.*at least 60×12/);
  await u.press('j', KEY.tab, 'x');
  u.r.rerender(
    React.createElement(App, {
      ...(u.r as unknown as { props?: Props }).props,
      store: u.store,
      script: 'ticks.cap',
      target: 'all processes',
      startedAt: 0,
      onQuit() {},
      cpus: 2,
      color: true,
      saveDir: os.tmpdir(),
      size: { cols: 120, rows: 30 },
      refreshMs: 5,
      now: () => 1000,
    }),
  );
  await u.settle();
  const lines = u.frame().split('\n');
  assert.equal(lines.length, 29);
  assert.ok(lines.every((l) => l.length <= 120));
  assert.match(u.frame(), /^tick 39$/m);
  u.r.unmount();
});

test('drops are red; with NO_COLOR nothing is coloured and they stand out in bold', async () => {
  const red = /\x1b\[31m/;
  const colour = /\x1b\[(3[0-7]|9[0-7]|38;)/;
  const u = setup();
  u.store.snapshot(snapshot(3000, 30, 7));
  await u.settle();
  assert.match(u.r.lastFrame() ?? '', red);
  assert.match(u.frame(), /drops: events 7 events/);
  u.r.unmount();
  const n = setup({ color: false });
  n.store.snapshot(snapshot(3000, 30, 7));
  await n.settle();
  assert.doesNotMatch(n.r.lastFrame() ?? '', colour);
  assert.match(n.r.lastFrame() ?? '', /\x1b\[1m events 7 events/);
  n.r.unmount();
});
