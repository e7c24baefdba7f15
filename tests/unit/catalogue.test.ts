// tests/unit/catalogue.test.ts — every diagnostic code is documented in
// docs/errors.md, and the page documents no code that does not exist.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CATALOGUE } from '../../diagnostics/catalogue.js';
import { repoRoot } from '../support/paths.js';

test('docs/errors.md documents exactly the codes in the catalogue', () => {
  const doc = fs.readFileSync(path.join(repoRoot, 'docs', 'errors.md'), 'utf8');
  const documented = new Set([...doc.matchAll(/^### ([EWN]\d{4})$/gm)].map((m) => m[1]));
  const codes = new Set(Object.keys(CATALOGUE));
  assert.deepEqual(
    [...codes].filter((c) => !documented.has(c)),
    [],
    'codes missing from docs/errors.md',
  );
  assert.deepEqual(
    [...documented].filter((c) => !codes.has(c!)),
    [],
    'documented codes that do not exist',
  );
});

test('severities follow the code letter', () => {
  for (const [code, e] of Object.entries(CATALOGUE)) {
    assert.equal(e.severity, code.startsWith('E') ? 'error' : code.startsWith('W') ? 'warning' : 'note', code);
  }
});
