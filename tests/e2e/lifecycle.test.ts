// tests/e2e/lifecycle.test.ts — every way a session ends runs END once, prints
// the maps once, detaches everything and exits with the right code; kill -9
// leaves nothing attached (links are file descriptors); two sessions on the
// same probes do not disturb each other.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { whenAttached, withReadyPipe } from '../support/ready.js';
import { capcBin, repoRoot } from '../support/paths.js';
import { assertUnloaded, loadedCapcProgramIds, runCapc } from '../support/capc.js';
import { requireKernel } from '../support/kernel.js';
import { buildTarget } from '../support/targets.js';

const run = promisify(execFile);
const PROG = 'interval:ms:20 { @ticks = count(); } END { printf("END ran\\n"); }';

function endedCleanly(stdout: string): void {
  assert.equal((stdout.match(/^END ran$/gm) ?? []).length, 1, `END must run exactly once:\n${stdout}`);
  assert.equal((stdout.match(/^@ticks: \d+$/gm) ?? []).length, 1, `maps must print exactly once:\n${stdout}`);
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  test(`${sig}: END once, maps once, exit 0, nothing left attached`, async (t) => {
    if (!requireKernel(t)) return;
    const r = await runCapc(['run', '-q', '-e', PROG], {
      onAttached: (pid) => void setTimeout(() => process.kill(pid, sig), 200),
    });
    assert.equal(r.code, 0, r.stderr);
    endedCleanly(r.stdout);
  });
}

test('a second SIGINT while stopping does not skip END or the maps', async (t) => {
  if (!requireKernel(t)) return;
  const r = await runCapc(['run', '-q', '-e', PROG], {
    onAttached: (pid) =>
      void setTimeout(() => {
        process.kill(pid, 'SIGINT');
        setTimeout(() => process.kill(pid, 'SIGINT'), 5);
      }, 200),
  });
  assert.equal(r.code, 0, r.stderr);
  endedCleanly(r.stdout);
});

test('-c command exit, exit(), --duration: each ends the session once', async (t) => {
  if (!requireKernel(t)) return;
  const target = buildTarget('target');
  let r = await runCapc(['run', '-q', '-e', PROG, '-c', `${target} 3 100000`]);
  assert.equal(r.code, 0, r.stderr);
  endedCleanly(r.stdout);
  r = await runCapc([
    'run',
    '-q',
    '-e',
    'interval:ms:20 { @ticks = count(); if (elapsed > 100000000) { exit(4); } } END { printf("END ran\\n"); }',
  ]);
  assert.equal(r.code, 4, r.stderr);
  endedCleanly(r.stdout);
  r = await runCapc(['run', '-q', '--duration', '0.3', '-e', PROG]);
  assert.equal(r.code, 0, r.stderr);
  endedCleanly(r.stdout);
});

test('a failure while running still ends cleanly: END, maps, detach, and the error comes out', async (t) => {
  if (!requireKernel(t)) return;
  // The session runs in a child process and the fault is injected there: its renderer fails once,
  // 300 ms after attaching (capc has no switch for this; tests/support/failing-session.ts).
  const prog = PROG.replace('count(); }', 'count(); printf("tick\\n"); }');
  const r = await run(process.execPath, ['--import', 'tsx', 'tests/support/failing-session.ts', prog], {
    cwd: repoRoot,
    maxBuffer: 16 << 20,
  });
  const res = JSON.parse(r.stdout) as { rejected?: string; failed: boolean; out: string; programs: number[] };
  assert.match(res.rejected ?? '', /injected failure/);
  assert.ok(res.failed, 'the fault was injected');
  endedCleanly(res.out);
  await assertUnloaded(res.programs);
});

test('kill -9: the kernel drops every probe with the process', async (t) => {
  if (!requireKernel(t)) return;
  // --ready-fd: the documented way to learn that capc attached (and which programs it loaded).
  const child = spawn(
    capcBin,
    [
      'run',
      '-q',
      '--ready-fd',
      '3',
      '-e',
      'tracepoint:raw_syscalls:sys_enter { @ = count(); } interval:ms:10 { @t = count(); }',
    ],
    { cwd: repoRoot, stdio: withReadyPipe(['ignore', 'ignore', 'pipe']) },
  );
  try {
    const ids = await whenAttached(child);
    assert.ok(
      ids.length >= 2 && ids.every((id) => loadedCapcProgramIds().has(id)),
      `the running session's programs are loaded: ${ids}`,
    );
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    await assertUnloaded(ids);
  } finally {
    child.kill('SIGKILL');
  }
});

test('two sessions on the same probes count independently and exactly', async (t) => {
  if (!requireKernel(t)) return;
  const target = buildTarget('target');
  const prog = `uprobe:${target}:add /pid == cpid/ { @calls = count(); } tracepoint:raw_syscalls:sys_enter /pid == cpid/ { @sys = count(); }`;
  const [a, b] = await Promise.all([
    runCapc(['run', '-q', '-e', prog, '-c', `${target} 300`]),
    runCapc(['run', '-q', '-e', prog, '-c', `${target} 500`]),
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.match(a.stdout, /^@calls: 300$/m);
  assert.match(b.stdout, /^@calls: 500$/m);
});

test('SIGINT to exit with 30 tracepoints attached (measured, not asserted)', async (t) => {
  if (!requireKernel(t)) return;
  const prog =
    'tracepoint:syscalls:sys_enter_read*, tracepoint:syscalls:sys_enter_write*, tracepoint:syscalls:sys_enter_open*, tracepoint:syscalls:sys_enter_close*, tracepoint:syscalls:sys_enter_recv*, tracepoint:syscalls:sys_enter_send* { @[probe] = count(); }';
  let sentAt = 0;
  const r = await runCapc(['run', '-q', '-e', prog], {
    onAttached: (pid) => void setTimeout(() => ((sentAt = Date.now()), process.kill(pid, 'SIGINT')), 200),
    checkLeaks: true,
  });
  const took = Date.now() - sentAt;
  assert.equal(r.code, 0, r.stderr);
  const probes = (r.stdout.match(/^@\[/gm) ?? []).length;
  console.log(`# SIGINT to exit with ${probes} of the tracepoints having fired (30+ attached): ${took} ms`);
});

test('--ready-fd: a descriptor capc was not handed is a usage error, never written to', async () => {
  for (const [fd, msg] of [
    ['1', /0, 1 and 2 are capc's input and output/],
    ['x', /not a file descriptor number/],
    // Not handed over: whatever capc has there (its event loop's own descriptors) is not written to.
    ['9', /file descriptor 9 (is not open|was not handed to capc open for writing)/],
  ] as const) {
    const r = await runCapc(['run', '--ready-fd', fd, '-e', 'BEGIN { exit(); }'], { env: { CAPC_READY_FD: '' } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, msg);
  }
});
