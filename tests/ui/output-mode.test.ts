// tests/ui/output-mode.test.ts — the output mode is chosen once: the UI only
// for a person at a terminal; -f, -o, --no-tui, pipes, CI and TERM=dumb give
// plain output.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseOutputMode, colorAllowed, isCI } from '../../runtime/cli/output-mode.js';

const tty = { stdoutIsTTY: true, stdinIsTTY: true, tui: true, env: { TERM: 'xterm-256color' } };

test('a terminal gets the UI', () => {
  assert.equal(chooseOutputMode(tty).mode, 'ui');
});

test('everything else gets text or JSON', () => {
  assert.equal(chooseOutputMode({ ...tty, format: 'json' }).mode, 'json');
  assert.equal(chooseOutputMode({ ...tty, format: 'text' }).mode, 'text');
  assert.equal(chooseOutputMode({ ...tty, outputFile: true }).mode, 'text');
  assert.equal(chooseOutputMode({ ...tty, tui: false }).mode, 'text');
  assert.equal(chooseOutputMode({ ...tty, stdoutIsTTY: undefined }).mode, 'text');
  assert.equal(chooseOutputMode({ ...tty, stdinIsTTY: false }).mode, 'text');
  assert.equal(chooseOutputMode({ ...tty, env: { CI: 'true' } }).mode, 'text');
  assert.equal(chooseOutputMode({ ...tty, env: { TERM: 'dumb' } }).mode, 'text');
  assert.equal(chooseOutputMode({ ...tty, format: 'json', stdoutIsTTY: false }).mode, 'json');
});

test('CI as Ink sees it; NO_COLOR as no-color.org defines it', () => {
  assert.equal(isCI({ CI: '1' }), true);
  assert.equal(isCI({ CI: '' }), true);
  assert.equal(isCI({ CI: 'false' }), false);
  assert.equal(isCI({ CI: '0' }), false);
  assert.equal(isCI({ CONTINUOUS_INTEGRATION: 'yes' }), true);
  assert.equal(isCI({}), false);
  assert.equal(colorAllowed({}), true);
  assert.equal(colorAllowed({ NO_COLOR: '1' }), false);
  assert.equal(colorAllowed({ NO_COLOR: '' }), true);
});
