// tests/kernel/dropin2-loads.test.ts — the kernel verifier accepts what the
// second half of the bpftrace drop-in (issue 14) compiles to: strncmp() and
// strcontains() on strings read at run time and against literals (the
// branch-light helpers of stdlib/capc-strings.bpf.h, inside loops too),
// pton() compared with address fields, uaddr() in a PIE and a fixed-address
// binary, cgroupid(), cat() and system(), resolved values as map values, and
// every helper check -k and -kk add. Each program is also loaded without -k,
// so the checks cost nothing when not asked for.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compile } from '../../compiler/compile.js';
import { systemHost } from '../../runtime/host/system-host.js';
import { requireKernel } from '../support/kernel.js';
import { buildTarget } from '../support/targets.js';
import { loadIntoVerifier } from '../support/verifier.js';

const PROGRAMS: { name: string; text: (w: string, fixed: string) => string }[] = [
  {
    name: 'strncmp and strcontains on run-time strings, literals, comm, in a loop',
    text: () =>
      'tracepoint:syscalls:sys_enter_openat { $f = str(args->filename); $i = 0; while ($i < 4) { if (strcontains($f, "passwd") && strncmp($f, "/etc", 4) == 0 && !strcontains($f, comm) && strncmp(comm, $f, 200) != 0) { @n[$f] = count(); } $i++; } }',
  },
  {
    name: 'strcontains of a literal haystack and a run-time needle; strncmp of two literals',
    text: () =>
      'tracepoint:syscalls:sys_enter_openat { printf("%d %d %d\\n", strcontains("/etc/hostname", str(args->filename)), strcontains(comm, ""), strncmp("ab", "ac", 1)); }',
  },
  {
    name: 'pton() against IPv4 and IPv6 address fields, ntop() of it, its bytes by index',
    text: () =>
      'tracepoint:sock:inet_sock_set_state /args->saddr == pton("127.0.0.1") || args->saddr_v6 != pton("::1")/ { $a = pton("10.0.0.1"); printf("%s %d %d\\n", ntop($a), $a[args->family % 4], pton("::ffff:1.2.3.4")[15]); }',
  },
  {
    name: 'uaddr() in a position-independent binary (from the uprobe address) and a fixed-address one',
    text: (w, fixed) =>
      `uprobe:${w}:fn_add { printf("%lx %r\\n", uaddr("sink"), buf(uaddr("WORDS"), 8)); } uprobe:${fixed}:fn_add, uretprobe:${fixed}:fn_add { printf("%lx\\n", uaddr("sink")); }`,
  },
  {
    name: 'cgroupid() compared with cgroup',
    text: () => 'tracepoint:syscalls:sys_enter_getpid /cgroup == cgroupid("/sys/fs/cgroup/unified")/ { @ = count(); }',
  },
  {
    name: 'cat() and system() records',
    text: () =>
      'tracepoint:syscalls:sys_enter_getpid { cat("/proc/%d/status", pid); system("echo %s %d", comm, tid); }',
  },
  {
    name: 'stacks, symbols, addresses and times as map values, read back and used as keys',
    text: () =>
      'tracepoint:syscalls:sys_enter_getppid { @s[tid] = kstack(5); @k[tid] = ksym(kaddr("__x64_sys_getppid")); @n = ntop(0x0100007f); @t = strftime("%H", nsecs); @c = cgroup_path(cgroup); @m = macaddr(kaddr("__x64_sys_getppid")); printf("%s %s\\n", @s[tid], @k[tid]); @again[@s[tid]] = count(); print(kstack(2)); print(@n); }',
  },
  {
    name: 'every helper check: map updates of each kind, deletes, stacks, signal, probe reads',
    text: (w) =>
      `uprobe:${w}:fn_str { @c[tid] = count(); @s = sum(arg1); @a = avg(arg1); @mi = min(arg1); @h = hist(arg1); @v[tid] = arg1; @v[tid] += 2; @v[tid]++; @str[tid] = str(arg0); @st[tid] = ustack(3); @ks[kstack(2)] = count(); delete(@v[tid]); printf("%s %s %r\\n", str(arg0), str(arg0, arg1 % 4), buf(arg0, arg1)); signal(arg1 % 2 + 100); }`,
  },
];

const workloads = () => ({ pie: buildTarget('workload'), fixed: buildTarget('workload', ['-no-pie']) });

for (const p of PROGRAMS) {
  for (const level of [0, 1, 2]) {
    test(`verifier accepts${level ? ` with -${'k'.repeat(level)}` : ''}: ${p.name}`, async (t) => {
      if (!requireKernel(t)) return;
      const w = workloads();
      const r = await loadIntoVerifier(p.text(w.pie, w.fixed), { unsafe: true, helperChecks: level });
      assert.ok(r.ok, r.report);
    });
  }
}

test('-k adds checks only where asked: none without it, map and signal checks with -k, probe reads with -kk', (t) => {
  if (!requireKernel(t)) return;
  const text = PROGRAMS.at(-1)!.text(workloads().pie, '');
  const checks = (level: number) => {
    const r = compile({ name: '-e', text }, systemHost(), { unsafe: true, helperChecks: level });
    assert.ok(r.ok && r.output, JSON.stringify(r.diagnostics));
    const helpers = r.output.manifest.events.filter((e) => e.kind === 'helper_error').map((e) => e.helper);
    return { helpers: [...new Set(helpers)].sort(), calls: (r.output.c.match(/capc_helper_error\(/g) ?? []).length };
  };
  const none = checks(0);
  assert.deepEqual(none, { helpers: [], calls: 0 }, 'without -k the program has no check at all');
  assert.deepEqual(checks(1).helpers, ['get_stackid', 'map_delete_elem', 'map_update_elem', 'send_signal']);
  assert.deepEqual(checks(2).helpers, [
    'get_stackid',
    'map_delete_elem',
    'map_update_elem',
    'probe_read_user',
    'probe_read_user_str',
    'send_signal',
  ]);
});
