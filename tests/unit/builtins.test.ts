// tests/unit/builtins.test.ts — the builtin table (compiler/builtins/): every
// entry is documented in docs/language.md (a table row naming it as called),
// says how it is called, and is offered by E0202's list of functions; a call
// with the wrong number of arguments gets the entry's usage.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { BUILTINS } from '../../compiler/builtins/index.js';
import { FUNCTIONS } from '../../compiler/2-analyze/check-call.js';
import { compile } from '../../compiler/compile.js';
import { fixtureHost } from '../fixtures/fixture-host.js';
import { repoRoot } from '../support/paths.js';

const doc = fs.readFileSync(path.join(repoRoot, 'docs', 'language.md'), 'utf8');

for (const b of BUILTINS.values()) {
  test(`builtin ${b.name}: documented, with its usage, in the function list`, () => {
    assert.match(
      doc,
      new RegExp(`^\\|[^\\n]*\`${b.name}\\(`, 'm'),
      `docs/language.md has no table row for ${b.name}()`,
    );
    assert.ok(b.usage.startsWith(`${b.name}(`), b.usage);
    assert.ok(b.doc.startsWith(`${b.name}(`), b.doc);
    assert.equal(FUNCTIONS[b.name], b.doc);
  });
}

test('a table builtin with too many arguments reports its usage (E0301)', () => {
  const r = compile({ name: 't.cap', text: 'BEGIN { printf("%d\\n", bswap(1, 2)); exit(); }' }, fixtureHost);
  const d = r.diagnostics.find((x) => x.code === 'E0301');
  assert.ok(d, JSON.stringify(r.diagnostics));
  assert.equal(d.message, 'bswap() takes 1 argument, got 2');
  assert.deepEqual(d.hints, ['usage: bswap(n)']);
});
