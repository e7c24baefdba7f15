// tests/differential/cases-maps.ts — differential cases for maps and aggregations: every map kind, keys, print, clear, zero, delete.
// (see cases.ts for the fields of a case).
import type { Case } from './case.js';

export const MAP_CASES: Case[] = [
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
    program:
      'uprobe:$W:fn_value { @min[arg0 % 3] = min(arg0); @max[arg0 % 3] = max(arg0); } uretprobe:$W:fn_neg { @nmin = min((int64)retval); @nmax = max((int64)retval); }',
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
    program:
      'uprobe:$W:fn_add { @c[arg0 < 2 ? 0 : (arg0 < 5 ? 1 : (arg0 < 9 ? 2 : 3))] = count(); @h = hist(arg0); @s = stats(arg0); @a = avg(arg0); } ' +
      'uprobe:$W:level1 /arg0 == 19/ { printf("before\\n"); print(@c); print(@c, 2); print(@c, 3, 2); print(@h); print(@h, 0, 2); print(@s); print(@a); printf("after\\n"); }',
    command: '$W calls 20',
    compare: 'hist',
    expect: [
      /^before\n@c\[0\]: 2\n@c\[1\]: 3\n@c\[2\]: 4\n@c\[3\]: 11\n@c\[2\]: 4\n@c\[3\]: 11\n@c\[1\]: 1\n@c\[2\]: 2\n@c\[3\]: 5$/m,
      /^after$/m,
    ],
  },
  {
    name: 'clear(), zero() and delete()',
    program:
      'uprobe:$W:fn_add { @c[arg0 % 3] = count(); @z[arg0 % 3] = count(); @d[arg0] = arg0; @h = hist(arg0); } ' +
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
    program:
      'BEGIN { $x = 1; $x += 4; $x -= 2; $x *= 3; $x++; $x--; @m[1] = 10; @m[1] += 5; @m[1] -= 3; @m[1]++; @m[1]--; @m[2]++; @m[3]--; printf("%d %d\\n", $x, @m[1]); exit(); }',
    compare: 'exact',
    expect: [/^9 12$/m, /^@m\[3\]: -1$/m],
  },
];
