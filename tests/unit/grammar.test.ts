// tests/unit/grammar.test.ts — chevrotain's own checks of the grammar
// (ambiguities at the parser's lookahead, left recursion) and of the token
// definitions (unreachable or conflicting patterns), which capc skips at
// start-up for speed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Lexer } from 'chevrotain';
import { CapParser } from '../../grammar/parser.js';
import { lexerDefinition } from '../../grammar/tokens.js';

test('the grammar passes chevrotain self-analysis with validations on', () => {
  assert.doesNotThrow(() => new CapParser(undefined, true));
});

test('the token definitions pass chevrotain lexer validations', () => {
  const lexer = new Lexer(lexerDefinition, {
    positionTracking: 'full',
    ensureOptimizations: false,
    recoveryEnabled: true,
    skipValidations: false,
  });
  assert.deepEqual(lexer.lexerDefinitionErrors, []);
});
