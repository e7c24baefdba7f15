// tests/e2e/run.test.ts — `capc run` driven as a user drives it, on the real
// kernel: probes really attach, events really flow, output is checked, and
// afterwards nothing capc loaded is left in the kernel.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { thirtyTracepoints } from '../support/programs.js';
import { runCapc } from '../support/capc.js';
import { requireKernel } from '../support/kernel.js';
import { buildTarget } from '../support/targets.js';

test('BEGIN printf prints exactly what bpftrace prints', async (t) => {
  if (!requireKernel(t)) return;
  const r = await runCapc(['run', '-e', 'BEGIN { printf("hi\\n"); exit(); }']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'Attaching 1 probe...\nhi\n\n\n');
});

test('opensnoop on a -c command shows the file it opened', async (t) => {
  if (!requireKernel(t)) return;
  const r = await runCapc([
    'run',
    '-e',
    'tracepoint:syscalls:sys_enter_openat /comm == "cat"/ { printf("%s\\n", str(args->filename)); }',
    '-c',
    'cat /etc/hostname',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\/etc\/hostname$/m);
  assert.match(r.stdout, /^Attaching 1 probe\.\.\.$/m);
});

test('a uprobe counts exactly as many calls as the program makes', async (t) => {
  if (!requireKernel(t)) return;
  const target = buildTarget('target');
  for (const n of [1, 37, 500]) {
    const r = await runCapc([
      'run',
      '-q',
      '-e',
      `uprobe:${target}:add { @calls = count(); @args = sum(arg0 + arg1); }`,
      '-c',
      `${target} ${n}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^@calls: ${n}$`, 'm'));
    // add(i, 1) for i in 0..n-1: sum of (i + 1) = n(n+1)/2
    assert.match(r.stdout, new RegExp(`^@args: ${(n * (n + 1)) / 2}$`, 'm'));
  }
});

test('uretprobe sees return values; entry/return pairs time a function', async (t) => {
  if (!requireKernel(t)) return;
  const target = buildTarget('target');
  const prog = `uretprobe:${target}:add { @ret[retval] = count(); }
uprobe:${target}:slow_add { @start[tid] = nsecs; }
uretprobe:${target}:slow_add /@start[tid]/ { @us = sum((nsecs - @start[tid]) / 1000); @n = count(); delete(@start[tid]); }`;
  const r = await runCapc(['run', '-q', '-e', prog, '-c', `${target} 3 2000`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^@ret\[1\]: 1$/m);
  assert.match(r.stdout, /^@ret\[2\]: 1$/m);
  assert.match(r.stdout, /^@ret\[3\]: 1$/m);
  assert.match(r.stdout, /^@n: 3$/m);
  const us = Number(/^@us: (\d+)$/m.exec(r.stdout)?.[1]);
  assert.ok(us >= 6000 && us < 600000, `3 calls sleeping 2 ms took ${us} us`);
});

test('uprobe arguments: registers, stack arguments and user strings', async (t) => {
  if (!requireKernel(t)) return;
  const target = buildTarget('target');
  const prog = `uprobe:${target}:greet /arg1 == 2/ { printf("[%s] [%s] %d\\n", str(arg0), str(arg0, 2), arg1); }
uprobe:${target}:many_args /cpid == pid/ { @a[arg0, arg5, arg6, arg7] = count(); }`;
  const r = await runCapc(['run', '-q', '-e', prog, '-c', `${target} 4`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\[capc\] \[ca\] 2$/m);
  assert.match(r.stdout, /^@a\[1, 6, 7, 8\]: 4$/m);
});

test('maps print at exit sorted by name, entries ascending by value', async (t) => {
  if (!requireKernel(t)) return;
  const target = buildTarget('target');
  const r = await runCapc([
    'run',
    '-q',
    '-e',
    `uprobe:${target}:add { @z[arg0 % 3] = count(); @a = sum(1); }`,
    '-c',
    `${target} 7`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  // i % 3 for i in 0..6: 0 x3, 1 x2, 2 x2 — ascending by value, ties by key
  assert.equal(r.stdout, '\n\n@a: 7\n@z[1]: 2\n@z[2]: 2\n@z[0]: 3\n');
});

test('-f json prints bpftrace NDJSON with no blank lines', async (t) => {
  if (!requireKernel(t)) return;
  const target = buildTarget('target');
  const r = await runCapc([
    'run',
    '-f',
    'json',
    '-e',
    `BEGIN { printf("start\\n"); } uprobe:${target}:add { @[comm, arg1] = count(); }`,
    '-c',
    `${target} 5`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l, i, a) => i < a.length - 1 || l !== '');
  for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), `not JSON: ${JSON.stringify(l)}`);
  const name = path.basename(target).slice(0, 15);
  assert.deepEqual(lines, [
    '{"type": "attached_probes", "data": {"probes": 2}}',
    '{"type": "printf", "data": "start\\n"}',
    `{"type": "map", "data": {"@": {"${name},1": 5}}}`,
  ]);
});

test('exit() stops tracing, runs END once, and sets the exit code', async (t) => {
  if (!requireKernel(t)) return;
  const target = buildTarget('target');
  const r = await runCapc([
    'run',
    '-q',
    '-e',
    `uprobe:${target}:add { @n = count(); if (arg0 == 4) { exit(3); } } END { printf("end\\n"); }`,
    '-c',
    `${target} 50`,
  ]);
  assert.equal(r.code, 3, r.stderr);
  assert.equal((r.stdout.match(/^end$/gm) ?? []).length, 1);
  assert.match(r.stdout, /^@n: 5$/m, 'no probe body runs after exit()');
});

test('exit() in the last call the -c command makes still sets the exit code (the command ending first is a race)', async (t) => {
  if (!requireKernel(t)) return;
  const target = buildTarget('target');
  // target 5 calls add(4, ...) last and exits at once: its exit may be seen before the exit record is read.
  for (let i = 0; i < 10; i++) {
    const r = await runCapc([
      'run',
      '-q',
      '-e',
      `uprobe:${target}:add { @n = count(); if (arg0 == 4) { exit(3); } }`,
      '-c',
      `${target} 5`,
    ]);
    assert.equal(r.code, 3, `run ${i}: ${r.stderr}`);
    assert.match(r.stdout, /^@n: 5$/m);
  }
});

test('interval probes fire, --duration stops the session', async (t) => {
  if (!requireKernel(t)) return;
  const started = Date.now();
  const r = await runCapc(['run', '-q', '--duration', '1', '-e', 'interval:ms:100 { @ticks = count(); }']);
  const took = Date.now() - started;
  assert.equal(r.code, 0, r.stderr);
  const ticks = Number(/^@ticks: (\d+)$/m.exec(r.stdout)?.[1]);
  assert.ok(ticks >= 7 && ticks <= 11, `~10 ticks in 1 s, got ${ticks}`);
  assert.ok(took < 10000, `took ${took} ms`);
});

test('printf widths, flags and conversions match C', async (t) => {
  if (!requireKernel(t)) return;
  const r = await runCapc([
    'run',
    '-q',
    '-e',
    'BEGIN { printf("[%-6s][%6s][%06d][%-4d][%x][%X][%#x][%o][%c][%u][%+d][%%][%.2s]\\n", "ab", "cd", 42, 7, 255, 255, 255, 8, 65, -1, 5, "xyz"); exit(); }',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout.split('\n')[0],
    // %u of -1 reads 32 bits of the 64-bit argument, as C and bpftrace 0.17 do (%lu prints all 64).
    '[ab    ][    cd][000042][7   ][ff][FF][0xff][10][A][4294967295][+5][%][xy]',
  );
});

test('-o writes output to a file', async (t) => {
  if (!requireKernel(t)) return;
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'capc-o-')), 'out.txt');
  const r = await runCapc(['run', '-o', file, '-e', 'BEGIN { printf("to a file\\n"); exit(); }']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(fs.readFileSync(file, 'utf8'), /^to a file$/m);
});

test('positional parameters in probes and expressions', async (t) => {
  if (!requireKernel(t)) return;
  const target = buildTarget('target');
  const r = await runCapc([
    'run',
    '-q',
    '-e',
    'uprobe:$1:add /arg0 == $2/ { printf("%s %d\\n", $3, arg0); }',
    target,
    '2',
    'word',
    '-c',
    `${target} 5`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^word 2$/m);
});

test('SIGINT ends the session cleanly: END runs, maps print, exit 0', async (t) => {
  if (!requireKernel(t)) return;
  const r = await runCapc(['run', '-q', '-e', 'interval:ms:50 { @n = count(); } END { printf("bye\\n"); }'], {
    onAttached: (pid) => void setTimeout(() => process.kill(pid, 'SIGINT'), 300),
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^bye$/m);
  assert.match(r.stdout, /^@n: \d+$/m);
});

test('a slow detach (30 tracepoints, each waiting for the kernel) says so on stderr, once, and -q keeps it quiet', async (t) => {
  if (!requireKernel(t)) return;
  const prog = thirtyTracepoints('{ @n = count(); }');
  // As perf events: run from the raw tracepoint (the default) they detach in milliseconds.
  const r = await runCapc(['run', '--tracepoints=perf', '--duration', '0.3', '-e', prog]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((r.stderr.match(/^Detaching 30 probes\.\.\.$/gm) ?? []).length, 1, r.stderr);
  assert.match(r.stdout, /^Attaching 30 probes\.\.\.\n/);
  assert.doesNotMatch(r.stdout, /Detaching/);
  const q = await runCapc(['run', '-q', '--tracepoints=perf', '--duration', '0.3', '-e', prog]);
  assert.equal(q.code, 0, q.stderr);
  assert.doesNotMatch(q.stderr, /Detaching/);
});
