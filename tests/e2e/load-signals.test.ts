// tests/e2e/load-signals.test.ts — loading a program while signals keep
// arriving. The kernel's verifier stops with EAGAIN whenever the loading
// thread has a signal pending and libbpf gives up after 5 tries, so a
// profiler's SIGPROF every 50 µs (node --cpu-prof) used to turn every large
// program into "E0701 rejected (no reason in the log)". capc holds the
// signals of its loading thread during the load (runtime/ffi/libbpf.ts,
// withSignalsHeld) and says "interrupted" rather than "rejected" if a load
// still ends with EAGAIN or EINTR.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runCapc } from '../support/capc.js';
import { requireKernel } from '../support/kernel.js';

const profiled = (dir: string) => [process.execPath, '--cpu-prof', '--cpu-prof-interval', '50', '--cpu-prof-dir', dir];

test('a large program loads while a profiler signals capc every 50 µs', async (t) => {
  if (!requireKernel(t)) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-prof-'));
  try {
    // tls-all: every TLS stack's probes, captures with accumulate (the verifier's longest load among the examples).
    for (const example of ['tls-all', 'socket-capture']) {
      const r = await runCapc(['run', '-q', `examples/${example}.cap`, '-c', 'true'], { wrap: profiled(dir) });
      assert.equal(r.code, 0, `${example}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /E07\d\d/);
      assert.ok(r.programIds.length > 0, 'the run said which programs it loaded');
    }
    // The profile was written: the profiler really ran during the load.
    assert.ok(fs.readdirSync(dir).some((f) => f.endsWith('.cpuprofile')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
