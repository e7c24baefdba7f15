// tests/e2e/tui.test.ts — the terminal UI of the real `capc run` in a real
// terminal (tmux), on the real kernel: it shows the probes and their hit
// counts, pause, pane switching and the filter work from the keyboard, q
// ends the session cleanly (END runs, the final maps print on the normal
// screen, exit 0) and nothing capc loaded is left in the kernel.
// test-lane: exclusive (keys answered and frames drawn in real time, in tmux)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { assertNothingLoaded } from '../support/capc.js';
import { requireKernel, requireTool } from '../support/kernel.js';
import { capcBin } from '../support/paths.js';
import { buildTarget } from '../support/targets.js';
import { Tmux } from '../support/tmux.js';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Run capc in tmux; the pane stays open after it exits so the normal screen can be read. */
function startCapc(tmux: Tmux, args: string[], dir: string, cols = 100, rows = 30): string {
  const exitFile = path.join(dir, 'exit-code');
  // Ink treats CI as "not a terminal"; the test may run under CI, the user in tmux does not.
  tmux.start(
    `env -u CI -u CONTINUOUS_INTEGRATION TERM=xterm-256color ${quote(capcBin)} ${args.map(quote).join(' ')}; echo $? > ${quote(exitFile)}; sleep 600`,
    cols,
    rows,
  );
  return exitFile;
}

async function waitForExit(exitFile: string, timeoutMs = 20000): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (fs.existsSync(exitFile) && fs.readFileSync(exitFile, 'utf8').trim())
      return Number(fs.readFileSync(exitFile, 'utf8'));
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('capc did not exit');
}

const eventsPane = (screen: string) => screen.split('\n').filter((l) => /^tick \d+$/.test(l.trim()));

test('terminal UI: probes and counts, pause, panes, filter, quit; nothing left loaded', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'tmux') || !requireTool(t, 'cc')) return;
  const target = buildTarget('target');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-tui-'));
  const script = path.join(dir, 'ticks.cap');
  fs.writeFileSync(
    script,
    `interval:ms:100 { @ticks = count(); printf("tick %d\\n", elapsed / 100000000); }
uprobe:${target}:add { @adds = count(); }
END { printf("END ran\\n"); }
`,
  );
  const tmux = new Tmux();
  t.after(() => tmux.kill());
  // add() runs about 500 times a second (slow_add sleeps 2 ms per round).
  const exitFile = startCapc(tmux, ['run', script, '-c', `${target} 1000000 2000`], dir);

  // The header names the script and the command, and counts each probe's hits.
  const first = await tmux.waitFor(/probes: i:ms:100 (\d+) · u:target-\w+:add (\d+(?:\.\d)?k?)/);
  assert.match(first.screen, /^capc {2}\S*ticks\.cap {2}-c target-\w+ 1000000 2000 .*● live/m);
  const later = await tmux.waitFor(/probes: i:ms:100 (\d+) · u:target-\w+:add (\d+(?:\.\d)?k?)/);
  await tmux.waitFor(new RegExp(`probes: i:ms:100 (?!${later.m[1]}\\b)\\d+`), 5000);
  await tmux.waitFor(/^tick \d+ *$/m);
  assert.match((await tmux.waitFor(/ring fill events/)).screen, /drops: events 0 events/);

  // Space pauses the view: the tail stops moving while new events are counted.
  tmux.keys('Space');
  const paused = await tmux.waitFor(/PAUSED \+\S+ new/);
  const frozen = eventsPane(paused.screen);
  await tmux.waitFor(/PAUSED \+([1-9]\d*(?:\.\d)?k?) new/, 5000);
  await new Promise((r) => setTimeout(r, 600));
  assert.deepEqual(eventsPane(tmux.screen()), frozen, 'the paused view does not move');
  tmux.keys('Space');
  await tmux.waitFor(/● live/);
  assert.doesNotMatch(tmux.screen(), /PAUSED/);

  // Tab: the maps pane, live; shift-tab back; 4: the probes pane with the kernel's statistics.
  tmux.keys('Tab');
  await tmux.waitFor(/\[2 Maps\][\s\S]*@adds: [1-9]\d*\n@ticks: [1-9]\d*/);
  tmux.keys('4');
  await tmux.waitFor(/\[4 Probes\][\s\S]*uprobe:target-\w+:add +\S+ +\S+ +[\d.]+ [nµm]?s/);
  tmux.keys('BTab', 'BTab', 'BTab');
  await tmux.waitFor(/\[1 Events\]/);

  // / filters the events pane.
  tmux.keys('/');
  await tmux.waitFor(/^\/▏/m);
  tmux.type('tick 1');
  tmux.keys('Enter');
  const filtered = await tmux.waitFor(/filter: tick 1/);
  const lines = eventsPane(filtered.screen);
  assert.ok(lines.length > 0 && lines.every((l) => l.startsWith('tick 1')), lines.join('\n'));
  tmux.keys('Escape');
  await tmux.waitFor(/space pause · \/ filter/);

  // Keys that mean nothing here are ignored.
  tmux.keys('c', 'z', 'Left', 'F5');
  await tmux.waitFor(/● live/);

  // q: the UI closes, END runs, the final maps print on the normal screen, exit 0.
  tmux.keys('q');
  assert.equal(await waitForExit(exitFile), 0);
  const end = tmux.screen();
  assert.match(end, /^END ran$/m);
  assert.match(end, /^@adds: [1-9]\d*$/m);
  assert.match(end, /^@ticks: [1-9]\d*$/m);
  assert.doesNotMatch(end, /\[1 Events\]/, 'the UI is gone from the normal screen');
  await assertNothingLoaded();
});

test('terminal UI: a script error is shown as in text mode, before any UI, exit 2', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'tmux')) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-tui-'));
  const tmux = new Tmux();
  t.after(() => tmux.kill());
  const exitFile = startCapc(tmux, ['run', '-e', 'tracepoint:syscalls:sys_enter_nope { @ = count(); }'], dir);
  assert.equal(await waitForExit(exitFile), 2);
  assert.match(tmux.screen(), /error\[E\d+\]: .*sys_enter_nope[\s\S]*nothing was loaded/);
  assert.doesNotMatch(tmux.screen(), /\[1 Events\]/);
});

test('terminal UI: Ctrl-C quits cleanly; too small a terminal gets a message; a short run prints its output; --no-tui gives text', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'tmux')) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-tui-'));
  const tmux = new Tmux();
  t.after(() => tmux.kill());
  const exitFile = startCapc(tmux, ['run', '-e', 'interval:ms:50 { @n = count(); }'], dir, 50, 10);
  await tmux.waitFor(/too small \(50×10\)/);
  tmux.resize(90, 26);
  await tmux.waitFor(/probes: i:ms:50 [1-9]/);
  tmux.keys('C-c');
  assert.equal(await waitForExit(exitFile), 0);
  assert.match(tmux.screen(), /^@n: [1-9]\d*$/m);
  await assertNothingLoaded();

  // A session that ends by itself prints, after the UI, what its events pane held: a short run reads as in text mode.
  const short = new Tmux();
  t.after(() => short.kill());
  fs.rmSync(exitFile);
  const exit1 = startCapc(
    short,
    [
      'run',
      '-e',
      'BEGIN { printf("hello from BEGIN\\n"); } interval:ms:300 { @n = count(); exit(); } END { printf("bye\\n"); }',
    ],
    dir,
  );
  assert.equal(await waitForExit(exit1), 0);
  assert.match(short.screen(), /^hello from BEGIN\nbye\n\n\n@n: 1$/m);
  await assertNothingLoaded();

  const plain = new Tmux();
  t.after(() => plain.kill());
  fs.rmSync(exitFile);
  const exit2 = startCapc(plain, ['run', '--no-tui', '-e', 'BEGIN { printf("plain\\n"); exit(); }'], dir);
  assert.equal(await waitForExit(exit2), 0);
  assert.match(plain.screen(), /^Attaching 1 probe\.\.\.\nplain\n/m);
});

test('terminal UI: a ring far too small shows its drops exactly, and the final warning gives the same count', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'tmux') || !requireTool(t, 'cc')) return;
  const target = buildTarget('target');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-tui-'));
  const tmux = new Tmux();
  t.after(() => tmux.kill());
  // Records of 2 KiB (strlen) in a 4 KiB ring: one fits at a time, so a burst of 20,000 calls must overflow it.
  const prog = `config = { strlen = 2048 }\nuprobe:${target}:add { printf("add %d %s\\n", arg1, str(arg0)); }`;
  const exitFile = startCapc(tmux, ['run', '--ringbuf-size', '4K', '-e', prog], dir);
  await tmux.waitFor(/probes: u:target-\w+:add 0/);
  execFileSync(target, ['20000']);
  // The statistics are sampled about once a second: wait until they include the whole burst,
  // then until the drop counter stops moving (two reads more than a sample apart).
  await tmux.waitFor(/probes: u:target-\w+:add 20(?:\.0)?k/);
  const drops = async () => Number((await tmux.waitFor(/drops: events ([\d,]+) events/)).m[1]!.replace(/,/g, ''));
  let shown = await drops();
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 1500));
    const now = await drops();
    if (now === shown && now > 0) break;
    shown = now;
  }
  assert.ok(shown > 0, `the UI shows drops (${shown})`);
  tmux.keys('q');
  assert.equal(await waitForExit(exitFile), 0);
  const m = /warning\[W0901\]: (\d+) events? lost: ring buffer \S+ was full/.exec(tmux.screen());
  assert.ok(m, tmux.screen());
  assert.equal(Number(m[1]), shown, 'the count the UI showed is the count of the final warning');
  await assertNothingLoaded();
});
