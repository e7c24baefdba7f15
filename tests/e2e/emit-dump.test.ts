// tests/e2e/emit-dump.test.ts — `capc emit --dump=PASS` and `--no-line`
// through the real binary: its help names every pass the compiler has, a
// pass that does not exist is a usage error (exit 2) naming the real ones,
// and a dump goes to stdout. Nothing is loaded: no kernel needed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PASS_NAMES } from '../../compiler/compile.js';
import { runCapc } from '../support/capc.js';

const PROG = 'tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }';

test('capc emit --help names every compiler pass', async () => {
  const r = await runCapc(['emit', '--help'], { checkLeaks: false });
  assert.equal(r.code, 0, r.stderr);
  for (const name of PASS_NAMES) assert.match(r.stdout, new RegExp(`\\b${name}\\b`), `${name} is not in the help`);
});

test('capc emit --dump=check prints the check pass, --no-line C without #line', async () => {
  const d = await runCapc(['emit', '--dump=check', '-e', PROG], { checkLeaks: false });
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, /^map @\[string\[16\]\]: count\(\), first written at line 1$/m);
  const c = await runCapc(['emit', '--no-line', '-e', PROG], { checkLeaks: false });
  assert.equal(c.code, 0, c.stderr);
  // A syscall tracepoint runs from the raw tracepoint sys_enter (--tracepoints=auto).
  assert.match(c.stdout, /SEC\("tp_btf\/sys_enter"\)/);
  assert.doesNotMatch(c.stdout, /#line/);
});

test('an unknown pass is a usage error that lists the passes', async () => {
  const r = await runCapc(['emit', '--dump=typecheck', '-e', PROG], { checkLeaks: false });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /error\[E0904\]: --dump: capc has no pass named 'typecheck'/);
  assert.match(r.stderr, new RegExp(`the passes, in order: ${PASS_NAMES.join(', ')}`));
});
