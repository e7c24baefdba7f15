// tests/ui/view-state.test.ts — every key of the terminal UI as a pure state
// change: pane switching, pause, scrolling, the filter prompt, pane-specific
// keys (ignored elsewhere), quitting.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initialView, onKey, type KeyContext, type KeyInfo, type ViewState } from '../../runtime/ui/view-state.js';

const ctx: KeyContext = { page: 10, maxScroll: 100, streamIds: [3, 5, 9] };
const press = (s: ViewState, input: string, key: KeyInfo = {}, c = ctx) => onKey(s, input, key, c);

test('tab and shift-tab cycle the panes; 1-5 jump', () => {
  let s = initialView();
  s = press(s, '', { tab: true }).state;
  assert.equal(s.pane, 'maps');
  s = press(s, '', { tab: true }).state;
  s = press(s, '', { tab: true }).state;
  s = press(s, '', { tab: true }).state;
  assert.equal(s.pane, 'queries');
  s = press(s, '', { tab: true }).state;
  assert.equal(s.pane, 'events');
  s = press(s, '', { tab: true, shift: true }).state;
  assert.equal(s.pane, 'queries');
  assert.equal(press(s, '3').state.pane, 'streams');
  assert.equal(press(s, '4').state.pane, 'probes');
  assert.equal(press(s, '5').state.pane, 'queries');
});

test('space freezes and thaws the view', () => {
  const a = press(initialView(), ' ');
  assert.equal(a.state.paused, true);
  assert.deepEqual(a.effects, ['freeze']);
  const b = press(a.state, ' ');
  assert.equal(b.state.paused, false);
  assert.deepEqual(b.effects, ['thaw']);
});

test('scrolling back in the events pane freezes it; coming back to the end thaws it', () => {
  const up = press(initialView(), '', { upArrow: true });
  assert.equal(up.state.scroll.events, 1);
  assert.equal(up.state.paused, true);
  assert.deepEqual(up.effects, ['freeze']);
  const pg = press(up.state, '', { pageUp: true });
  assert.equal(pg.state.scroll.events, 10);
  const down = press(pg.state, 'G');
  assert.equal(down.state.scroll.events, 0);
  assert.equal(down.state.paused, false);
  assert.deepEqual(down.effects, ['thaw']);
  // Scrolling is clamped to the content.
  assert.equal(press(initialView(), 'g', {}, { ...ctx, maxScroll: 7 }).state.scroll.events, 7);
  const nothing = initialView();
  assert.equal(press(nothing, '', { upArrow: true }, { ...ctx, maxScroll: 0 }).state, nothing);
});

test('a pause by space survives scrolling back to the end', () => {
  let s = press(initialView(), ' ').state;
  s = press(s, 'k').state;
  s = press(s, 'j').state;
  assert.equal(s.paused, true);
});

test('/ opens the filter prompt: typing, backspace, Enter applies, Esc cancels, Esc clears', () => {
  let s = press(initialView(), '/').state;
  assert.equal(s.editing, '');
  for (const ch of 'tick 1x') s = press(s, ch).state;
  s = press(s, '', { backspace: true }).state;
  assert.equal(s.editing, 'tick 1');
  // Keys that are commands elsewhere are text here.
  s = press(s, 'q').state;
  assert.equal(s.quitting, false);
  s = press(s, '', { delete: true }).state;
  s = press(s, '', { return: true }).state;
  assert.equal(s.filter, 'tick 1');
  assert.equal(s.editing, undefined);
  const cancelled = press(press(s, '/').state, 'zzz');
  assert.equal(press(cancelled.state, '', { escape: true, meta: true }).state.filter, 'tick 1');
  assert.equal(press(s, '', { escape: true, meta: true }).state.filter, '');
});

test('x toggles hex only where there are payloads; c clears maps only in the maps pane', () => {
  const events = initialView();
  assert.equal(press(events, 'x').state.hex, true);
  const maps = { ...events, pane: 'maps' as const };
  assert.equal(press(maps, 'x').state, maps);
  assert.deepEqual(press(maps, 'c').effects, ['clear-maps']);
  assert.deepEqual(press(events, 'c').effects, []);
  assert.equal(press(events, 'c').state, events);
});

test('keys that do nothing leave the state untouched', () => {
  const s = initialView();
  for (const [input, key] of [
    ['z', {}],
    ['', { leftArrow: true }],
    ['', { return: true }],
    ['u', { ctrl: true }],
    ['', { escape: true, meta: true }],
  ] as [string, KeyInfo][]) {
    const r = press(s, input, key);
    assert.equal(r.state, s, `key ${JSON.stringify([input, key])}`);
    assert.deepEqual(r.effects, []);
  }
});

test('streams: arrows select, Enter opens, Esc closes, the conversation scrolls', () => {
  let s: ViewState = { ...initialView(), pane: 'streams' };
  s = press(s, 'j').state;
  s = press(s, 'j').state;
  s = press(s, 'j').state;
  assert.equal(s.selected, 2);
  s = press(s, '', { return: true }).state;
  assert.equal(s.open, 9);
  s = press(s, '', { downArrow: true }).state;
  assert.equal(s.scroll.conversation, 1);
  s = press(s, '', { escape: true, meta: true }).state;
  assert.equal(s.open, undefined);
  const empty = { ...initialView(), pane: 'streams' as const };
  assert.equal(press(empty, '', { return: true }, { ...ctx, streamIds: [] }).state, empty);
});

test('q and Ctrl-C quit once; ? shows help and any key closes it', () => {
  assert.deepEqual(press(initialView(), 'q').effects, ['quit']);
  const c = press(initialView(), 'c', { ctrl: true });
  assert.deepEqual(c.effects, ['quit']);
  assert.deepEqual(press(c.state, 'q').effects, []);
  const help = press(initialView(), '?').state;
  assert.equal(help.help, true);
  assert.equal(press(help, 'z').state.help, false);
  assert.deepEqual(press(help, 'q').effects, ['quit']);
  assert.deepEqual(press({ ...initialView(), editing: 'ab' }, 'c', { ctrl: true }).effects, ['quit']);
});
