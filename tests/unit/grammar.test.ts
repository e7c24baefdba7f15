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

test('a #! first line is skipped; # lines elsewhere at the top level are C preprocessor lines', () => {
  const lexer = new Lexer(lexerDefinition, { positionTracking: 'full', ensureOptimizations: false });
  const kinds = (text: string) => lexer.tokenize(text).tokens.map((t) => `${t.tokenType.name}:${t.image}`);
  const first = kinds('#!/usr/bin/env bpftrace\n#include <linux/in.h>\nBEGIN {}\n');
  assert.ok(!first.some((k) => k.includes('#!')), first.join(' '));
  assert.ok(first.includes('CPreproc:#include <linux/in.h>'), first.join(' '));
  // Not on the first line, `#!` is no shebang: a C line (clang then rejects it, E0321).
  assert.ok(kinds('BEGIN {}\n#!/x\n').includes('CPreproc:#!/x'));
  // A #define with a continuation is one line of C; after the first line, #! too.
  assert.ok(kinds('#define A \\\n  1\nBEGIN {}').includes('CPreproc:#define A \\\n  1'));
});
