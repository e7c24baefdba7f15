// tests/e2e/errors.test.ts — what users see when something is wrong: the
// file, line and column, the source line with a caret, a hint, the right exit
// code, and nothing loaded into the kernel.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCapc } from '../support/capc.js';
import { requireKernel } from '../support/kernel.js';

test('a syntax error: location, caret, hint, exit 2, nothing loaded', async (t) => {
  if (!requireKernel(t)) return;
  const r = await runCapc(['run', '-e', 'BEGIN { printf("x\\n") exit(); }']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^-e:1:23: error\[E0101\]: expected ';' but found 'exit'$/m);
  assert.match(r.stderr, /^ 1 \| BEGIN \{ printf\("x\\n"\) exit\(\); \}$/m);
  assert.match(r.stderr, /^ {3}\| {23}\^{4}$/m);
  assert.match(r.stderr, /nothing was loaded/);
});

test('several syntax errors are reported in one run', async (t) => {
  if (!requireKernel(t)) return;
  const r = await runCapc(['run', '-e', 'BEGIN { $x = 1 + ; }\nEND { @a[1 = 2; }']);
  assert.equal(r.code, 2);
  assert.equal((r.stderr.match(/error\[E0101\]/g) ?? []).length, 2, r.stderr);
  assert.match(r.stderr, /^-e:1:18: /m);
  assert.match(r.stderr, /^-e:2:12: /m);
});

test('an unknown tracepoint is named, with the closest ones suggested', async (t) => {
  if (!requireKernel(t)) return;
  const r = await runCapc(['run', '-e', 'tracepoint:syscalls:sys_enter_opnat { @ = count(); }']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /error\[E0403\]: unknown tracepoint 'syscalls:sys_enter_opnat'/);
  assert.match(r.stderr, /did you mean 'sys_enter_openat'/);
});

test('an unknown uprobe symbol and library get suggestions', async (t) => {
  if (!requireKernel(t)) return;
  let r = await runCapc(['run', '-e', 'uprobe:libssl:SSL_wirte { @ = count(); }']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /function 'SSL_wirte' not found in \/\S+libssl\.so\S*/);
  assert.match(r.stderr, /did you mean 'SSL_write'/);
  r = await runCapc(['run', '-e', 'uprobe:libsssl:SSL_write { @ = count(); }']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cannot find 'libsssl'/);
  assert.match(r.stderr, /candidates: libssl/);
});

test('type errors: unknown names, printf mismatches, builtins out of place', async (t) => {
  if (!requireKernel(t)) return;
  const r = await runCapc([
    'run',
    '-e',
    'tracepoint:syscalls:sys_enter_openat /cmm == "x"/ { printf("%d %s\\n", comm); printf("%d\\n", retval); $y = args->nofield; }',
  ]);
  assert.equal(r.code, 2);
  for (const code of ['E0201', 'E0308', 'E0405', 'E0404'])
    assert.match(r.stderr, new RegExp(`error\\[${code}\\]`), `${code} in:\n${r.stderr}`);
  assert.match(r.stderr, /did you mean 'comm'/);
  assert.match(r.stderr, /args->ret/);
});

test('a missing file, a bad flag and a missing command are usage or runtime errors', async (t) => {
  if (!requireKernel(t)) return;
  // bpftrace's words for each (tests/e2e/bad-input.test.ts compares them with bpftrace itself).
  let r = await runCapc(['run', '/no/such/file.cap']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /E0905.*failed to open file '\/no\/such\/file.cap': No such file or directory/);
  r = await runCapc(['run', '--no-such-flag', '-e', 'BEGIN { exit(); }']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^capc: unrecognized option '--no-such-flag'$/m);
  r = await runCapc(['run', '-e', 'BEGIN { exit(); }', '-c', 'no-such-command-xyz']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /E0903.*Failed to fork child: path 'no-such-command-xyz' does not exist or is not executable/);
  r = await runCapc(['run', '-e', 'uprobe:libc:malloc { @ = count(); }', '-p', '999999999']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /E0904.*pid '999999999' out of valid pid range \[1,4194304\]/);
  r = await runCapc(['run', '-e', 'uprobe:libc:malloc { @ = count(); }', '-p', '4194303']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /E0902.*no process with pid 4194303/);
});

test('capc check accepts a valid program and loads nothing permanently', async (t) => {
  if (!requireKernel(t)) return;
  const r = await runCapc(['check', '-e', 'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /ok: 1 probe accepted by the kernel verifier/);
});

test('capc emit prints readable C with the verifier rules marked', async (t) => {
  if (!requireKernel(t)) return;
  const r = await runCapc([
    'emit',
    '-e',
    'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); printf("%s\\n", comm); }',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /SEC\("tracepoint\/raw_syscalls\/sys_enter"\)/);
  assert.match(r.stdout, /R8: per-CPU count\(\)/);
  assert.match(r.stdout, /R10: wake the reader only as unread bytes cross the threshold/);
  assert.match(r.stdout, /R11: ring full, count the drop/);
  assert.match(r.stdout, /#line 1 "-e"/);
});

test('an output that cannot be written (a full device) stops the run with E0906 and exit 1, on every printf path', async (t) => {
  if (!requireKernel(t)) return;
  // stdout is /dev/full (ENOSPC on every write): `sh -c 'exec capc ... >/dev/full'` keeps capc's pid.
  for (const drain of ['thread', 'main', 'js']) {
    const r = await runCapc(['run', '-e', 'BEGIN { printf("hi\\n"); @a = 1; exit(); }'], {
      wrap: ['sh', '-c', 'exec "$0" "$@" >/dev/full'],
      env: { CAPC_PRINTF_DRAIN: drain },
    });
    assert.equal(r.code, 1, `${drain}: ${r.stderr}`);
    assert.match(r.stderr, /error\[E0906\]: cannot write the output to standard output: ENOSPC/, drain);
    assert.doesNotMatch(r.stderr, /at writeSync|Node\.js v/, `${drain}: no stack trace`);
  }
});
