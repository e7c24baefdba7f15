// tests/differential/cases-dropin2.ts — differential cases for the second half
// of the bpftrace drop-in (issue 14): strncmp, strcontains, pton, cgroupid,
// uaddr (in a binary loaded at a fixed address, `$N`: bpftrace 0.17 gives a
// PIE's symbols their file address), cat, system, -k and -kk, resolved values
// as map values, print() of resolved values, resolved values and buf() kept
// in variables (the tcp*.bt tools). (See case.ts for the fields.)
import { LINGER, type Case } from './case.js';

/** Kernel stacks: the tracepoint's dispatch frames depend on what else is attached (see cases-dropin.ts). */
/**
 * Frames of the syscall dispatch, and one name for getppid's entry: the kernel gives its address three
 * (__do_sys_getppid, __ia32_sys_getppid, __x64_sys_getppid), and bpftrace 0.17 prints one or another
 * from run to run (a full suite saw __do_sys_getppid where capc and the run before printed __x64_).
 */
const dropDispatch = (out: string) =>
  out
    .replace(/^[ \t]+(?:[0-9a-f]{16} )?(?:perf_syscall_enter|__traceiter_sys_enter)\+\d+\n/gm, '')
    .replace(/\b__(?:do|ia32|x64)_sys_getppid\b/g, '__x64_sys_getppid');

export const DROPIN2_CASES: (Case & { capcFlags?: string[] })[] = [
  {
    name: 'strncmp() of a string read at run time with literals, shorter and longer',
    program:
      'uprobe:$W:fn_str { $s = str(arg0); printf("%s %d %d %d\\n", $s, strncmp($s, "gam", 3), strncmp($s, "gamma", 6), strncmp("del", $s, 4)); }',
    command: '$W calls 5',
    compare: 'exact',
    expect: [/^gamma 0 0 1$/m, /^delta 1 1 1$/m, /^alpha 1 1 1$/m],
  },
  {
    name: 'strcontains() of a string read at run time',
    program: 'uprobe:$W:fn_str { printf("%d\\n", strcontains(str(arg0), "lt")); }',
    command: '$W calls 5',
    compare: 'exact',
    expect: [/^0\n0\n0\n1\n0$/m],
  },
  {
    name: 'strncmp() and strcontains() of literals and comm',
    program:
      'BEGIN { printf("%d %d %d %d %d %d %d\\n", strncmp("hello", "help", 3), strncmp("hello", "help", 4), strncmp("ab", "abc", 3), strncmp("ab", "ab", 50), strcontains("aab", "ab"), strcontains("", ""), strcontains("", "a")); exit(); }',
    compare: 'exact',
    expect: [/^0 1 1 0 1 1 0$/m],
  },
  {
    name: 'pton() of IPv4 and IPv6 addresses: ntop() of it, its bytes',
    program:
      'BEGIN { $a = pton("10.1.2.3"); $b = pton("fe80::1:2"); printf("%s %s %d %d %d\\n", ntop($a), ntop($b), $a[3], $b[15], $b[0]); exit(); }',
    compare: 'exact',
    // (bpftrace 0.17 refuses the IPv4-mapped form ::ffff:1.2.3.4, which capc takes: it is a valid IPv6 address.)
    expect: [/^10\.1\.2\.3 fe80::1:2 3 2 254$/m],
  },
  {
    name: 'pton() values kept in variables (and given others), in maps as keys and values, printed, compared',
    program:
      'BEGIN { $a = pton("1.2.3.4"); print($a); print(pton("fe80::1")); @[pton("1.2.3.4")] = 1; @v = pton("::1"); $b = pton("10.0.0.1"); $b = pton("10.0.0.2"); printf("%s %s %d %d %d %s\\n", ntop($a), ntop($b), $b[3], pton("::1")[15], $a == pton("1.2.3.4"), ntop(@v)); exit(); }',
    compare: 'exact',
    expect: [
      /^\[1,2,3,4\]$/m,
      /^1\.2\.3\.4 10\.0\.0\.2 2 1 1 ::1$/m,
      /^@\[\[1,2,3,4\]\]: 1$/m,
      /^@v: \[0,(0,){14}1\]$/m,
    ],
  },
  {
    name: 'pton() compared with tracepoint address fields',
    program:
      'tracepoint:sock:inet_sock_set_state /pid == cpid && args->newstate == 2/ { if (args->daddr == pton("127.0.0.1")) { printf("v4 %s\\n", ntop(args->daddr)); } if (args->daddr_v6 == pton("::1")) { printf("v6 %s\\n", ntop(args->daddr_v6)); } }',
    command: '/usr/bin/python3 $T/tcp_pair.py',
    compare: 'exact',
    expect: [/^v4 127\.0\.0\.1$/m, /^v6 ::1$/m],
  },
  {
    name: 'cgroupid() of the cgroup2 root, compared with cgroup',
    program:
      'BEGIN { printf("%d %d\\n", cgroupid("/sys/fs/cgroup/unified"), cgroup == cgroupid("/sys/fs/cgroup/unified")); exit(); }',
    compare: 'exact',
    expect: [/^1 1$/m],
  },
  {
    name: 'uaddr() of data symbols in uprobes and uretprobes of a binary at a fixed address',
    program:
      'uprobe:$N:fn_add { printf("%lx %rh\\n", uaddr("sink"), buf(uaddr("WORDS"), 8)); } uretprobe:$N:fn_add { printf("ret %lx\\n", uaddr("WORDS")); }',
    command: '$N calls 1',
    compare: 'exact',
    expect: [/^4[0-9a-f]{5} ([0-9a-f]{2} ){7}[0-9a-f]{2}$/m, /^ret 4[0-9a-f]{5}$/m],
  },
  {
    name: 'cat() of files, in order with printf, text and JSON',
    program:
      'BEGIN { cat("/proc/sys/kernel/ostype"); printf("between\\n"); cat("/proc/sys/kernel/%s", "osrelease"); exit(); }',
    compare: 'exact',
    expect: [/^Linux\nbetween\n\d+\.\d+/m],
  },
  {
    name: 'cat() in JSON',
    program: 'BEGIN { cat("/proc/sys/kernel/ostype"); printf("after\\n"); exit(); }',
    flags: ['-f', 'json'],
    compare: 'json',
    expect: [/^\{"type": "cat", "data": "Linux\\n"\}$/m],
  },
  {
    name: 'system() with --unsafe runs a shell command, in order with printf, text and JSON',
    program: 'BEGIN { printf("before\\n"); system("echo %s %d | tr a-z A-Z", "hi", 42); printf("after\\n"); exit(); }',
    flags: ['--unsafe'],
    compare: 'exact',
    expect: [/^before\nHI 42\nafter$/m],
  },
  {
    name: 'system() in JSON is "syscall", as bpftrace names it',
    program: 'BEGIN { system("echo hi"); exit(); }',
    flags: ['--unsafe', '-f', 'json'],
    compare: 'json',
    expect: [/^\{"type": "syscall", "data": "hi\\n"\}$/m],
  },
  {
    name: '-k: failed map updates of a full map, with the line',
    program: 'uprobe:$W:fn_add { @[arg0] = 1; }',
    command: '$W calls 5',
    flags: ['-k'],
    env: { BPFTRACE_MAP_KEYS_MAX: '2' },
    capcFlags: ['--max-map-keys', '2'],
    compare: 'exact',
    expect: [/^stdin:1:\d+-\d+: WARNING: Failed to map_update_elem: Argument list too long \(-7\)\n.*\n +~$/m],
  },
  {
    name: '-k: failed deletes (the key is absent), in JSON too',
    program: 'uprobe:$W:fn_add { delete(@x[arg0]); @x[arg0 + 1] = 1; }',
    command: '$W calls 3',
    flags: ['-k'],
    compare: 'exact',
    expect: [/^stdin:1:\d+-\d+: WARNING: Failed to map_delete_elem: No such file or directory \(-2\)$/m],
  },
  {
    name: '-k -f json: helper_error lines',
    program: 'uprobe:$W:fn_add { delete(@x[arg0]); @x[arg0 + 1] = 1; }',
    command: '$W calls 3',
    flags: ['-k', '-f', 'json'],
    compare: 'json',
    expect: [/^\{"type": "helper_error", "helper": "map_delete_elem", "retcode": -2, "line": 1, "col": \d+\}$/m],
  },
  {
    name: '-k: a signal the kernel refuses',
    program: 'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { $s = 100; signal($s); }',
    command: '/usr/bin/python3 $T/getppid.py 2',
    flags: ['-k', '--unsafe'],
    compare: 'exact',
    expect: [/^stdin:1:\d+-\d+: WARNING: Failed to send_signal: Invalid argument \(-22\)$/m],
  },
  {
    name: '-kk: failed probe reads; -k alone does not report them',
    program: 'uprobe:$W:fn_add { $s = str(arg0); printf("%s|\\n", $s); }',
    command: '$W calls 2',
    flags: ['-kk'],
    compare: 'exact',
    expect: [/^stdin:1:\d+-\d+: WARNING: Failed to probe_read_user_str: Bad address \(-14\)\n.*\n +~{9}\n\|$/m],
  },
  {
    name: '-k does not report probe reads',
    program: 'uprobe:$W:fn_add { $s = str(arg0); printf("%s|\\n", $s); }',
    command: '$W calls 2',
    flags: ['-k'],
    compare: 'exact',
    expect: [/^\|\n\|$/m],
    expectNot: [/WARNING/],
  },
  {
    name: 'stacks, symbols, addresses and cgroup paths as map values; a stack value read back and used as a key',
    program:
      'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @s[1] = kstack(6); @k[2] = ksym(kaddr("__x64_sys_getppid")); @n = ntop(0x0100007f); @c = cgroup_path(cgroup); printf("%s|\\n", @s[1]); @again[@s[1]] = count(); print(@k); }',
    command: '/usr/bin/python3 $T/getppid.py 1',
    compare: 'exact',
    expect: [/^@s\[1\]: \n {8}\S/m, /^@k\[2\]: __x64_sys_getppid$/m, /^@n: 127\.0\.0\.1$/m, /^@again\[\n {4}\S/m],
    normalize: dropDispatch,
  },
  {
    name: 'print() of resolved values: a symbol, an address, a stack, a cgroup path',
    program:
      'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { print(ksym(kaddr("__x64_sys_getppid"))); print(ntop(0x0100007f)); print(kstack(6)); print(cgroup_path(cgroup)); }',
    command: '/usr/bin/python3 $T/getppid.py 1',
    compare: 'exact',
    expect: [/^__x64_sys_getppid\n127\.0\.0\.1\n\n {8}\S/m],
    normalize: dropDispatch,
  },
  {
    name: 'ntop() kept in variables the tcp*.bt way: ntop(0), then reassigned from 4- and 16-byte addresses',
    // tcpconnect.bt's shape on a tracepoint (kprobes are not configured here; bpftrace 0.17 cannot read
    // struct sock_common's anonymous members through BTF, so the addresses come from the record).
    program:
      'tracepoint:sock:inet_sock_set_state /pid == cpid && args->newstate == 2/ { $inet_family = args->family; $daddr = ntop(0); $saddr = ntop(0); if ($inet_family == AF_INET) { $daddr = ntop(args->daddr); $saddr = ntop(AF_INET, args->saddr); } else { $daddr = ntop(args->daddr_v6); $saddr = ntop(AF_INET6, args->saddr_v6); } printf("%-39s %-39s %d|\\n", $saddr, $daddr, $inet_family); @fam[$daddr] = count(); $copy = $saddr; print($copy); printf("%s\\n", $copy); }',
    flags: ['--include', 'sys/socket.h'],
    command: '/usr/bin/python3 $T/tcp_pair.py',
    compare: 'exact',
    expect: [
      /^127\.0\.0\.1 {31}127\.0\.0\.1 {31}2\|\n127\.0\.0\.1\n127\.0\.0\.1$/m,
      /^::1 {37}::1 {37}10\|$/m,
      /^@fam\[::1\]: 1$/m,
    ],
  },
  {
    name: 'kernel stacks, symbols, addresses and cgroup paths kept in variables: printed, map keys and values, copied',
    program:
      'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { $k = kstack(6); $s = ksym(kaddr("__x64_sys_getppid")); $n = ntop(0x0100007f); $c = cgroup_path(cgroup); printf("%s|%s|%s\\n", $s, $n, $c); print($k); print($s); @again[$k] = count(); @v[1] = $s; @c = $c; $b = $s; printf("%s\\n", $b); }',
    command: '/usr/bin/python3 $T/getppid.py 1',
    compare: 'exact',
    expect: [/^__x64_sys_getppid\|127\.0\.0\.1\|\S/m, /^@v\[1\]: __x64_sys_getppid$/m, /^@again\[\n {4}\S/m],
    normalize: dropDispatch,
  },
  {
    name: 'buf(), ustack, usym() and strftime() kept in variables',
    program:
      'uprobe:$W:fn_str { $b = buf(arg0, 3); printf("%r|\\n", $b); print($b); @[$b] = count(); $u = ustack(2); print($u); $y = strftime("%Y", nsecs); printf("%s\\n", $y); } uprobe:$W:fn_callback { $f = usym(arg0); printf("%s\\n", $f); print($f); }',
    command: '$W calls 4',
    env: LINGER,
    compare: 'exact',
    expect: [/^alp\|\nalp\n\n {8}fn_str\+0\n/m, /^@\[bet\]: 1$/m, /^cb_alpha\ncb_alpha$/m],
  },
];
