// tests/unit/resolve-formats.test.ts — text userspace makes of raw values:
// inet_ntop's IPv6 spelling, strftime for time(), the `-l` flag rewrite, and
// the kernel BTF reader (on this machine's BTF, when it has one).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { ipv6Text } from '../../runtime/events/resolve.js';
import { strftime } from '../../runtime/format/strftime.js';
import { rewriteListFlags } from '../../runtime/cli/list.js';
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

test('-l, -lv and --list become the list command', () => {
  assert.deepEqual(rewriteListFlags(['node', 'capc', '-l', 'tracepoint:sched:*']), [
    'node',
    'capc',
    'list',
    'tracepoint:sched:*',
  ]);
  assert.deepEqual(rewriteListFlags(['node', 'capc', '-lv', 't:syscalls:sys_enter_read']), [
    'node',
    'capc',
    'list',
    '-v',
    't:syscalls:sys_enter_read',
  ]);
  assert.deepEqual(rewriteListFlags(['node', 'capc', '-l', '-v', 'x']), ['node', 'capc', 'list', '-v', 'x']);
  assert.deepEqual(rewriteListFlags(['node', 'capc', 'run', '-e', 'x']), ['node', 'capc', 'run', '-e', 'x']);
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
