// tests/unit/grammar.test.ts — chevrotain's own checks of the grammar
// (ambiguities, left recursion), which capc skips at start-up for speed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CapParser } from '../../grammar/parser.js';

test('the grammar passes chevrotain self-analysis with validations on', () => {
  assert.doesNotThrow(() => new CapParser(undefined, true));
});
