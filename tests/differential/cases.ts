// tests/differential/cases.ts — the differential cases: each is a program
// and a deterministic workload (tests/fixtures/targets/workload.c, run with
// -c so probes filter on it, or a fixed command), run under bpftrace 0.17 and
// under capc. `$W` is the workload binary, `$C` its task name, `$T` the
// fixtures' target dir.
// compare:
//   exact      the whole output, byte for byte (map lines with equal values
//              sorted first: bpftrace's sort leaves ties in any order)
//   hist       as exact, and every histogram bucket by bucket (clear messages)
//   json       NDJSON: bpftrace's blank lines dropped, each line parsed
//   approx     numbers within a factor (sampling: profile)
// `expect` lines must appear in capc's output, so a case cannot pass with both
// tools printing nothing. `note` says where capc intentionally differs and
// `normalize` undoes exactly that difference.

export type Compare = 'exact' | 'hist' | 'json' | 'approx';

export interface Case {
  name: string;
  program?: string;
  command?: string;
  flags?: string[];
  args?: string[];
  env?: NodeJS.ProcessEnv;
  compare: Compare;
  /** Lines (regexps, multiline) capc's output must contain. */
  expect: RegExp[];
  /** Lines capc's output must not contain (the intended difference). */
  expectNot?: RegExp[];
  note?: string;
  /** Applied to each tool's stdout before comparing. */
  normalize?: (out: string, tool: 'bpftrace' | 'capc') => string;
  /** -p: the workload runs in the background; `$PID` in flags is its pid. */
  background?: string[];
  /** -o FILE: compare the file's contents instead of stdout. */
  outputFile?: boolean;
  /** Give the program as a file (positional argument) instead of -e. */
  programFile?: boolean;
}

const LINGER = { LINGER_MS: '400' };

export const CASES: Case[] = [
  // ---- maps and aggregations -------------------------------------------------
  {
    name: 'count() keyed by an expression',
    program: 'uprobe:$W:fn_add { @[arg0 % 4] = count(); }',
    command: '$W calls 10',
    compare: 'exact',
    expect: [/^@\[2\]: 2$/m, /^@\[1\]: 3$/m],
  },
  {
    name: 'sum(), count() and ++ on key-less maps',
    program: 'uprobe:$W:fn_add { @total = sum(arg0); @ = count(); @calls++; @down--; }',
    command: '$W calls 10',
    compare: 'exact',
    expect: [/^@: 10$/m, /^@total: 45$/m, /^@calls: 10$/m, /^@down: -10$/m],
  },
  {
    name: 'avg() keyed',
    program: 'uprobe:$W:fn_value { @avg[arg0 % 2] = avg(arg0); }',
    command: '$W calls 16',
    compare: 'exact',
    expect: [/^@avg\[0\]: \d+$/m, /^@avg\[1\]: \d+$/m],
  },
  {
    name: 'min() and max(), keyed and of negative values',
    program: 'uprobe:$W:fn_value { @min[arg0 % 3] = min(arg0); @max[arg0 % 3] = max(arg0); } uretprobe:$W:fn_neg { @nmin = min((int64)retval); @nmax = max((int64)retval); }',
    command: '$W calls 12',
    compare: 'exact',
    expect: [/^@nmin: -11$/m, /^@nmax: 0$/m, /^@max\[2\]: \d+$/m],
  },
  {
    name: 'stats(), scalar and keyed',
    program: 'uprobe:$W:fn_value { @s = stats(arg0); @k[arg0 % 2] = stats(arg0); }',
    command: '$W calls 16',
    compare: 'exact',
    expect: [/^@s: count 32, average \d+, total \d+$/m, /^@k\[1\]: count \d+, average \d+, total \d+$/m],
  },
  {
    name: 'hist() of powers of two and multiples of 7',
    program: 'uprobe:$W:fn_value { @h = hist(arg0); }',
    command: '$W calls 21',
    compare: 'hist',
    expect: [/^\[0\] +2 \|/m, /^\[1M, 2M\) +1 \|/m, /^\[128, 256\) /m],
  },
  {
    name: 'hist() keyed, keys ordered by total count',
    program: 'uprobe:$W:fn_value { @h[arg0 % 3] = hist(arg0); }',
    command: '$W calls 21',
    compare: 'hist',
    expect: [/^@h\[0\]: $/m, /^@h\[2\]: $/m],
  },
  {
    name: 'hist() of negative values and zero',
    program: 'uretprobe:$W:fn_neg { @h = hist((int64)retval); }',
    command: '$W calls 6',
    compare: 'hist',
    expect: [/^\(\.\.\., 0\) +5 \|@{52}\|$/m, /^\[0\] +1 \|@{10} {42}\|$/m],
  },
  {
    name: 'lhist() with values below and above its range',
    program: 'uprobe:$W:fn_value { @l = lhist(arg0, 0, 100, 10); }',
    command: '$W calls 21',
    compare: 'hist',
    expect: [/^\[100, \.\.\.\) /m, /^\[0, 10\) /m],
  },
  {
    name: 'lhist() with K labels',
    program: 'uprobe:$W:fn_value { @l = lhist(arg0, 1024, 8192, 1024); }',
    command: '$W calls 21',
    compare: 'hist',
    expect: [/^\(\.\.\., 1K\) /m, /^\[8K, \.\.\.\) /m, /^\[2K, 3K\) /m],
  },
  {
    name: 'lhist() whose range is not a multiple of its step',
    program: 'uprobe:$W:fn_add { @l = lhist(arg0, 10, 20, 3); }',
    command: '$W calls 25',
    compare: 'hist',
    expect: [/^\[13, 16\) +3 \|/m, /^\[20, \.\.\.\) +\d+ \|/m],
  },
  {
    name: 'keys of several values (tuples) with strings',
    program: 'uprobe:$W:fn_str { @[str(arg0), arg1 % 2] = count(); }',
    command: '$W calls 10',
    compare: 'exact',
    expect: [/^@\[alpha, 0\]: 1$/m, /^@\[alpha, 1\]: 1$/m],
  },
  {
    name: 'string-valued maps, printed in key order',
    program: 'uprobe:$W:fn_str { @word[arg1] = str(arg0); @last = str(arg0); }',
    command: '$W calls 7',
    compare: 'exact',
    expect: [/^@word\[6\]: beta$/m, /^@last: beta$/m],
  },
  {
    name: 'print(@m), print(@m, top), print(@m, top, div) for every kind, in order with printf',
    // Keys with distinct counts (2, 3, 4, 11): which entries are the "top" is then well defined.
    program: 'uprobe:$W:fn_add { @c[arg0 < 2 ? 0 : (arg0 < 5 ? 1 : (arg0 < 9 ? 2 : 3))] = count(); @h = hist(arg0); @s = stats(arg0); @a = avg(arg0); } ' +
      'uprobe:$W:level1 /arg0 == 19/ { printf("before\\n"); print(@c); print(@c, 2); print(@c, 3, 2); print(@h); print(@h, 0, 2); print(@s); print(@a); printf("after\\n"); }',
    command: '$W calls 20',
    compare: 'hist',
    expect: [/^before\n@c\[0\]: 2\n@c\[1\]: 3\n@c\[2\]: 4\n@c\[3\]: 11\n@c\[2\]: 4\n@c\[3\]: 11\n@c\[1\]: 1\n@c\[2\]: 2\n@c\[3\]: 5$/m, /^after$/m],
  },
  {
    name: 'clear(), zero() and delete()',
    program: 'uprobe:$W:fn_add { @c[arg0 % 3] = count(); @z[arg0 % 3] = count(); @d[arg0] = arg0; @h = hist(arg0); } ' +
      'uprobe:$W:level1 /arg0 == 9/ { clear(@c); zero(@z); zero(@h); delete(@d[3]); delete(@d[5]); }',
    command: '$W calls 10',
    compare: 'exact',
    expect: [/^@z\[0\]: 0$/m, /^@d\[9\]: 9$/m, /^@h: $/m],
    expectNot: [/^@c/m, /^@d\[3\]/m],
    note: 'bpftrace 0.17 prints a blank line for a map that is empty at exit (@c, cleared); capc prints nothing for it',
    normalize: (out, tool) => (tool === 'bpftrace' ? out.replace(/^\n\n\n/m, '\n\n') : out),
  },
  {
    name: 'clear() of a key-less count map',
    program: 'uprobe:$W:fn_add { @n = count(); @m = sum(arg0); } uprobe:$W:level1 /arg0 == 4/ { clear(@n); }',
    command: '$W calls 5',
    compare: 'exact',
    expect: [/^@m: 10$/m],
    expectNot: [/^@n/m],
    note: 'bpftrace 0.17 only zeroes a key-less count map on clear() and prints "@n: 0"; capc removes the entry, as clear() does for every other map',
    normalize: (out, tool) => (tool === 'bpftrace' ? out.replace(/^@n: 0\n/m, '') : out),
  },
  {
    name: '+=, -=, *=, ++, -- on maps and variables',
    program: 'BEGIN { $x = 1; $x += 4; $x -= 2; $x *= 3; $x++; $x--; @m[1] = 10; @m[1] += 5; @m[1] -= 3; @m[1]++; @m[1]--; @m[2]++; @m[3]--; printf("%d %d\\n", $x, @m[1]); exit(); }',
    compare: 'exact',
    expect: [/^9 12$/m, /^@m\[3\]: -1$/m],
  },
  // ---- builtins and functions -------------------------------------------------
  {
    name: 'printf conversions, flags and widths',
    program: 'uprobe:$W:fn_add { printf("%-16s|%6d|%llu|%x|%c|%p|%05d|%-5d|%X|%o|%lu|100%%|%s|%.2s|%u|%8s|%-3c|\\n", "left", arg0, arg0 * 1000, arg0 + 250, arg0 + 65, 0x1234, arg0, arg0, 0xbeef + arg0, arg0 + 8, arg0, "x", "abc", arg0, "right", arg0 + 97); }',
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
    program: 'tracepoint:sock:inet_sock_set_state /pid == cpid && (args->newstate == 10 || args->newstate == 2 || args->newstate == 4)/ { printf("%s %s %s %d>%d %d\\n", ntop(args->saddr), ntop(args->daddr_v6), ntop(10, args->saddr_v6), args->oldstate, args->newstate, args->family); @[ntop(args->daddr)] = count(); }',
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
    program: 'uprobe:$W:fn_value { printf("%d %d %d %d %d\\n", (int8)arg0, (uint8)arg0, (int16)(arg0 * 1000), (uint32)(arg0 << 20), (int32)-arg0); }',
    command: '$W calls 12',
    compare: 'exact',
    expect: [/^-128 128 /m],
  },
  {
    name: 'ternary, if / else if / else, string variables',
    program: 'uprobe:$W:fn_add { $k = arg0 % 2 == 0 ? "even" : "odd"; if (arg0 > 5) { @big[$k] = count(); } else if (arg0 == 0) { @zero = count(); } else { @small[$k] = count(); } }',
    command: '$W calls 11',
    compare: 'exact',
    expect: [/^@big\[even\]: 3$/m, /^@small\[odd\]: 3$/m, /^@zero: 1$/m],
  },
  {
    name: 'unroll(), while with break and continue',
    program: 'BEGIN { $i = 0; unroll(4) { $i++; printf("u%d ", $i); } while ($i < 20) { $i++; if ($i % 3 == 0) { continue; } if ($i > 12) { break; } printf("w%d ", $i); } printf("\\n"); exit(); }',
    compare: 'exact',
    expect: [/^u1 u2 u3 u4 w5 w7 w8 w10 w11 $/m],
  },
  {
    name: 'pid, tid, cpid, uid, gid, comm, func, probe, nsecs, elapsed, cgroup',
    program: 'uprobe:$W:fn_add /arg0 == 1/ { printf("%d %d %d %d %s %s %s %d %d %d\\n", pid == cpid, tid == pid, uid, gid, comm, func, probe, nsecs > 0, elapsed > 0, cgroup > 0); }',
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
  // ---- probes -------------------------------------------------------------
  {
    name: 'tracepoint wildcard, args, and hist of write sizes',
    // comm filters out what the -c machinery does in the child before it becomes the workload.
    // (bpftrace 0.17 cannot load two blocks on one tracepoint, so the hist is on the exit.)
    program: 'tracepoint:syscalls:sys_enter_write* /comm == "$C"/ { @calls[probe] = count(); } tracepoint:syscalls:sys_exit_write /comm == "$C"/ { @bytes = hist(args->ret); }',
    command: '$W syscalls 5',
    compare: 'hist',
    expect: [/^Attaching 3 probes\.\.\.$/m, /^@calls\[tracepoint:syscalls:sys_enter_write\]: 25$/m, /^\[2K, 4K\) +5 \|/m],
  },
  {
    name: 'tracepoint return values: stats and lhist',
    program: 'tracepoint:syscalls:sys_exit_read /comm == "$C"/ { @r = stats(args->ret); } tracepoint:syscalls:sys_enter_read /comm == "$C"/ { @req = lhist(args->count, 0, 128, 16); }',
    command: '$W syscalls 6',
    compare: 'hist',
    expect: [/^@r: count \d+, average \d+, total \d+$/m, /^\[96, 112\) /m],
  },
  {
    name: 'usdt probes: arguments and a semaphore-guarded probe',
    program: 'usdt:$W:capc:tick { printf("tick %d %s\\n", arg0, str(arg1)); @[str(arg1)] = count(); } usdt:$W:capc:guarded { @g = sum(arg0); }',
    command: '$W usdt 7',
    compare: 'exact',
    expect: [/^tick 6 beta$/m, /^@g: 210$/m],
  },
  {
    name: 'interval probes and exit()',
    program: 'interval:ms:20 { @n++; printf("tick %d\\n", @n); if (@n == 5) { exit(); } }',
    compare: 'exact',
    expect: [/^tick 5$/m, /^@n: 5$/m],
  },
  {
    name: 'profile:hz samples (on CPU 0, where interval runs: idle CPUs sample irregularly)',
    program: 'profile:hz:100 /cpu == 0/ { @samples = count(); } interval:ms:1000 { exit(); }',
    compare: 'approx',
    expect: [/^@samples: \d+$/m],
  },
  {
    name: 'BEGIN and END, maps read in END',
    program: 'BEGIN { printf("start\\n"); @b = 42; } END { printf("end %d\\n", @b); } interval:ms:50 { exit(); }',
    compare: 'exact',
    expect: [/^start$/m, /^end 42$/m, /^@b: 42$/m],
  },
  // ---- options ------------------------------------------------------------
  {
    name: 'positional parameters',
    program: 'BEGIN { printf("%s %d %d\\n", str($1), $2 + 1, $#); exit(); }',
    args: ['word', '41'],
    compare: 'exact',
    expect: [/^word 42 2$/m],
  },
  {
    name: 'a program from a file, with positional parameters in a probe',
    program: '// from a file\nuprobe:$1:fn_add /arg0 == $2/ {\n  printf("%s %d\\n", func, arg0);\n}\n',
    programFile: true,
    args: ['$W', '3'],
    command: '$W calls 5',
    env: LINGER,
    compare: 'exact',
    expect: [/^fn_add 3$/m],
  },
  {
    name: 'print() of values: integers, strings, map values',
    program: 'uprobe:$W:fn_str /arg1 == 2/ { @m[arg1] = arg1 * 10; print(-5); print("text"); print(str(arg0)); $v = @m[2]; print($v); print(arg1 + 1); }',
    command: '$W calls 4',
    compare: 'exact',
    expect: [/^-5\ntext\ngamma\n20\n3$/m],
  },
  {
    name: '-q: no banner',
    program: 'uprobe:$W:fn_add { @[arg0 % 2] = count(); }',
    command: '$W calls 5',
    flags: ['-q'],
    compare: 'exact',
    expect: [/^@\[0\]: 3$/m],
    expectNot: [/Attaching/],
  },
  {
    name: '-f json: maps of every kind, printf, attached_probes',
    program: 'uprobe:$W:fn_value { @h = hist(arg0); @hk[arg0 % 2] = hist(arg0); @l = lhist(arg0, 0, 100, 10); @mx[arg0 % 3] = max(arg0); @mi = min(arg0); @a[arg0 % 2] = avg(arg0); @st = stats(arg0); @c[arg0 % 5, "k"] = count(); } uprobe:$W:fn_str { @s[arg1] = str(arg0); } uprobe:$W:fn_add /arg0 == 0/ { printf("json \\"quoted\\"\\n"); }',
    command: '$W calls 12',
    flags: ['-f', 'json'],
    compare: 'json',
    expect: [/^\{"type": "attached_probes", "data": \{"probes": 3\}\}$/m, /^\{"type": "hist", "data": \{"@hk": \{"/m, /^\{"type": "stats", "data": \{"@st": \{"count": 24, /m],
    note: 'bpftrace 0.17 prints two blank lines before the maps in JSON mode (not JSON); capc prints none',
  },
  {
    name: '-f json: print(), join() and value output',
    program: 'tracepoint:syscalls:sys_enter_execve /pid == cpid/ { @n = count(); join(args->argv); print(1); print("s"); print(@n); }',
    command: '/bin/true a bb ccc',
    flags: ['-f', 'json'],
    compare: 'json',
    expect: [/^\{"type": "join", "data": "\/bin\/true a bb ccc"\}$/m, /^\{"type": "value", "data": 1\}$/m, /^\{"type": "map", "data": \{"@n": 1\}\}$/m],
  },
  {
    name: '-p PID: attach to a running process',
    program: 'uprobe:$W:fn_add { @[arg0] = count(); } uprobe:$W:level1 /arg0 == 4/ { exit(); }',
    flags: ['-p', '$PID'],
    background: ['$W', 'calls', '5'],
    env: { PAUSE_MS: '3000' },
    compare: 'exact',
    expect: [/^@\[4\]: 1$/m],
  },
  {
    name: '-o FILE: output to a file',
    program: 'uprobe:$W:fn_add { @[arg0 % 3] = count(); printf("%d\\n", arg0); }',
    command: '$W calls 4',
    outputFile: true,
    compare: 'exact',
    expect: [/^3$/m, /^@\[0\]: 2$/m],
    note: 'bpftrace 0.17 writes the two blank lines before the maps to stdout even with -o; capc writes them to the file',
    normalize: (out) => out.replace(/\n\n\n/g, '\n'),
  },
  {
    name: '-l tracepoints with a wildcard',
    flags: ['-l', 'tracepoint:sched:sched_s*'],
    compare: 'exact',
    expect: [/^tracepoint:sched:sched_switch$/m],
  },
  {
    name: '-l a bare wildcard searches every tracepoint',
    flags: ['-l', '*sleep*'],
    compare: 'exact',
    expect: [/^tracepoint:syscalls:sys_enter_nanosleep$/m],
    note: 'bpftrace 0.17 also prints "hardware:*sleep*:" and "software:*sleep*:" placeholder lines; capc lists only probes',
    normalize: (out) => out.replace(/^(hardware|software):\*sleep\*:\n/gm, ''),
  },
  {
    name: '-l uprobe:BINARY:* lists the functions of a binary',
    flags: ['-l', 'uprobe:$W:*'],
    compare: 'exact',
    expect: [/^uprobe:\S+:fn_add$/m, /^uprobe:\S+:main$/m],
  },
  {
    name: '-l usdt:BINARY:* lists its USDT probes',
    flags: ['-l', 'usdt:$W:*'],
    compare: 'exact',
    expect: [/^usdt:\S+:capc:guarded$/m, /^usdt:\S+:capc:tick$/m],
  },
  {
    name: '-lv shows a tracepoint\'s fields',
    flags: ['-lv', 'tracepoint:sock:inet_sock_set_state'],
    compare: 'exact',
    expect: [/^ {4}__u8 saddr\[4\]$/m, /^ {4}const void \* skaddr$/m],
  },
];
