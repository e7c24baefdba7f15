// tests/kernel/examples.test.ts — every example in examples/ compiles with
// clang and is accepted by the real kernel verifier (`capc check`).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runCapc } from '../support/capc.js';
import { requireKernel } from '../support/kernel.js';
import { repoRoot } from '../support/paths.js';
import { buildTarget } from '../support/targets.js';

const examples = fs
  .readdirSync(path.join(repoRoot, 'examples'))
  .filter((f) => f.endsWith('.cap'))
  .sort();

test('there are examples to check', () => {
  assert.ok(examples.length >= 5, `found ${examples.length}`);
});

for (const ex of examples) {
  test(`examples/${ex} passes the kernel verifier`, async (t) => {
    if (!requireKernel(t)) return;
    // Examples that take a binary as $1 get the test target; packet examples an interface (lo is in every namespace).
    const text = fs.readFileSync(path.join(repoRoot, 'examples', ex), 'utf8');
    const arg = /\b(?:xdp|tc):\$1/.test(text) ? 'lo' : buildTarget('target');
    const r = await runCapc(['check', `examples/${ex}`, arg]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /accepted by the kernel verifier/);
  });
}
