// tests/kernel/language-loads.test.ts — every program of the language corpus
// compiles with clang and is accepted by the real kernel verifier, and the
// generated C is deterministic.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCapc } from '../support/capc.js';
import { requireKernel, requireSdt } from '../support/kernel.js';
import { buildTarget } from '../support/targets.js';
import { CORPUS } from '../fixtures/corpus.js';

for (const text of CORPUS) {
  test(`verifier accepts: ${text.replace(/\n/g, ' ').slice(0, 80)}`, async (t) => {
    if (!requireKernel(t)) return;
    if (text.includes('usdt:') && !requireSdt(t)) return;
    const program = text
      .replaceAll('/opt/app/target', buildTarget('target'))
      .replaceAll('/opt/app/workload', buildTarget('workload'));
    const r = await runCapc(['check', '-e', program]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  });
}

test('capc emit is deterministic', async (t) => {
  if (!requireKernel(t)) return;
  const prog =
    'tracepoint:sched:sched_switch { @[args->prev_comm, args->next_pid] = count(); printf("%s\\n", args->next_comm); }';
  const a = await runCapc(['emit', '-e', prog]);
  const b = await runCapc(['emit', '-e', prog]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
});
