// tests/kernel/identity-verifier.test.ts — every piece of connection identity
// loads into the real verifier: the CO-RE walk from an fd to its socket (inet,
// inet6, unix paths), the per-thread marks and the syscall learners of
// OpenSSL, SSL_set_fd, identity records on both sinks and with the smallest
// capture() records, predicates in three-valued form, identity values in
// printf and map keys, writes captured at entry, and probes that only read
// the identity (no capture).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCapc } from '../support/capc.js';
import { requireKernel } from '../support/kernel.js';

const PROGRAMS: Record<string, string> = {
  'OpenSSL capture with a predicate on every builtin': `uprobe:libssl:SSL_write, uprobe:libssl:SSL_read, uprobe:libssl:SSL_write_ex, uprobe:libssl:SSL_read_ex
  /(rport == 5432 || lport == 5432) && raddr != "10.0.0.0/8" && laddr == "::1" || !(raddr == "fe80::/10") && fd >= 0/
  accumulate(conn, 1024) -> ringbuf`,
  'syscall capture: identity in printf, map keys and ntop()': `tracepoint:syscalls:sys_enter_write, tracepoint:syscalls:sys_enter_read, tracepoint:syscalls:sys_enter_sendto, tracepoint:syscalls:sys_enter_recvfrom
  /raddr == "127.0.0.1" || rport != 0/ {
    accumulate(conn, 2048) -> ringbuf;
    @by[raddr, rport, laddr, lport, fd] = sum(len);
    printf("%s:%d -> %s:%d fd %d\\n", ntop(laddr), lport, raddr, rport, fd);
  }`,
  'identity only, no capture (OpenSSL and syscalls)': `uprobe:libssl:SSL_read /rport == 443/ { @tls[comm, raddr] = count(); }
tracepoint:syscalls:sys_enter_recvfrom /lport == 53/ { @dns[raddr] = count(); }`,
  'writes captured at entry, reads at return': `config = { capture_writes_at_entry = 1 }
uprobe:libssl:SSL_write, uprobe:libssl:SSL_read /rport == 443/ accumulate(conn, 1024) -> ringbuf`,
  'perfbuf sink: identity records through perf':
    'uprobe:libssl:SSL_write, uprobe:libssl:SSL_read accumulate(conn, 1024) -> perfbuf',
  'capture(conn, 16): the per-CPU record buffer grows to hold an identity record':
    'uprobe:libssl:SSL_write capture(conn, 16) -> ringbuf\ntracepoint:syscalls:sys_enter_write capture(conn, 16) -> ringbuf',
  'both families, one program': `uprobe:libssl:SSL_write, uprobe:libssl:SSL_read accumulate(conn, 4096) -> ringbuf
tracepoint:syscalls:sys_enter_sendto, tracepoint:syscalls:sys_enter_recvfrom /raddr == "::1"/ accumulate(conn, 4096) -> ringbuf`,
};

for (const [name, prog] of Object.entries(PROGRAMS)) {
  test(`identity loads: ${name}`, async (t) => {
    if (!requireKernel(t)) return;
    const r = await runCapc(['check', '-e', prog]);
    assert.equal(r.code, 0, `${prog}\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /accepted by the kernel verifier/);
  });
}

test('OpenSSL identity adds SSL_set_fd and one raw tracepoint on syscall entry', async (t) => {
  if (!requireKernel(t)) return;
  const r = await runCapc([
    'check',
    '-e',
    'uprobe:libssl:SSL_write, uprobe:libssl:SSL_read accumulate(conn, 1024) -> ringbuf',
  ]);
  assert.equal(r.code, 0, r.stderr);
  // 4 pairs (SSL_write and SSL_read cover their _ex siblings), SSL_shutdown, SSL_free, the -c/-p tree's
  // fork and exit, TLS discovery's exec watcher and call counter, and identity's SSL_set_fd and raw_tp/sys_enter.
  assert.match(r.stdout, /ok: 16 probes accepted by the kernel verifier/);
  const m = await runCapc(['emit', '--manifest', '-e', 'uprobe:libssl:SSL_write accumulate(conn, 1024) -> ringbuf']);
  const manifest = JSON.parse(m.stdout) as { probes: { role: string; name: string }[] };
  assert.deepEqual(
    manifest.probes.filter((p) => p.role === 'identity').map((p) => p.name.split(':').pop()),
    ['SSL_set_fd', 'sys_enter'],
  );
});
