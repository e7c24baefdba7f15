// tests/unit/format.test.ts — the code is kept in one format (prettier, config
// in .prettierrc.json): a file that differs fails here with its name. Fix with
// `npm run format`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../support/paths.js';

test('every source file is formatted (npm run format)', () => {
  const bin = path.join(repoRoot, 'node_modules/.bin/prettier');
  let out = '';
  try {
    execFileSync(bin, ['--list-different', '.'], {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    out = String((e as { stdout?: string }).stdout ?? e);
  }
  assert.equal(out.trim(), '', `not formatted (run npm run format):\n${out}`);
});
