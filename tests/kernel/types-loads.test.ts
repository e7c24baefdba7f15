// tests/kernel/types-loads.test.ts — every construct of C types in .cap
// compiles with clang and is accepted by the real kernel verifier (`capc
// check`), each in a program of its own so a rejection names the construct;
// the ones bpftrace 0.17 has no equal for (variable indexes into arrays, raw
// tracepoint arguments by name, <linux/sched.h>, typedefs in the script) also
// run, scoped to the test's own processes, and print what the target holds.
// The target is tests/fixtures/targets/types.c (`$Y`).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCapc } from '../support/capc.js';
import { requireKernel } from '../support/kernel.js';
import { buildTarget } from '../support/targets.js';

const STRUCTS = `struct point { int x; int y; };
struct conn {
  int fd; char name[16]; struct point pos; unsigned short port; long long bytes;
  struct point hops[3]; unsigned int flags : 3; unsigned int kind : 5; int grid[2][3];
  struct conn *next; const char *label; int color;
  union { int i; unsigned char c[4]; } u;
  signed char small; unsigned long big; unsigned char ok;
};
struct node { int value; struct node *next; };
`;
const onConn = (body: string) => `${STRUCTS}uprobe:$Y:send_conn { $c = (struct conn *)arg0; $i = arg1; ${body} }`;

/** [construct, program]: each must load. */
const PROGRAMS: [string, string][] = [
  ['a field through ->', onConn('printf("%d\\n", $c->fd);')],
  ['a char array field as a string', onConn('printf("%s\\n", $c->name);')],
  ['nested fields and arrays of structs', onConn('printf("%d %d\\n", $c->pos.y, $c->hops[2].x);')],
  ['a two-dimensional array, constant indexes', onConn('printf("%d\\n", $c->grid[1][2]);')],
  ['bitfields', onConn('printf("%d %d\\n", $c->flags, $c->kind);')],
  ['union members', onConn('printf("%d %d\\n", $c->u.i, $c->u.c[3]);')],
  ['a pointer chase', onConn('printf("%d %s\\n", $c->next->next->fd, str($c->next->label));')],
  ['a variable index through a pointer', onConn('printf("%d %d\\n", $c->hops[$i].x, $c->u.c[$i]);')],
  ['a variable index into a 2-D array field', onConn('printf("%d\\n", $c->grid[$i][$i + 1]);')],
  [
    'a variable index into a struct in a variable',
    onConn('$v = *$c; printf("%d %d\\n", $v.hops[$i].y, $v.grid[1][$i]);'),
  ],
  ['a variable index into an array in a variable', onConn('$h = $c->hops; printf("%d\\n", $h[$i].x);')],
  [
    'a typed int pointer: *p, p[i], p + n',
    onConn('$a = (int32 *)arg0; printf("%d %d %d\\n", *$a, $a[$i], *($a + 1));'),
  ],
  ['pointer arithmetic on struct pointers', onConn('$q = (struct point *)(arg0 + 40); printf("%d\\n", ($q + 1)->x);')],
  ['pointer comparisons', onConn('printf("%d %d\\n", $c == $c->next, $c->next != 0);')],
  [
    'sizeof of types and expressions',
    onConn('printf("%d %d %d\\n", sizeof(struct conn), sizeof($c->hops), sizeof(*$c));'),
  ],
  ['++ and -- on variables', onConn('$n = $c->fd; $n++; ++$n; $n--; --$n; printf("%d\\n", $n);')],
  ['++ and -- on map values', onConn('@n++; --@m; @k[$c->fd]++; @k[$c->fd]--;')],
  ['a struct copied into a variable', onConn('$p = $c->pos; printf("%d\\n", $p.x); print($p);')],
  ['a whole struct copied with *', onConn('$v = *$c; printf("%s %d\\n", $v.name, $v.hops[1].y);')],
  ['a struct as a map value and key', onConn('@v[$c->fd] = $c->pos; @k[$c->pos, $c->name] = count();')],
  ['an array as a map value and key', onConn('@h = $c->hops; @g[$c->grid] = count();')],
  ['a whole struct as a map value', onConn('@s[tid] = *$c; $s = @s[tid]; printf("%d\\n", $s.fd);')],
  ['struct comparison', onConn('$p = $c->pos; printf("%d\\n", $p == $c->next->pos);')],
  [
    'tuples: .0, nesting, in maps and keys',
    onConn('$t = ($c->fd, ($c->name, $c->pos)); @t = $t; @k[$t.1.0] = ($t.0, 1); print($t);'),
  ],
  [
    'print() of records, arrays, tuples',
    onConn('print($c->pos); print($c->hops); print($c->grid); print((1, "a", $c->pos));'),
  ],
  [
    'uprobe args by name from DWARF',
    `uprobe:$Y:walk { printf("%d %d %s %d\\n", args->tag, args->delta, str(args->title), args->head->next->value); }`,
  ],
  [
    'a typedef of the script',
    `typedef struct point { int x; int y; } point_t; uprobe:$Y:take_point { $p = (point_t *)arg0; print(*$p); }`,
  ],
  [
    '#define, enum constants, #include',
    `#include <linux/in.h>\n#define TWICE (2 * IPPROTO_TCP)\nenum e { A = 3 };\nBEGIN { printf("%d %d\\n", TWICE, A); exit(); }`,
  ],
  [
    '#include <linux/sched.h> (bpftrace 0.17 fails on it)',
    '#include <linux/sched.h>\nBEGIN { printf("%d %d\\n", CLONE_VM, sizeof(struct clone_args)); exit(); }',
  ],
  ['kernel enum constants from BTF', 'BEGIN { printf("%d\\n", TCP_CLOSE); exit(); }'],
  [
    'curtask fields and a pointer chase',
    'tracepoint:syscalls:sys_enter_getpid { printf("%d %s %d\\n", curtask->pid, curtask->comm, curtask->real_parent->tgid); }',
  ],
  [
    'a kernel struct copied and kept in a map',
    'tracepoint:syscalls:sys_enter_getpid { @w = curtask->se.load; print(curtask->se.load); }',
  ],
  [
    'a cast to a kernel struct',
    'tracepoint:syscalls:sys_enter_getpid { $t = (struct task_struct *)curtask; printf("%d\\n", $t->mm->owner->pid); }',
  ],
  [
    'kptr() and uptr()',
    `${STRUCTS}tracepoint:syscalls:sys_enter_getpid { $k = (struct task_struct *)kptr(curtask); $u = (struct point *)uptr(0); printf("%d %d\\n", $k->pid, $u->x); }`,
  ],
  [
    'a typed tracepoint pointer argument',
    'tracepoint:syscalls:sys_enter_clock_nanosleep { printf("%d\\n", args->rqtp->tv_nsec); @t[*args->rqtp] = count(); }',
  ],
  [
    'a byte pointer into a tracepoint string',
    'tracepoint:syscalls:sys_enter_openat { $p = (uint8 *)args->filename; $q = $p + 1; printf("%d %d %d\\n", *$p, $p[2], $q > $p); }',
  ],
  [
    'raw tracepoint arguments by name from BTF',
    'rawtracepoint:sched_switch { printf("%s %s\\n", args->prev->comm, args->next->comm); }',
  ],
];

for (const [what, text] of PROGRAMS) {
  test(`verifier accepts C types: ${what}`, async (t) => {
    if (!requireKernel(t)) return;
    const r = await runCapc(['check', '-e', text.replaceAll('$Y', buildTarget('types'))]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /accepted by the kernel verifier/);
  });
}

/** Runs `program` on the types target (-c: only its own process) and returns what it printed. */
async function runOnTarget(program: string, rounds = 3): Promise<string> {
  const y = buildTarget('types');
  const r = await runCapc(['run', '-q', '-e', program.replaceAll('$Y', y), '-c', `${y} ${rounds}`], {
    timeoutMs: 60_000,
  });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test('variable indexes read the right element, and 0 past the end', async (t) => {
  if (!requireKernel(t)) return;
  const out = await runOnTarget(
    onConn(
      '$v = *$c; $h = $c->hops; printf("%d %d %d %d\\n", $v.hops[$i].y, $v.grid[$i][$i + 1], $h[$i + 1].x, $c->hops[$i + 2].x);',
    ),
  );
  // hops[h] = { 2h + 1, 2h + 2 + i }, grid = [[1,2,3],[4,5,6]]; i = 0, 1, 2.
  assert.match(out, /^2 2 3 5\n5 6 5 0\n8 0 0 0$/m);
});

test('a typedef of the script and args of a uprobe read the same struct', async (t) => {
  if (!requireKernel(t)) return;
  const out = await runOnTarget(
    'typedef struct point { int x; int y; } point_t; uprobe:$Y:take_point { $p = (point_t *)arg0; printf("%d %d %d\\n", $p->x, args->p->y, args->scale); }',
    2,
  );
  assert.match(out, /^0 8 10\n7 8 11$/m);
});

test('#include <linux/sched.h> gives its macros and structs', async (t) => {
  if (!requireKernel(t)) return;
  const r = await runCapc(
    [
      'run',
      '-q',
      '-e',
      '#include <linux/sched.h>\nBEGIN { printf("%d %d\\n", CLONE_VM, sizeof(struct clone_args)); exit(); }',
    ],
    { timeoutMs: 60_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^256 88$/m);
});

test('raw tracepoint arguments by name: the task switched out is the current one', async (t) => {
  if (!requireKernel(t)) return;
  const out = await runOnTarget(
    'rawtracepoint:sched_switch /pid == cpid/ { @[args->prev->pid == tid, args->prev->tgid == pid] = count(); }',
    200,
  );
  assert.match(out, /^@\[1, 1\]: \d+$/m);
  assert.doesNotMatch(out, /^@\[0/m);
});
