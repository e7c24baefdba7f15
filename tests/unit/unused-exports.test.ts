// tests/unit/unused-exports.test.ts — nothing is exported that nobody imports,
// no source file is unreachable, no dependency unused (knip, config in
// knip.json; the same check as `npm run lint:exports`). An export used only
// by tests counts as used. Fix by deleting what is unused, or by removing
// `export` from what is used only in its own file.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../support/paths.js';

test('no unused exports, files or dependencies (knip)', () => {
  const bin = path.join(repoRoot, 'node_modules/.bin/knip');
  let out = '';
  try {
    execFileSync(bin, ['--include', 'exports,types,files,dependencies,duplicates', '--no-progress'], {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    out = String((e as { stdout?: string }).stdout ?? e);
  }
  assert.equal(out.trim(), '', `unused (npm run lint:exports):\n${out}`);
});
