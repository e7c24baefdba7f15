// tests/differential/cases-functions.ts — differential cases for builtins and functions: printf, str, buf, ntop, usym, ustack, join, time, casts, control flow.
// (see cases.ts for the fields of a case).
import { LINGER, type Case } from './case.js';

export const FUNCTION_CASES: Case[] = [
  {
    name: 'printf conversions, flags and widths',
    program:
      'uprobe:$W:fn_add { printf("%-16s|%6d|%llu|%x|%c|%p|%05d|%-5d|%X|%o|%lu|100%%|%s|%.2s|%u|%8s|%-3c|\\n", "left", arg0, arg0 * 1000, arg0 + 250, arg0 + 65, 0x1234, arg0, arg0, 0xbeef + arg0, arg0 + 8, arg0, "x", "abc", arg0, "right", arg0 + 97); }',
    command: '$W calls 3',
    compare: 'exact',
    expect: [/^left {12}\| {5}2\|2000\|fc\|C\|0x1234\|00002\|2 {4}\|BEF1\|12\|2\|100%\|x\|ab\|2\| {3}right\|c {2}\|$/m],
  },
  {
    name: 'printf with %% and no arguments',
    program: 'BEGIN { printf("[%%]\\n"); printf("100%% %s\\n", "sure"); exit(); }',
    compare: 'exact',
    expect: [/^\[%\]$/m, /^100% sure$/m],
    note: 'bpftrace 0.17 prints %% literally when printf has no arguments ([%%]); capc prints [%], as C does',
    normalize: (out, tool) => (tool === 'bpftrace' ? out.replace('[%%]', '[%]') : out),
  },
  {
    name: 'str(p), str(p, n) and str(p, length read at run time)',
    program: 'uprobe:$W:fn_str { printf("[%s] [%s] [%s]\\n", str(arg0), str(arg0, 3), str(arg0, arg1 % 4)); }',
    command: '$W calls 6',
    compare: 'exact',
    expect: [/^\[gamma\] \[gam\] \[ga\]$/m, /^\[alpha\] \[alp\] \[\]$/m],
  },
  {
    name: 'buf() with %r, %rx and %rh',
    program: 'uprobe:$W:fn_buf { printf("[%r] [%rx] [%rh]\\n", buf(arg0, arg1), buf(arg0, 4), buf(arg0, arg1)); }',
    command: '$W calls 2',
    compare: 'exact',
    expect: [/^\[hi\\x01\\x02x\\x7f\\xff\\"\\x00z\] \[\\x68\\x69\\x01\\x02\] \[68 69 01 02 78 7f ff 5c 22 00 7a\]$/m],
  },
  {
    name: 'ntop() of IPv4 addresses in integers, and as map keys',
    program: 'uprobe:$W:fn_ip { printf("%s:%d %s\\n", ntop(arg0), arg1, ntop(2, arg0)); @[ntop(arg0)] = count(); }',
    command: '$W calls 3',
    compare: 'exact',
    expect: [/^127\.0\.0\.1:80 127\.0\.0\.1$/m, /^10\.1\.2\.2:443 /m, /^@\[192\.168\.255\.254\]: 3$/m],
  },
  {
    name: 'ntop() of tracepoint address arrays (IPv4, IPv6, v4-mapped)',
    // Only transitions a syscall makes (listen, connect, close): the others may run in softirq context, under any pid.
    program:
      'tracepoint:sock:inet_sock_set_state /pid == cpid && (args->newstate == 10 || args->newstate == 2 || args->newstate == 4)/ { printf("%s %s %s %d>%d %d\\n", ntop(args->saddr), ntop(args->daddr_v6), ntop(10, args->saddr_v6), args->oldstate, args->newstate, args->family); @[ntop(args->daddr)] = count(); }',
    command: '/usr/bin/python3 $T/tcp_pair.py',
    compare: 'exact',
    expect: [/^127\.0\.0\.1 ::ffff:127\.0\.0\.1 ::ffff:127\.0\.0\.1 7>2 2$/m, / ::1 ::1 7>2 10$/m],
  },
  {
    name: 'usym() of function pointers',
    program: 'uprobe:$W:fn_callback { printf("%s\\n", usym(arg0)); }',
    command: '$W calls 4',
    env: LINGER,
    compare: 'exact',
    expect: [/^cb_alpha\ncb_beta\ncb_alpha\ncb_beta$/m],
  },
  {
    name: 'ustack(n) in printf',
    program: 'uprobe:$W:leaf { printf("%s", ustack(3)); }',
    command: '$W calls 2',
    env: LINGER,
    compare: 'exact',
    expect: [/^ {8}leaf\+0\n {8}level2\+\d+\n {8}level1\+\d+$/m],
  },
  {
    name: 'ustack as a map key',
    program: 'uprobe:$W:leaf { @[ustack(2)] = count(); @n = count(); }',
    command: '$W calls 3',
    compare: 'exact',
    expect: [/^@\[\n {4}leaf\+0\n {4}level2\+\d+\n\]: 3$/m],
    expectNot: [/0x[0-9a-f]{6,}/],
    note: 'bpftrace 0.17 symbolises stacks when it prints them, after the traced process exited, so it prints hex addresses (bpftrace #246); capc resolves them (cached mappings, the uprobe address) and prints names. Frames are compared by count.',
    normalize: (out) => out.replace(/^ {4}\S+$/gm, '    <frame>'),
  },
  {
    name: 'join() of execve arguments, with a delimiter',
    program: 'tracepoint:syscalls:sys_enter_execve /pid == cpid/ { join(args->argv); join(args->argv, ","); }',
    command: '/bin/true alpha beta gamma',
    compare: 'exact',
    expect: [/^\/bin\/true alpha beta gamma$/m, /^\/bin\/true,alpha,beta,gamma$/m],
  },
  {
    name: 'time() with a strftime format, and its default',
    program: 'BEGIN { time("%Y-%m-%d\\n"); time(); printf("done\\n"); exit(); }',
    compare: 'exact',
    expect: [/^\d{4}-\d\d-\d\d$/m, /^\d\d:\d\d:\d\d$/m],
    normalize: (out) => out.replace(/^\d\d:\d\d:\d\d$/m, 'HH:MM:SS'),
  },
  {
    name: 'integer casts truncate and sign-extend',
    program:
      'uprobe:$W:fn_value { printf("%d %d %d %d %d\\n", (int8)arg0, (uint8)arg0, (int16)(arg0 * 1000), (uint32)(arg0 << 20), (int32)-arg0); }',
    command: '$W calls 12',
    compare: 'exact',
    expect: [/^-128 128 /m],
  },
  {
    name: 'ternary, if / else if / else, string variables',
    program:
      'uprobe:$W:fn_add { $k = arg0 % 2 == 0 ? "even" : "odd"; if (arg0 > 5) { @big[$k] = count(); } else if (arg0 == 0) { @zero = count(); } else { @small[$k] = count(); } }',
    command: '$W calls 11',
    compare: 'exact',
    expect: [/^@big\[even\]: 3$/m, /^@small\[odd\]: 3$/m, /^@zero: 1$/m],
  },
  {
    name: 'unroll(), while with break and continue',
    program:
      'BEGIN { $i = 0; unroll(4) { $i++; printf("u%d ", $i); } while ($i < 20) { $i++; if ($i % 3 == 0) { continue; } if ($i > 12) { break; } printf("w%d ", $i); } printf("\\n"); exit(); }',
    compare: 'exact',
    expect: [/^u1 u2 u3 u4 w5 w7 w8 w10 w11 $/m],
  },
  {
    name: 'pid, tid, cpid, uid, gid, comm, func, probe, nsecs, elapsed, cgroup',
    program:
      'uprobe:$W:fn_add /arg0 == 1/ { printf("%d %d %d %d %s %s %s %d %d %d\\n", pid == cpid, tid == pid, uid, gid, comm, func, probe, nsecs > 0, elapsed > 0, cgroup > 0); }',
    command: '$W calls 3',
    // bpftrace resolves func when it prints: the process must still be there.
    env: LINGER,
    compare: 'exact',
    expect: [/^1 1 0 0 workload-\S+ fn_add uprobe:\S+:fn_add 1 1 1$/m],
  },
  {
    name: 'func in wildcard uprobes',
    program: 'uprobe:$W:fn_* /arg0 >= 0/ { printf("%s\\n", func); }',
    command: '$W calls 1',
    env: LINGER,
    compare: 'exact',
    expect: [/^Attaching 7 probes\.\.\.$/m, /^fn_add\nfn_value\nfn_value\nfn_neg\nfn_str\nfn_buf\n/m],
  },
  {
    name: 'uretprobe retval',
    program: 'uretprobe:$W:fn_add { @[retval] = count(); } uretprobe:$W:fn_value { @v = sum(retval); }',
    command: '$W calls 5',
    compare: 'exact',
    expect: [/^@\[5\]: 1$/m, /^@v: \d+$/m],
  },
];
