// tests/unit/passes.test.ts — the compiler's named passes: listed once, in
// order; each one's dump says what it produced (`capc emit --dump=PASS`);
// `lineDirectives: false` (`--no-line`) gives the same C without #line; a
// body that reads a map before the probe that first writes it sees the map's
// final type (check runs it again once every map is known).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compile, PASS_NAMES } from '../../compiler/compile.js';
import { fixtureHost } from '../fixtures/fixture-host.js';

const PROG = `uprobe:libssl:SSL_write, uprobe:libssl:SSL_read { accumulate(conn, 1024) -> ringbuf; @calls[comm] = count(); $n = len; }
tracepoint:syscalls:sys_enter_openat { printf("%s\\n", str(args->filename)); }`;
const source = { name: 'p.cap', text: PROG };

test('the passes, in order', () => {
  assert.deepEqual(PASS_NAMES, ['parse', 'collect', 'check', 'plan-capture', 'lower', 'emit']);
});

test('every pass has a dump that shows what it produced', () => {
  const expect: Record<string, RegExp[]> = {
    parse: [/^Probe @1:1$/m, /Sink -> ringbuf/],
    collect: [/^config: strlen 64/, /^probe 1: uprobe:\S+libssl\S*:SSL_read .*captures SSL_read at return/m],
    check: [/^map @calls\[string\[16\]\]: count\(\)/m, /^ {2}var \$n: uint64$/m, /site 1: accumulate\(…, 1024\)/],
    'plan-capture': [
      /^sink: ringbuf, 16777216 bytes$/m,
      /^family openssl: accumulate batches of 1024/m,
      /close watcher: probe \d on \S+:SSL_free/,
      /^scope: with -c\/-p, the process tree/m,
      /^added program: probe \d+ \(tls-watch\)/m,
      /^identity: sockets learned for openssl$/m,
      /^identity learner: probe \d+ \(set-fd\) on \S+:SSL_set_fd$/m,
      /^identity learner: probe \d+ \(syscall\) on rawtracepoint:sys_enter$/m,
    ],
    lower: [
      /^map capc_c_openssl: BPF_MAP_TYPE_HASH/m,
      /^function capc_p0 SEC\("uretprobe"\)/m,
      /^struct capc_acc_openssl: 2176 bytes/m,
    ],
    emit: [/^#include "capc.bpf.h"$/m, /^#line \d+ "p.cap"$/m],
  };
  for (const name of PASS_NAMES) {
    const r = compile(source, fixtureHost, { dump: name });
    assert.equal(r.ok, true, `${name}: ${JSON.stringify(r.diagnostics)}`);
    assert.equal(r.output, undefined, `${name}: the pipeline stops at the dumped pass`);
    for (const re of expect[name]!) assert.match(r.dump!, re, `${name} dump:\n${r.dump}`);
  }
});

test('without #line directives the C is the same, line for line', () => {
  const withLines = compile(source, fixtureHost).output!.c;
  const without = compile(source, fixtureHost, { lineDirectives: false }).output!.c;
  assert.doesNotMatch(without, /#line/);
  assert.equal(
    without,
    withLines
      .split('\n')
      .filter((l) => !l.startsWith('#line'))
      .join('\n'),
  );
});

test('a map read before the probe that first writes it has the type the write gives it', () => {
  const r = compile(
    {
      name: 'fwd.cap',
      text: 'BEGIN { printf("%s %d\\n", @who, @n); } tracepoint:syscalls:sys_enter_openat { @who = comm; @n = 1; }',
    },
    fixtureHost,
    { dump: 'check' },
  );
  assert.equal(r.ok, true, JSON.stringify(r.diagnostics));
  assert.match(r.dump!, /^map @who: string\[16\]/m);
  assert.match(r.dump!, /^map @n: integer/m);
});
