// tests/unit/syscall-form.test.ts — syscall tracepoints as raw tracepoints,
// without the kernel: the numbers read from the UAPI header (the entry-point
// renames of x86_64), which probes each --tracepoints form runs raw, and the
// record each dispatcher rebuilds (tests/kernel/syscall-raw.test.ts loads and
// runs them).
import assert from 'node:assert/strict';
import test from 'node:test';
import { compile } from '../../compiler/compile.js';
import type { Host } from '../../compiler/host.js';
import { parseUnistd } from '../../runtime/host/syscall-numbers.js';
import { fixtureHost } from '../fixtures/fixture-host.js';

const src = (text: string) => ({ name: 't.cap', text });

test('syscall numbers: __NR_ names, renamed to the tracepoint an x86_64 entry point is named after', () => {
  const n = parseUnistd(
    '#define __NR_read 0\n#define __NR_stat 4\n#define __NR_openat 257\n#define __NR_umount2 166\n',
  );
  assert.deepEqual(n, { read: 0, newstat: 4, openat: 257, umount: 166 });
  // The old stat (ia32 only) has no 64-bit number: sys_enter_stat is not sys_enter_newstat.
  assert.equal((n as Record<string, number>).stat, undefined);
});

const forms = (text: string, tracepoints?: 'perf' | 'raw' | 'auto', host: Host = fixtureHost) => {
  const r = compile(src(text), host, tracepoints ? { tracepoints } : {});
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  return r.output!.manifest.probes.map((p) => [p.name, p.program, p.attach.kind === 'tracepoint' ? p.attach.via : '']);
};

test('--tracepoints: auto and raw run syscall probes from their raw tracepoint, perf keeps perf events', () => {
  const prog =
    'tracepoint:syscalls:sys_enter_openat, tracepoint:syscalls:sys_exit_read { @[probe] = count(); } tracepoint:sched:sched_switch { }';
  const raw = [
    ['tracepoint:syscalls:sys_enter_openat', 'capc_sys_enter', 'sys_enter'],
    ['tracepoint:syscalls:sys_exit_read', 'capc_sys_exit', 'sys_exit'],
    // Not a syscall tracepoint: a perf event always.
    ['tracepoint:sched:sched_switch', 'capc_p2', undefined],
  ];
  assert.deepEqual(forms(prog), raw);
  assert.deepEqual(forms(prog, 'raw'), raw);
  assert.deepEqual(forms(prog, 'perf'), [
    ['tracepoint:syscalls:sys_enter_openat', 'capc_p0', undefined],
    ['tracepoint:syscalls:sys_exit_read', 'capc_p1', undefined],
    ['tracepoint:sched:sched_switch', 'capc_p2', undefined],
  ]);
});

test('auto keeps a probe that reads kstack a perf event (its top frames name the path that ran it)', () => {
  assert.deepEqual(forms('tracepoint:syscalls:sys_enter_openat { @[kstack] = count(); }'), [
    ['tracepoint:syscalls:sys_enter_openat', 'capc_p0', undefined],
  ]);
  assert.deepEqual(forms('tracepoint:syscalls:sys_enter_openat { @[kstack] = count(); }', 'raw'), [
    ['tracepoint:syscalls:sys_enter_openat', 'capc_sys_enter', 'sys_enter'],
  ]);
});

test('a syscall whose number the host does not know: a perf event under auto, E0413 under raw', () => {
  const host: Host = { ...fixtureHost, syscallNumbers: () => ({ read: 0 }) };
  const text = 'tracepoint:syscalls:sys_enter_openat, tracepoint:syscalls:sys_enter_read { }';
  assert.deepEqual(forms(text, 'auto', host), [
    ['tracepoint:syscalls:sys_enter_openat', 'capc_p0', undefined],
    ['tracepoint:syscalls:sys_enter_read', 'capc_sys_enter', 'sys_enter'],
  ]);
  const r = compile(src(text), host, { tracepoints: 'raw' });
  assert.equal(r.ok, false);
  assert.deepEqual(
    r.diagnostics.map((d) => d.code),
    ['E0413'],
  );
  assert.match(r.diagnostics[0]!.message, /sys_enter_openat as a raw tracepoint/);
});

test('the dispatcher calls every probe of a syscall in script order, once per syscall, the record rebuilt whole', () => {
  const r = compile(
    src(
      'tracepoint:syscalls:sys_enter_openat { @a = count(); } tracepoint:syscalls:sys_enter_close { @b = count(); } tracepoint:syscalls:sys_enter_openat { @c = count(); }',
    ),
    fixtureHost,
  );
  assert.ok(r.ok);
  const c = r.output!.c;
  const openat = c.slice(c.indexOf('if (nr == 257)'));
  const calls = [...openat.matchAll(/(capc_p\d)\(\(struct/g)].map((m) => m[1]);
  assert.deepEqual(calls.slice(0, 2), ['capc_p0', 'capc_p2']);
  // Each argument register whole, at its field's offset (x86_64: di, si, dx, r10).
  assert.match(openat, /rec\[2\] = \(__u64\)regs->di;[^\n]*dfd/);
  assert.match(openat, /rec\[5\] = \(__u64\)regs->r10;[^\n]*mode/);
  // The compat check comes once the number matched: untraced syscalls pay the compares only.
  assert.ok(openat.indexOf('TS_COMPAT') < 0 && openat.indexOf('thread_info.status & 2') < openat.indexOf('rec[0]'));
  assert.equal([...c.matchAll(/SEC\("tp_btf\/sys_enter"\)/g)].length, 1);
});
