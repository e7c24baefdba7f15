// tests/e2e/uprobe-symbols.test.ts — uprobes on functions whose symbols
// libbpf 1.1 cannot place, on the real kernel: glibc's versioned
// pthread_create (two global symbols, one address: libbpf said "Unknown
// error 4001"), the same function through libpthread.so.0, the stub glibc
// 2.34 left (W0103: probed in libc, as threadsnoop.bt needs), IFUNCs (strlen,
// memcpy: probed where their resolver sends calls on this machine; memcpy's
// default version, not the old memcpy@GLIBC_2.2.5 no program calls), and an
// IFUNC capc cannot resolve, refused with a reason (E0414, when the program
// is compiled) rather than "No such file or directory".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCapc } from '../support/capc.js';
import { requireKernel } from '../support/kernel.js';
import { buildTarget } from '../support/targets.js';

const THREADS = 4;

test('uprobe:libc:pthread_create fires once per thread started', async (t) => {
  if (!requireKernel(t)) return;
  const target = buildTarget('threads', ['-lpthread']);
  const r = await runCapc(
    ['run', '-q', '-e', 'uprobe:libc:pthread_create /pid == cpid/ { @n = count(); }', '-c', `${target} ${THREADS}`],
    { checkLeaks: true },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`@n: ${THREADS}\\n`));
});

test('uprobe:libpthread:pthread_create probes libc, where glibc moved it, and says so (W0103)', async (t) => {
  if (!requireKernel(t)) return;
  const target = buildTarget('threads', ['-lpthread']);
  const r = await runCapc(
    [
      'run',
      '-q',
      '-e',
      'uprobe:libpthread:pthread_create /pid == cpid/ { @[probe] = count(); }',
      '-c',
      `${target} ${THREADS}`,
    ],
    { checkLeaks: true },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /warning\[W0103\]: function 'pthread_create' is not in \S*libpthread\.so\.0: probing it in \S*libc\.so\.6/,
  );
  // `probe` names the file probed, by its full path (as bpftrace names uprobes).
  assert.match(r.stdout, new RegExp(`@\\[uprobe:\\S*/libc\\.so\\.6:pthread_create\\]: ${THREADS}\\n`));
});

test('a uprobe on an IFUNC probes the implementation its resolver picks here: every call counted', async (t) => {
  if (!requireKernel(t)) return;
  const N = 500;
  const target = buildTarget('ifuncs', ['-fno-builtin']);
  const r = await runCapc(
    [
      'run',
      '-q',
      '-e',
      'uprobe:libc:strlen /pid == cpid/ { @s = count(); } uprobe:libc:memcpy /pid == cpid/ { @m = count(); }',
      '-c',
      `${target} ${N}`,
    ],
    { checkLeaks: true },
  );
  assert.equal(r.code, 0, r.stderr);
  // glibc's own calls at start-up also run them (through its hidden aliases, the same code): a few more.
  for (const map of ['s', 'm']) {
    const n = Number(new RegExp(`@${map}: (\\d+)`).exec(r.stdout)?.[1]);
    assert.ok(n >= N && n < N + 50, `@${map}: ${n} calls, ${N} made by the program\n${r.stdout}`);
  }
});

test('an IFUNC in a library capc has not loaded is refused with the reason, at compile time (E0414)', async (t) => {
  if (!requireKernel(t)) return;
  const lib = buildTarget('ifunc-lib', ['-shared', '-fPIC']);
  const r = await runCapc(['run', '-q', '-e', `uprobe:${lib}:pick { @ = count(); }`, '-c', 'true']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /error\[E0414\]: pick in \S+ is an IFUNC: its symbol is the resolver/);
  // Its plain function is probed as usual.
  const ok = await runCapc(['check', '-e', `uprobe:${lib}:plain { @ = count(); }`]);
  assert.equal(ok.code, 0, ok.stderr);
});
