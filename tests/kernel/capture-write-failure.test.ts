// tests/kernel/capture-write-failure.test.ts — a stream file the capture
// thread cannot write (the file system is full: a 1 MiB tmpfs this test
// mounts and unmounts) stops capc with E0906 and exit code 1, naming the
// cause, for the native drain and for the JavaScript one it falls back to:
// a failed write is never silent and never leaves capc running without its
// files.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runCapc } from '../support/capc.js';
import { requireKernel, requireTool } from '../support/kernel.js';
import { freePort, onlyPeers, startUntil, testCert, tlsPeer } from '../support/tls.js';

for (const drain of ['native', 'js'] as const) {
  test(`a full file system stops capc with E0906 and exit 1 (${drain} drain)`, async (t) => {
    if (!requireKernel(t) || !requireTool(t, 'cc') || !requireTool(t, 'openssl')) return;
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-enospc-'));
    const mnt = path.join(work, 'small');
    const peers = path.join(work, 'peers');
    fs.mkdirSync(mnt);
    fs.mkdirSync(peers);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'capc-test-enospc', mnt]);
    try {
      const { cert, key } = testCert();
      const port = freePort();
      let capcPid = -1;
      const r = await runCapc(
        [
          'run',
          '-q',
          '-o',
          '/dev/null',
          '--write-streams',
          path.join(mnt, 'streams'),
          '-e',
          onlyPeers('uprobe:libssl:SSL_write accumulate(conn, 1024) -> ringbuf'),
        ],
        {
          env: drain === 'js' ? { CAPC_CAPTURE_DRAIN: 'js' } : { CAPC_CAPTURE_DRAIN: '' },
          timeoutMs: 90000,
          onAttached: async (pid) => {
            capcPid = pid;
            // ~16 MB each way, far more than the 1 MiB the files may take.
            const server = await startUntil(
              tlsPeer(),
              ['server', String(port), cert, key, peers, '1', '8', '3', 'big'],
              'listening',
            );
            const client = await startUntil(
              tlsPeer(),
              ['client', String(port), peers, '1', '8', '3', 'big'],
              undefined,
            );
            await Promise.all([server.exited, client.exited]);
            // capc should have stopped by itself; if it did not, stop it (the assertions below then fail).
            await new Promise((res) => setTimeout(res, 3000));
            try {
              process.kill(capcPid, 'SIGINT');
            } catch {
              /* already gone */
            }
          },
        },
      );
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /error\[E0906\]: the capture thread failed: .*no space left on device/i);
    } finally {
      execFileSync('umount', [mnt]);
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
}
