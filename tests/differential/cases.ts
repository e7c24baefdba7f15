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
// `normalize` undoes exactly that difference. Maps and aggregations are in
// cases-maps.ts, builtins and functions in cases-functions.ts, what the
// bpftrace drop-in added in cases-dropin.ts; probes and options here. C types
// are in cases-types*.ts (run by differential-types*.test.ts).

import { DROPIN_CASES } from './cases-dropin.js';
import { FUNCTION_CASES } from './cases-functions.js';
import { MAP_CASES } from './cases-maps.js';
import { LINGER, type Case } from './case.js';

export type { Case } from './case.js';

export const CASES: Case[] = [
  ...MAP_CASES,
  ...FUNCTION_CASES,
  ...DROPIN_CASES,
  // ---- probes -------------------------------------------------------------
  {
    name: 'tracepoint wildcard, args, and hist of write sizes',
    // comm filters out what the -c machinery does in the child before it becomes the workload.
    // (bpftrace 0.17 cannot load two blocks on one tracepoint, so the hist is on the exit.)
    program:
      'tracepoint:syscalls:sys_enter_write* /comm == "$C"/ { @calls[probe] = count(); } tracepoint:syscalls:sys_exit_write /comm == "$C"/ { @bytes = hist(args->ret); }',
    command: '$W syscalls 5',
    compare: 'hist',
    expect: [
      /^Attaching 3 probes\.\.\.$/m,
      /^@calls\[tracepoint:syscalls:sys_enter_write\]: 25$/m,
      /^\[2K, 4K\) +5 \|/m,
    ],
  },
  {
    name: 'tracepoint return values: stats and lhist',
    program:
      'tracepoint:syscalls:sys_exit_read /comm == "$C"/ { @r = stats(args->ret); } tracepoint:syscalls:sys_enter_read /comm == "$C"/ { @req = lhist(args->count, 0, 128, 16); }',
    command: '$W syscalls 6',
    compare: 'hist',
    expect: [/^@r: count \d+, average \d+, total \d+$/m, /^\[96, 112\) /m],
  },
  {
    name: 'usdt probes: arguments and a semaphore-guarded probe',
    program:
      'usdt:$W:capc:tick { printf("tick %d %s\\n", arg0, str(arg1)); @[str(arg1)] = count(); } usdt:$W:capc:guarded { @g = sum(arg0); }',
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
  // profile:hz is not compared with bpftrace: on an idle machine an idle CPU takes
  // no cpu-clock samples at all, and with CPU 0 kept busy bpftrace 0.17 counted
  // 10 samples in a second at 100 Hz where capc counted 100. capc's profile
  // probes are checked on their own in tests/e2e/bpftrace-core.test.ts.
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
    program:
      'uprobe:$W:fn_str /arg1 == 2/ { @m[arg1] = arg1 * 10; print(-5); print("text"); print(str(arg0)); $v = @m[2]; print($v); print(arg1 + 1); }',
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
    program:
      'uprobe:$W:fn_value { @h = hist(arg0); @hk[arg0 % 2] = hist(arg0); @l = lhist(arg0, 0, 100, 10); @mx[arg0 % 3] = max(arg0); @mi = min(arg0); @a[arg0 % 2] = avg(arg0); @st = stats(arg0); @c[arg0 % 5, "k"] = count(); } uprobe:$W:fn_str { @s[arg1] = str(arg0); } uprobe:$W:fn_add /arg0 == 0/ { printf("json \\"quoted\\"\\n"); }',
    command: '$W calls 12',
    flags: ['-f', 'json'],
    compare: 'json',
    expect: [
      /^\{"type": "attached_probes", "data": \{"probes": 3\}\}$/m,
      /^\{"type": "hist", "data": \{"@hk": \{"/m,
      /^\{"type": "stats", "data": \{"@st": \{"count": 24, /m,
    ],
    note: 'bpftrace 0.17 prints two blank lines before the maps in JSON mode (not JSON); capc prints none',
  },
  {
    name: '-f json: print(), join() and value output',
    program:
      'tracepoint:syscalls:sys_enter_execve /pid == cpid/ { @n = count(); join(args->argv); print(1); print("s"); print(@n); }',
    command: '/bin/true a bb ccc',
    flags: ['-f', 'json'],
    compare: 'json',
    expect: [
      /^\{"type": "join", "data": "\/bin\/true a bb ccc"\}$/m,
      /^\{"type": "value", "data": 1\}$/m,
      /^\{"type": "map", "data": \{"@n": 1\}\}$/m,
    ],
  },
  {
    name: '-p PID: attach to a running process',
    program: 'uprobe:$W:fn_add { @[arg0] = count(); } uprobe:$W:level1 /arg0 == 4/ { exit(); }',
    flags: ['-p', '$PID'],
    background: ['$W', 'calls', '5'],
    env: { PAUSE_MS: '6000' },
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
    name: "-lv shows a tracepoint's fields",
    flags: ['-lv', 'tracepoint:sock:inet_sock_set_state'],
    compare: 'exact',
    expect: [/^ {4}__u8 saddr\[4\]$/m, /^ {4}const void \* skaddr$/m],
  },
];
