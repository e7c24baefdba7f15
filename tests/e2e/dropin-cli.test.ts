// tests/e2e/dropin-cli.test.ts — capc takes bpftrace 0.17's command line
// as it is (issue 14): the same argv is given to both tools and what they
// print is compared. Bad input (unknown options, a bad pid, a missing file,
// a bad -B or -f) gets bpftrace's words and never a stack trace; capc exits
// 2 where bpftrace exits 1 (capc's usage-error code, docs/language.md).
// Listings (-l, -lv), -q in JSON, a `#!` first line, and a script made
// executable with `#!/usr/bin/env capc` are checked against bpftrace too.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runBpftrace, runCapcTool, type ToolRun } from '../differential/harness.js';
import { requireKernel, requireTool } from '../support/kernel.js';
import { capcBin, repoRoot } from '../support/paths.js';
import { runCapc } from '../support/capc.js';

/** capc with exactly bpftrace's argv (no `run`): the drop-in form. */
function capcAsBpftrace(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(capcBin, argv, {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function bpftrace(argv: string[]): Promise<ToolRun> {
  return runBpftrace({ flags: argv });
}

/** The first message line, without the tool's prefix ("ERROR: ", "bpftrace: ", "error[E0904]: ", "capc: "). */
function message(stderr: string): string {
  const line = stderr.split('\n').find((l) => l.trim() && !/RLIMIT_MEMLOCK/.test(l)) ?? '';
  return line.replace(/^(ERROR: |bpftrace: |capc: |error\[E\d{4}\]: )/, '');
}

const BAD_INPUT: [string, string[]][] = [
  ['a pid that is not a number', ['-p', 'a1', '-e', 'BEGIN { exit(); }']],
  ['pid 0', ['-p', '0', '-e', 'BEGIN { exit(); }']],
  ['a pid above the largest pid_max', ['-p', '99999999', '-e', 'BEGIN { exit(); }']],
  ['an unknown long option', ['--bogus', '-e', 'BEGIN { exit(); }']],
  ['an unknown short option', ['-x', '-e', 'BEGIN { exit(); }']],
  ['-e without its program', ['-e']],
  ['a missing program file', ['/nonexistent/dropin-test.bt']],
  ['a bad -B mode', ['-B', 'xx', '-e', 'BEGIN { exit(); }']],
  ['a bad -f format', ['-f', 'yaml', '-e', 'BEGIN { exit(); }']],
];

for (const [what, argv] of BAD_INPUT) {
  test(`bad input as bpftrace words it: ${what}`, async (t) => {
    if (!requireTool(t, 'bpftrace')) return;
    const bt = await bpftrace(argv);
    const capc = await capcAsBpftrace(argv);
    assert.notEqual(bt.code, 0);
    assert.equal(capc.code, 2, `capc exits 2 for usage errors\n${capc.stderr}`);
    assert.equal(message(capc.stderr), message(bt.stderr).replaceAll('bpftrace', 'capc'));
    assert.doesNotMatch(capc.stderr, /\n\s+at .*\.(ts|js|mjs):\d+/, 'no stack trace');
    assert.equal(capc.stdout, '');
  });
}

test('-q -f json: no attached_probes line, the map as bpftrace prints it', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'bpftrace')) return;
  const argv = ['-q', '-f', 'json', '-e', 'BEGIN { @a[1] = 2; exit(); }'];
  const bt = await bpftrace(argv);
  const capc = await capcAsBpftrace(argv);
  assert.equal(capc.code, 0, capc.stderr);
  const lines = (s: string) => s.split('\n').filter((l) => l.trim());
  assert.deepEqual(lines(capc.stdout), lines(bt.stdout));
  assert.deepEqual(lines(capc.stdout), ['{"type": "map", "data": {"@a": {"1": 2}}}']);
  // Without -q both print the attached_probes line first.
  const loud = await capcAsBpftrace(argv.slice(1));
  assert.equal(lines(loud.stdout)[0], '{"type": "attached_probes", "data": {"probes": 1}}');
});

test('-l PATTERN and -lv list what bpftrace lists', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'bpftrace')) return;
  for (const argv of [
    ['-l', 'tracepoint:syscalls:sys_enter_open*'],
    ['-lv', 'tracepoint:syscalls:sys_enter_openat'],
    ['-l', 'tracepoint:sched:sched_process_*'],
  ]) {
    const bt = await bpftrace(argv);
    const capc = await capcAsBpftrace(argv);
    assert.equal(capc.code, 0, capc.stderr);
    assert.ok(capc.stdout.trim(), `capc ${argv.join(' ')} listed nothing`);
    assert.equal(capc.stdout.trimEnd(), bt.stdout.trimEnd(), argv.join(' '));
  }
});

test('a .bt file with a #!/usr/bin/env bpftrace line runs unchanged: capc FILE prints what bpftrace prints', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'bpftrace')) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-dropin-'));
  try {
    const file = path.join(dir, 'hello.bt');
    fs.writeFileSync(
      file,
      '#!/usr/bin/env bpftrace\n// a comment\nBEGIN { printf("hello %d %s\\n", $1, str($2)); @[$1] = count(); exit(); }\n',
    );
    const bt = await bpftrace([file, '7', 'seven']);
    const capc = await capcAsBpftrace([file, '7', 'seven']);
    assert.equal(capc.code, 0, capc.stderr);
    assert.match(capc.stdout, /^hello 7 seven$/m);
    assert.equal(capc.stdout, bt.stdout);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a script made executable with #!/usr/bin/env capc runs (bin/capc as the interpreter)', async (t) => {
  if (!requireKernel(t)) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-dropin-'));
  try {
    const file = path.join(dir, 'tool.bt');
    fs.writeFileSync(file, '#!/usr/bin/env capc\nBEGIN { printf("run by capc: %s\\n", str($1)); exit(); }\n', {
      mode: 0o755,
    });
    const r = await new Promise<ToolRun>((resolve, reject) => {
      const child = spawn(file, ['arg1'], {
        env: { ...process.env, NO_COLOR: '1', PATH: `${path.dirname(capcBin)}:${process.env.PATH ?? ''}` },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Attaching 1 probe\.\.\.\nrun by capc: arg1\n/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('hardware: probes compile, then fail at attach with E0802 (this VM has no PMU), exit 1', async (t) => {
  if (!requireKernel(t)) return;
  if (fs.existsSync('/sys/bus/event_source/devices/cpu')) {
    t.skip('this machine has a cpu PMU: hardware events attach here');
    return;
  }
  const check = await capcAsBpftrace(['-d', '-e', 'hardware:cpu-cycles:1000000 { @ = count(); }']);
  assert.equal(check.code, 0, check.stderr);
  const r = await capcAsBpftrace(['-e', 'hardware:cpu-cycles:1000000 { @ = count(); }']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error\[E0802\]: cannot attach hardware:cpu-cycles:1000000: this machine has no hardware/);
});

test('software: probes under capc FILE -c CMD count what bpftrace counts', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'bpftrace')) return;
  const prog = 'software:page-faults:1 /pid == cpid/ { @ = count(); }';
  const cmd = '/usr/bin/python3 -c pass';
  const count = (s: string) => Number(/^@: (\d+)$/m.exec(s)?.[1]);
  const bt = count((await bpftrace(['-c', cmd, '-e', prog])).stdout);
  const capc = await capcAsBpftrace(['-c', cmd, '-e', prog]);
  assert.equal(capc.code, 0, capc.stderr);
  const n = count(capc.stdout);
  assert.ok(n > 0 && n >= bt / 2 && n <= bt * 2, `capc ${n}, bpftrace ${bt}`);
});

test('-I DIR and --include FILE give the program C headers as bpftrace 0.17 does; -k reports failed helper calls, and says nothing when none fails', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'bpftrace')) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-inc-'));
  try {
    fs.writeFileSync(path.join(dir, 'capc-hdr.h'), '#define HDR_VAL 42\nstruct hdr_s { int a; char b; long c; };\n');
    const prog = 'BEGIN { printf("%d %d\\n", HDR_VAL, sizeof(struct hdr_s)); exit(); }';
    // A name searched through -I, and a path relative to the current directory (clang runs elsewhere).
    for (const argv of [
      ['-I', dir, '--include', 'capc-hdr.h'],
      ['--include', path.relative(repoRoot, path.join(dir, 'capc-hdr.h'))],
    ]) {
      const bt = await runBpftrace({ program: prog, flags: argv });
      const capc = await capcAsBpftrace([...argv, '-e', prog]);
      assert.equal(capc.code, 0, capc.stderr);
      assert.match(capc.stdout, /^42 16$/m);
      assert.equal(bt.code, 0, bt.stderr);
      assert.match(bt.stdout, /^42 16$/m);
    }
    // A header that is not there: clang's words, E0321, exit 2 (bpftrace: "fatal error: 'X' file not found").
    const missing = await capcAsBpftrace(['--include', 'capc-missing.h', '-e', 'BEGIN { exit(); }']);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /error\[E0321\]: .*--include: 'capc-missing\.h' file not found/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const k = await runCapcTool({ program: 'BEGIN { printf("k\\n"); exit(); }', flags: ['-k'] });
  assert.equal(k.code, 0, k.stderr);
  assert.match(k.stdout, /^k$/m);
  assert.equal(
    k.stderr,
    '',
    'no warning: -k works (tests/differential/cases-dropin2.ts compares its reports with bpftrace)',
  );
});

test('check, emit and build take --unsafe and -k as run does', async (t) => {
  if (!requireKernel(t)) return;
  const prog = 'BEGIN { system("echo x"); exit(); }';
  const refused = await runCapc(['check', '-e', prog]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /E0330/);
  const checked = await runCapc(['check', '--unsafe', '-k', '-e', prog]);
  assert.equal(checked.code, 0, checked.stderr);
  assert.match(checked.stdout, /ok: 1 probe accepted by the kernel verifier/);
  const emitted = await runCapc(['emit', '--unsafe', '-e', prog]);
  assert.equal(emitted.code, 0, emitted.stderr);
});
