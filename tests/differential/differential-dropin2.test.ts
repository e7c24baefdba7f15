// tests/differential/differential-dropin2.test.ts — the cases of
// cases-dropin2.ts under bpftrace 0.17 and under capc, on the same workload,
// compared as differential.test.ts compares its cases. `$N` is the workload
// built at a fixed address (-no-pie), for uaddr().
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { requireKernel, requireTool } from '../support/kernel.js';
import { repoRoot } from '../support/paths.js';
import { buildTarget } from '../support/targets.js';
import { DROPIN2_CASES } from './cases-dropin2.js';
import { dropBlankLines, runBpftrace, runCapcTool, sortJsonTies, sortTies, type Invocation } from './harness.js';

function fill(s: string, w: string, fixed: string): string {
  return s
    .replaceAll('$W', w)
    .replaceAll('$N', fixed)
    .replaceAll('$T', path.join(repoRoot, 'tests', 'fixtures', 'targets'));
}

for (const c of DROPIN2_CASES) {
  test(`differential: ${c.name}`, async (t) => {
    if (!requireKernel(t) || !requireTool(t, 'bpftrace')) return;
    const w = buildTarget('workload');
    const fixed = buildTarget('workload', ['-no-pie']);
    const inv = (tool: 'bpftrace' | 'capc'): Invocation => ({
      program: c.program !== undefined ? fill(c.program, w, fixed) : undefined,
      command: c.command !== undefined ? fill(c.command, w, fixed) : undefined,
      flags: c.flags,
      capcFlags: c.capcFlags,
      env: tool === 'bpftrace' ? c.env : undefined,
    });
    const bt = await runBpftrace(inv('bpftrace'));
    assert.equal(bt.code, 0, `bpftrace failed (exit ${bt.code})\n${bt.stdout}\n${bt.stderr}`);
    const cp = await runCapcTool(inv('capc'));
    assert.equal(cp.code, 0, `capc failed (exit ${cp.code})\n${cp.stdout}\n${cp.stderr}`);
    for (const re of c.expect) assert.match(cp.stdout, re, `capc's output lacks ${re}\n${cp.stdout}`);
    for (const re of c.expectNot ?? []) assert.doesNotMatch(cp.stdout, re, `capc's output has ${re}\n${cp.stdout}`);
    const norm = (s: string, tool: 'bpftrace' | 'capc') => (c.normalize ? c.normalize(s, tool) : s);
    if (c.compare === 'json') {
      const a = sortJsonTies(dropBlankLines(norm(bt.stdout, 'bpftrace')));
      const b = sortJsonTies(dropBlankLines(norm(cp.stdout, 'capc')));
      assert.equal(b, a, 'the same JSON lines');
      return;
    }
    assert.equal(sortTies(norm(cp.stdout, 'capc')), sortTies(norm(bt.stdout, 'bpftrace')));
  });
}
