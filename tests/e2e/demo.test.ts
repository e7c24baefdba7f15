// tests/e2e/demo.test.ts — the README's first command ends in `npm run demo`
// (bin/demo): it must finish with exit 0 and show each part of the tour. A
// pipe closed early under `set -o pipefail` once made it fail at random.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { requireKernel, requireTool } from '../support/kernel.js';
import { repoRoot } from '../support/paths.js';

test('bin/demo runs the whole tour and exits 0', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'curl') || !requireTool(t, 'openssl') || !requireTool(t, 'cc')) return;
  const r = await new Promise<{ code: number; out: string }>((resolve) => {
    execFile(
      'bin/demo',
      [],
      { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
      },
    );
  });
  assert.equal(r.code, 0, r.out);
  assert.match(
    r.out,
    /^>>> conn 1 curl\[\d+\] 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ egress \d+ bytes at 0\nGET \/ HTTP\/1\.1\\r$/m,
    'the TLS plaintext of the request',
  );
  assert.match(r.out, /^HTTP\/1\.0 200 ok\\r$/m, 'and of the response');
  assert.match(r.out, /^\d+ +cat +\/\S+$/m, 'opensnoop saw cat open files');
  assert.match(r.out, /^@syscalls\[[^\]]+\]: \d+$/m, 'syscount printed its map');
  assert.match(r.out, /^slow_add returned 4 after \d+ us$/m, 'the uprobe/uretprobe pair timed the call');
});
