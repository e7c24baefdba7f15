// tests/e2e/bpftrace-core.test.ts — the parts of the bpftrace core that
// bpftrace 0.17 cannot be compared with (raw tracepoints, uprobe offsets on
// Debian's build, kprobe/fentry refusals on this kernel, the loop limit, the
// control ring under a flood), run with the real capc on the real kernel.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { runCapc } from '../support/capc.js';
import { requireKernel, requireSdt, requireTool } from '../support/kernel.js';
import { buildTarget } from '../support/targets.js';
import { onlineCpus } from '../../runtime/bpf/attach.js';

const workload = () => buildTarget('workload');
const commOf = (p: string) => path.basename(p).slice(0, 15);

test('rawtracepoint sees every syscall the tracepoint sees', async (t) => {
  if (!requireKernel(t)) return;
  const w = workload();
  const prog = `rawtracepoint:sys_enter /comm == "${commOf(w)}"/ { @rt = count(); @ids[arg1] = count(); } tracepoint:raw_syscalls:sys_enter /comm == "${commOf(w)}"/ { @tp = count(); }`;
  const r = await runCapc(['run', '-q', '-e', prog, '-c', `${w} syscalls 5`]);
  assert.equal(r.code, 0, r.stderr);
  const rt = Number(/^@rt: (\d+)$/m.exec(r.stdout)?.[1]);
  const tp = Number(/^@tp: (\d+)$/m.exec(r.stdout)?.[1]);
  assert.ok(rt >= 35, `5 rounds of open + 5 writes + read + close: ${rt}`);
  assert.equal(rt, tp);
  assert.match(r.stdout, /^@ids\[1\]: 25$/m, 'write is syscall 1 on x86-64: 25 writes');
});

test('uprobe at FUNC+OFFSET fires as often as at the entry', async (t) => {
  if (!requireKernel(t)) return;
  const w = workload();
  const r = await runCapc([
    'run',
    '-q',
    '-e',
    `uprobe:${w}:fn_add+4 { @off[arg0 < 100] = count(); } uprobe:${w}:fn_add { @entry = count(); }`,
    '-c',
    `${w} calls 37`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^@entry: 37$/m);
  assert.match(r.stdout, /^@off\[1\]: 37$/m);
});

test('kprobe and kretprobe compile, load, and fail to attach naming the missing feature (E0802)', async (t) => {
  if (!requireKernel(t)) return;
  const check = await runCapc([
    'check',
    '-e',
    'kprobe:do_sys_openat2 { @[arg0] = count(); } kretprobe:vfs_read { @r = hist(retval); }',
  ]);
  assert.equal(check.code, 0, `kprobe programs pass the verifier: ${check.stderr}`);
  const r = await runCapc(['run', '-e', 'kprobe:do_sys_openat2 { @ = count(); }', '--duration', '1']);
  if (r.code === 0) return t.skip('this kernel has kprobes');
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /error\[E0802\]: cannot attach kprobe:do_sys_openat2: this kernel has no kprobes \(it was built without CONFIG_KPROBES/,
  );
  assert.match(
    r.stderr,
    /hint: use a tracepoint instead: tracepoint:syscalls:sys_enter_openat2 or tracepoint:syscalls:sys_enter_openat/,
  );
  const ret = await runCapc(['run', '-e', 'kretprobe:vfs_read { @ = count(); }']);
  assert.match(ret.stderr, /E0802.*kretprobe:vfs_read/);
  assert.match(ret.stderr, /tracepoint:syscalls:sys_exit_read/);
});

test('fentry and fexit compile and fail naming BPF trampolines (E0802)', async (t) => {
  if (!requireKernel(t)) return;
  const r = await runCapc([
    'run',
    '-e',
    'fentry:vfs_write { @[args->count] = count(); } fexit:vfs_write { @r = sum(retval); }',
    '--duration',
    '1',
  ]);
  if (r.code === 0) return t.skip('this kernel allows fentry');
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /error\[E0802\]: cannot attach f(entry|exit):vfs_write: the kernel refuses f(entry|exit) programs \(BPF trampolines\): loading one failed with Operation not permitted/,
  );
  assert.match(r.stderr, /hint: use a tracepoint instead: tracepoint:syscalls:sys_(enter|exit)_write/);
});

test('profile samples on every CPU', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'taskset')) return;
  // An idle CPU takes no cpu-clock samples (NOHZ idle): keep every CPU busy for the second.
  const spin = onlineCpus()
    .map((c) => `taskset -c ${c} timeout 1.5 sh -c 'while :; do :; done' &`)
    .join(' ');
  const r = await runCapc(['run', '-q', '-e', 'profile:hz:200 { @[cpu] = count(); }', '-c', `sh -c "${spin} wait"`]);
  assert.equal(r.code, 0, r.stderr);
  const cpus = [...r.stdout.matchAll(/^@\[(\d+)\]: (\d+)$/gm)].map((m) => Number(m[1]));
  assert.deepEqual(cpus.sort(), onlineCpus(), `samples on every online CPU: ${r.stdout}`);
});

test('usdt: the provider may be left out when the name is unique', async (t) => {
  if (!requireKernel(t) || !requireSdt(t)) return;
  const w = workload();
  const r = await runCapc([
    'run',
    '-q',
    '-e',
    `usdt:${w}:tick { @t = count(); } usdt:${w}:capc:guarded { @g = count(); }`,
    '-c',
    `${w} usdt 9`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^@t: 9$/m);
  assert.match(r.stdout, /^@g: 9$/m, 'the semaphore was raised while attached');
});

test('a while loop stops at loop_limit and says so (W0904)', async (t) => {
  if (!requireKernel(t)) return;
  const r = await runCapc([
    'run',
    '-q',
    '-e',
    'config = { loop_limit = 100 }\nBEGIN { $i = 0; while (1) { $i++; } printf("%d\\n", $i); exit(); }',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^100$/m);
  assert.match(r.stderr, /warning\[W0904\]: the while loop at -e:2 stopped 1 time at its limit of 100 iterations/);
});

test('print() keeps its place among printf output and is never lost, even when printf records are', async (t) => {
  if (!requireKernel(t)) return;
  const w = workload();
  // A 4 KiB event ring cannot hold 3000 printf records: many are dropped (and
  // counted), but the control ring still delivers every print(), in order.
  const prog = `uprobe:${w}:fn_add { @c = count(); printf("a %d\\n", arg0); if (arg0 % 1000 == 999) { print(@c); } }`;
  const r = await runCapc(['run', '-q', '--ringbuf-size', '4K', '-e', prog, '-c', `${w} calls 3000`]);
  assert.equal(r.code, 0, r.stderr);
  const prints = [...r.stdout.matchAll(/^@c: (\d+)$/gm)].map((m) => Number(m[1]));
  assert.equal(prints.length, 4, `three print()s and the exit dump: ${prints.join(',')}`);
  assert.ok(
    prints[0]! >= 1000 && prints[1]! >= 2000 && prints[2]! >= 3000 - 1,
    `each print() reads the map after the call that asked: ${prints.join(',')}`,
  );
  const lines = r.stdout.split('\n');
  for (const n of [999, 1999]) {
    const at = lines.indexOf(`a ${n}`);
    if (at >= 0) assert.match(lines[at + 1]!, /^@c: \d+$/, `print() right after "a ${n}"`);
  }
  assert.match(r.stderr, /warning\[W0901\]: \d+ events? lost: ring buffer capc_events was full/);
});

test('capc list: raw tracepoints and kernel functions, with -v prototypes', async (t) => {
  if (!requireKernel(t)) return;
  const rt = await runCapc(['list', '-v', 'rawtracepoint:sys_ent*'], { checkLeaks: false });
  assert.equal(rt.code, 0, rt.stderr);
  // Names from the kernel's __probestub_sys_enter (the btf_trace_ typedef has none).
  assert.equal(rt.stdout, 'rawtracepoint:sys_enter\n    struct pt_regs * regs\n    long int id\n');
  const k = await runCapc(['-l', 'kprobe:vfs_rea*'], { checkLeaks: false });
  assert.match(k.stdout, /^kprobe:vfs_read$/m);
  const f = await runCapc(['-lv', 'fentry:vfs_read'], { checkLeaks: false });
  assert.equal(
    f.stdout,
    'fentry:vfs_read\n    struct file * file\n    char * buf\n    size_t count\n    loff_t * pos\n    ssize_t retval\n',
  );
});

test('every kind of tracepoint field is readable: arrays, __data_loc arrays and bitmaps', async (t) => {
  if (!requireKernel(t)) return;
  const prog =
    'tracepoint:dma:dma_map_sg { @[args->lengths[0], args->phys_addrs[$1]] = count(); printf("%rh\\n", buf(args->dma_addrs)); } ' +
    'tracepoint:ipi:ipi_send_cpumask { @c[args->cpumask[0]] = count(); } tracepoint:sock:inet_sock_set_state { @s[args->saddr[3], ntop(args->daddr_v6)] = count(); }';
  const r = await runCapc(['check', '-e', prog, '1']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /ok: 3 probes accepted by the kernel verifier/);
});

test('BEGIN runs before any other probe fires: its output comes first, even when an event calls exit() at once', async (t) => {
  if (!requireKernel(t)) return;
  // A process already calling getppid(2) in a loop: the probe fires as soon as it is attached.
  const rate = buildTarget('rate');
  const storm = spawn(rate, ['200000', '30'], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 3; i++) {
      const r = await runCapc([
        'run',
        '-e',
        `BEGIN { printf("header\\n"); @set = 1; } tracepoint:syscalls:sys_enter_getppid /pid == ${storm.pid}/ { printf("event %d\\n", @set); exit(); }`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Attaching 2 probes\.\.\.\nheader\nevent 1\n/, r.stdout);
    }
  } finally {
    storm.kill('SIGKILL');
  }
});
