// tests/e2e/syscall-raw.test.ts — syscall tracepoints run from the raw
// tracepoints sys_enter/sys_exit (--tracepoints=raw, auto's choice) against
// the same probes as perf events (--tracepoints=perf), on the real kernel:
// the same events with the same `args` values, compat (ia32) syscalls seen
// by neither, several probes on one syscall in script order, every syscall
// tracepoint at once through the verifier, and SIGINT detaching everything.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCapc } from '../support/capc.js';
import { requireKernel } from '../support/kernel.js';
import { buildTarget } from '../support/targets.js';

const ROUNDS = 3;
const PROG = [
  'tracepoint:syscalls:sys_enter_openat /pid == cpid/ { printf("open %d %s %d %d %s\\n", args->dfd, str(args->filename), args->flags, args->mode, probe); }',
  'tracepoint:syscalls:sys_exit_openat /pid == cpid/ { printf("ret %d %d\\n", args->ret, args->__syscall_nr); }',
  // fd is an `unsigned int`: -7 is 4294967289 (printed as %d: -7).
  'tracepoint:syscalls:sys_enter_close /pid == cpid && args->fd > 1000000/ { printf("close %d\\n", args->fd); @[probe, args->fd] = count(); }',
  // ia32 getpid is 20, x86_64's writev: a compat call must not fire it (the target makes ROUNDS of each).
  'tracepoint:syscalls:sys_enter_writev /pid == cpid/ { printf("writev %d %d %d\\n", args->fd, args->vec, args->vlen); }',
].join('\n');

async function events(form: string): Promise<{ lines: string[]; stdout: string }> {
  const target = buildTarget('syscall-args');
  const r = await runCapc(['run', '-q', `--tracepoints=${form}`, '-e', PROG, '-c', `${target} ${ROUNDS}`], {
    checkLeaks: true,
  });
  assert.equal(r.code, 0, r.stderr);
  // The target's own calls (the loader's opens and closes differ by nothing but are not what is compared).
  const lines = r.stdout
    .split('\n')
    .filter((l) => /^open -100 .* 524288 416 |^close -7|^writev|^ret -2 |^@\[/.test(l))
    .sort();
  return { lines, stdout: r.stdout };
}

test('raw and perf forms see the same syscall events with the same args; compat syscalls fire neither', async (t) => {
  if (!requireKernel(t)) return;
  const raw = await events('raw');
  const perf = await events('perf');
  assert.deepEqual(raw.lines, perf.lines);
  const count = (re: RegExp) => raw.lines.filter((l) => re.test(l)).length;
  // str() of the path may read nothing the first time (its page not yet in: the same in both forms).
  assert.equal(
    count(/^open -100 (\/nonexistent\/capc-syscall-args)? 524288 416 tracepoint:syscalls:sys_enter_openat$/),
    ROUNDS,
  );
  assert.ok(count(/capc-syscall-args/) >= ROUNDS - 1, raw.stdout);
  assert.equal(count(/^ret -2 257$/), ROUNDS);
  assert.equal(count(/^close -7$/), ROUNDS);
  assert.ok(raw.lines.includes(`@[tracepoint:syscalls:sys_enter_close, 4294967289]: ${ROUNDS}`), raw.stdout);
  if (/compat ok/.test(raw.stdout)) assert.equal(count(/^writev -3 0 0$/), ROUNDS, raw.stdout);
  else t.diagnostic('int $0x80 is not available here: compat exclusion not exercised');
});

test('several probes on one syscall run in script order, once each', async (t) => {
  if (!requireKernel(t)) return;
  const target = buildTarget('syscall-args');
  const prog =
    'tracepoint:syscalls:sys_enter_close /pid == cpid && args->fd > 1000000/ { printf("A\\n"); } ' +
    'tracepoint:syscalls:sys_enter_openat /0/ { } ' +
    'tracepoint:syscalls:sys_enter_close /pid == cpid && args->fd > 1000000/ { printf("B\\n"); }';
  const r = await runCapc(['run', '-q', '--tracepoints=raw', '-e', prog, '-c', `${target} ${ROUNDS}`]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    r.stdout.split('\n').filter((l) => l === 'A' || l === 'B'),
    Array.from({ length: ROUNDS }, () => ['A', 'B']).flat(),
  );
});

test('every syscall tracepoint at once: one raw program each for sys_enter and sys_exit passes the verifier', async (t) => {
  if (!requireKernel(t)) return;
  const r = await runCapc(
    [
      'check',
      '-e',
      'tracepoint:syscalls:sys_enter_* { @[probe] = count(); } tracepoint:syscalls:sys_exit_* /args->ret < 0/ { @e[probe] = count(); }',
    ],
    { timeoutMs: 300000 },
  );
  assert.equal(r.code, 0, r.stderr + r.stdout);
});

test('SIGINT detaches the raw tracepoint programs: exit 0, nothing left loaded', async (t) => {
  if (!requireKernel(t)) return;
  const r = await runCapc(
    [
      'run',
      '-q',
      '-e',
      'tracepoint:syscalls:sys_enter_read, tracepoint:syscalls:sys_exit_write { @[probe] = count(); }',
    ],
    { onAttached: (pid) => void setTimeout(() => process.kill(pid, 'SIGINT'), 200), checkLeaks: true },
  );
  assert.equal(r.code, 0, r.stderr);
});
