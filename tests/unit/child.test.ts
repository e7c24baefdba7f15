// tests/unit/child.test.ts — how -c splits a command line into words.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitCommand } from '../../runtime/session/child.js';

test('words split on whitespace; quotes and backslashes work as in sh', () => {
  assert.deepEqual(splitCommand('cat /etc/hostname'), ['cat', '/etc/hostname']);
  assert.deepEqual(splitCommand("  sh -c 'echo a  b | wc -c'  "), ['sh', '-c', 'echo a  b | wc -c']);
  assert.deepEqual(splitCommand('printf "%s\\n" "a \\"q\\""'), ['printf', '%s\\n', 'a "q"']);
  assert.deepEqual(splitCommand('a\\ b c'), ['a b', 'c']);
  assert.deepEqual(splitCommand("x ''"), ['x', '']);
  assert.deepEqual(splitCommand('x""y'), ['xy']);
});

test('unterminated quotes are usage errors', () => {
  assert.throws(() => splitCommand("echo 'oops"), /unterminated '/);
  assert.throws(() => splitCommand('echo "oops'), /unterminated "/);
});
