// tests/e2e/bench-smoke.test.ts — every benchmark still runs end to end: one
// short round of each (BENCH_SMOKE=1, bench/run.ts) into a temporary file, so
// BENCHMARKS.md is not touched. Its numbers mean nothing and nothing here
// looks at them; what fails is a benchmark that throws, hangs or prints NaN.
// Twice a benchmark broke on main with nothing noticing (a removed option, a
// retired marker) until someone ran it for a measurement.
// test-lane: exclusive (the benchmarks saturate the machine and count drops)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { requireKernel } from '../support/kernel.js';
import { repoRoot } from '../support/paths.js';

test('every benchmark runs one short round and writes its section', { timeout: 900_000 }, async (t) => {
  if (!requireKernel(t)) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-bench-smoke-'));
  const out = path.join(dir, 'BENCHMARKS.md');
  try {
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts'], {
        cwd: repoRoot,
        env: { ...process.env, BENCH_SMOKE: '1', BENCH_OUT: out },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stderr }));
    });
    assert.equal(code, 0, `bench/run.ts failed:\n${stderr.slice(-4000)}`);
    const names = [...fs.readFileSync(path.join(repoRoot, 'bench/run.ts'), 'utf8').matchAll(/name: '([\w-]+)'/g)].map(
      (m) => m[1]!,
    );
    assert.ok(names.length >= 15, `found ${names.length} benchmarks in bench/run.ts`);
    for (const n of names) assert.match(stderr, new RegExp(`^bench: ${n} took \\d+ s$`, 'm'), `${n} did not finish`);
    const md = fs.readFileSync(out, 'utf8');
    assert.ok((md.match(/^## /gm) ?? []).length >= names.length, 'a section per benchmark');
    for (const bad of ['NaN', 'undefined', 'Infinity'])
      assert.ok(
        !md.includes(bad),
        `"${bad}" in the results:\n${md
          .split('\n')
          .filter((l) => l.includes(bad))
          .join('\n')}`,
      );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
