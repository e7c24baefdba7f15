// tests/kernel/capture-verifier.test.ts — the verifier rules for capture,
// proven on the real kernel: accumulate() loads for every N from 64 to 8192
// (and capture() too, with both sinks), and leaving out R2 (the 2N buffer) or
// R3 (the offset mask) — a lowering option only tests set, through the
// compiler API (tests/support/verifier.ts) — makes the kernel reject it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCapc } from '../support/capc.js';
import { requireKernel } from '../support/kernel.js';
import { loadIntoVerifier } from '../support/verifier.js';

const SIZES = [64, 128, 256, 512, 1024, 2048, 4096, 8192];

for (const n of SIZES) {
  test(`accumulate(conn, ${n}) on TLS and syscalls loads`, async (t) => {
    if (!requireKernel(t)) return;
    const prog = `uprobe:libssl:SSL_write, uprobe:libssl:SSL_read_ex accumulate(conn, ${n}) -> ringbuf
tracepoint:syscalls:sys_enter_write, tracepoint:syscalls:sys_enter_recvfrom accumulate(conn, ${n}) -> ringbuf`;
    const r = await runCapc(['check', '-e', prog]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /accepted by the kernel verifier/);
    assert.match(r.stdout, new RegExp(`state \\+ a ${2 * n}-byte buffer, 2N: R2`));
  });
}

test('capture() and the perfbuf sink load', async (t) => {
  if (!requireKernel(t)) return;
  for (const prog of [
    'uprobe:libssl:SSL_write capture(conn, 16) -> ringbuf',
    'uprobe:libssl:SSL_write capture(conn, 16384) -> ringbuf(16M)',
    'uprobe:libssl:SSL_write, uprobe:libssl:SSL_read accumulate(conn, 1024) -> perfbuf',
    'tracepoint:syscalls:sys_enter_sendto capture(args->fd, 512, args->buff, args->len, 0) -> ringbuf',
  ]) {
    const r = await runCapc(['check', '-e', prog]);
    assert.equal(r.code, 0, `${prog}\n${r.stderr}`);
  }
});

for (const rule of ['R2', 'R3'] as const) {
  test(`negative control: without ${rule} the kernel rejects accumulate()`, async (t) => {
    if (!requireKernel(t)) return;
    const prog = 'uprobe:libssl:SSL_write, uprobe:libssl:SSL_read accumulate(conn, 1024) -> ringbuf';
    const ok = await loadIntoVerifier(prog);
    assert.ok(ok.ok, ok.report);
    const r = await loadIntoVerifier(prog, { omitRules: [rule] });
    assert.equal(r.ok, false, 'loaded without the rule');
    assert.match(r.report, /error\[E0701\]: the kernel verifier rejected/);
    assert.match(
      r.report,
      rule === 'R2' ? /outside of the allowed memory range|invalid access to map value/ : /unbounded memory access/,
    );
  });
}
