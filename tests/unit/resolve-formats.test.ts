// tests/unit/resolve-formats.test.ts — text userspace makes of raw values:
// inet_ntop's IPv6 spelling, strftime for time(), the `-l` flag rewrite, and
// the kernel BTF reader (on this machine's BTF, when it has one).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { ipv6Text } from '../../runtime/events/resolve.js';
import { strftime } from '../../runtime/format/strftime.js';
import { bpftraceArgv, usageError } from '../../runtime/cli/main.js';
import { Btf } from '../../runtime/host/btf.js';

const v6 = (hex: string) => ipv6Text(Buffer.from(hex, 'hex'));

test('IPv6 addresses as inet_ntop writes them', () => {
  assert.equal(v6('00000000000000000000000000000001'), '::1');
  assert.equal(v6('00000000000000000000000000000000'), '::');
  assert.equal(v6('00000000000000000000ffff7f000001'), '::ffff:127.0.0.1');
  assert.equal(v6('20010db8000000000001000000000001'), '2001:db8::1:0:0:1');
  assert.equal(v6('20010db8000100010001000100010001'), '2001:db8:1:1:1:1:1:1');
  assert.equal(v6('fe800000000000000000000000000000'), 'fe80::');
  // a single zero group is not compressed
  assert.equal(v6('20010db8000000010001000100010001'), '2001:db8:0:1:1:1:1:1');
});

test('strftime conversions for time()', () => {
  const d = new Date(2024, 1, 29, 7, 5, 9); // local time
  assert.equal(strftime('%Y-%m-%d %H:%M:%S\n', d), '2024-02-29 07:05:09\n');
  assert.equal(strftime('%y %e %j %a %b %I%p %%', d), '24 29 060 Thu Feb 07AM %');
  assert.equal(strftime('%T %F %D', d), '07:05:09 2024-02-29 02/29/24');
});

test("bpftrace's command line is capc run; subcommands and lone help/version stay capc's", () => {
  const argv = (...a: string[]) => bpftraceArgv(['node', 'capc', ...a]).slice(2);
  assert.deepEqual(argv('-l', 'tracepoint:sched:*'), ['run', '-l', 'tracepoint:sched:*']);
  assert.deepEqual(argv('-lv', 't:syscalls:sys_enter_read'), ['run', '-lv', 't:syscalls:sys_enter_read']);
  assert.deepEqual(argv('script.bt', 'a', 'b'), ['run', 'script.bt', 'a', 'b']);
  assert.deepEqual(argv('-q', '-e', 'BEGIN {}'), ['run', '-q', '-e', 'BEGIN {}']);
  assert.deepEqual(argv('--info'), ['run', '--info']);
  for (const sub of ['run', 'emit', 'build', 'check', 'list', 'help'])
    assert.deepEqual(argv(sub, 'x'), [sub, 'x'], `${sub} stays a subcommand`);
  for (const own of ['-h', '--help', '-V', '--version']) assert.deepEqual(argv(own), [own]);
  assert.deepEqual(argv(), []);
});

test("usage errors in getopt's words, as bpftrace prints them", () => {
  const first = (m: string) => usageError(m).split('\n')[0];
  assert.equal(first("error: unknown option '--bogus'"), "capc: unrecognized option '--bogus'");
  assert.equal(first("error: unknown option '-x'"), "capc: invalid option -- 'x'");
  assert.equal(first("error: option '-e <program>' argument missing"), "capc: option requires an argument -- 'e'");
  assert.equal(
    first("error: option '-f, --format <format>' argument missing"),
    "capc: option requires an argument -- 'f'",
  );
  assert.match(usageError("error: unknown option '-x'"), /^USAGE:\n {4}capc \[options\] filename$/m);
});

test('BTF: raw tracepoint and kernel function prototypes', (t) => {
  if (!fs.existsSync('/sys/kernel/btf/vmlinux')) return t.skip('no kernel BTF');
  const btf = Btf.load();
  assert.ok(btf.rawTracepoints().includes('sys_enter'));
  assert.deepEqual(
    btf.rawTracepointArgs('sys_enter')?.map((p) => [p.type, p.size]),
    [
      ['struct pt_regs *', 8],
      ['long int', 8],
    ],
  );
  const p = btf.functionProto('vfs_read');
  assert.deepEqual(
    p?.params.map((x) => `${x.type} ${x.name}`),
    ['struct file * file', 'char * buf', 'size_t count', 'loff_t * pos'],
  );
  assert.equal(p?.ret.type, 'ssize_t');
  assert.equal(p?.ret.signed, true);
});
