// tests/e2e/printf-thread.test.ts — the events ring drained, formatted and
// written by a thread of the native library (runtime/format/printf-thread.ts)
// prints exactly what the main thread's paths print: the same bytes for a mix
// of formats (against CAPC_PRINTF_DRAIN=main and =js), control-record output
// (print() in a probe, interval prints) at its exact place among the printf
// lines, END and the maps after everything; a pipe that stays full for a
// while loses nothing, a closed pipe (`| head -1`) ends capc as before, and a
// program with a record kind the thread cannot format stays on the JavaScript
// path. The session's stats say which path ran.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { capcBin } from '../support/paths.js';
import { requireKernel } from '../support/kernel.js';

/** A single-threaded producer: lseek(0, i, SEEK_SET) for i in 1..n (each a record or two, in order). */
const seeker = (n: number, then = '') => `perl -e 'sysseek(STDIN, $_, 0) for 1..${n};${then}'`;

/** Every conversion the native formatter takes; print(@x) between the a and b lines of every 1000th call. */
const MIX =
  'BEGIN { @x = 7; printf("begin %s\\n", "here"); } ' +
  'tracepoint:syscalls:sys_enter_lseek /pid == cpid/ { ' +
  'printf("a %d %5x|%-6o|%+d %c %s %lu %#x %08.3d %-4s|%hhu %hd %p\\n", args.offset, args.offset, args.offset, -args.offset, ' +
  '65 + args.offset % 26, comm, args.offset * 1000000007, args.offset, args.offset % 977, "xy", args.offset, -args.offset, args.offset); ' +
  'if (args.offset % 1000 == 0) { print(@x); } ' +
  'printf("b %d\\n", args.offset); } ' +
  'END { printf("end %d\\n", 1); }';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'capc-printf-thread-'));
}

/** `capc run` through a shell (pipes as a user writes them); stdout to `out`, the session's stats read back. */
function run(program: string, command: string, drain: string | undefined, pipe = '', extra = '--ringbuf-size 64M') {
  const dir = tmp();
  const stats = path.join(dir, 'stats.json');
  const out = path.join(dir, 'out');
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const r = spawnSync(
    'bash',
    [
      '-c',
      `${q(capcBin)} run ${extra} -e ${q(program)} -c ${q(command)}${pipe} > ${q(out)}; echo "rc \${PIPESTATUS[0]}" >&2`,
    ],
    {
      env: {
        ...process.env,
        NO_COLOR: '1',
        CAPC_STATS_FILE: stats,
        ...(drain ? { CAPC_PRINTF_DRAIN: drain } : {}),
      },
      encoding: 'utf8',
      timeout: 120000,
    },
  );
  const result = {
    stdout: fs.readFileSync(out, 'latin1'),
    stderr: r.stderr,
    rc: Number(/rc (\d+)\n$/.exec(r.stderr)?.[1] ?? NaN),
    stats: fs.existsSync(stats) ? JSON.parse(fs.readFileSync(stats, 'utf8')) : undefined,
  };
  fs.rmSync(dir, { recursive: true, force: true });
  return result;
}

test('the printf thread prints the same bytes as the main thread and JavaScript, print() at its exact place', (t) => {
  if (!requireKernel(t)) return;
  const n = 100000;
  const thread = run(MIX, seeker(n), undefined);
  assert.equal(thread.rc, 0, thread.stderr);
  assert.equal(thread.stats.printf.drain, 'thread', JSON.stringify(thread.stats.printf));
  assert.equal(thread.stats.counters['ring-drop:capc_events'], 0, 'nothing dropped (else the outputs differ)');
  const lines = thread.stdout.split('\n');
  // Every print(@x) is between the a and b lines of the call that made it, never later.
  let prints = 0;
  for (const [i, l] of lines.entries()) {
    if (l !== '@x: 7') continue;
    if (i === lines.length - 2) break; // the maps at exit
    prints++;
    const a = /^a (\d+) /.exec(lines[i - 1]!);
    assert.ok(a && Number(a[1]) % 1000 === 0, `print() after ${lines[i - 1]}`);
    assert.equal(lines[i + 1], `b ${a[1]}`);
  }
  assert.ok(prints >= n / 1000, `${prints} print() lines`);
  assert.ok(thread.stdout.endsWith(`b ${n}\nend 1\n\n\n@x: 7\n`), thread.stdout.slice(-200));
  assert.ok(thread.stdout.startsWith('Attaching 3 probes...\nbegin here\n'));

  for (const drain of ['main', 'js']) {
    const other = run(MIX, seeker(n), drain);
    assert.equal(other.rc, 0, other.stderr);
    assert.equal(other.stats.printf.drain, drain);
    assert.equal(other.stats.counters['ring-drop:capc_events'], 0);
    // The command's own lseek calls (perl's start-up) carry its pid-dependent nothing: the outputs are equal.
    assert.ok(other.stdout === thread.stdout, `${drain}: output differs from the thread's`);
  }
});

test('interval prints and END come in order with the thread, writing to a file (-o)', (t) => {
  if (!requireKernel(t)) return;
  const program =
    // @n counted once in BEGIN: print() of an empty map prints nothing, and ticks may come before the first seek.
    'BEGIN { @n = count(); } tracepoint:syscalls:sys_enter_lseek /pid == cpid/ { @n = count(); printf("seek %d\\n", args.offset); } ' +
    'interval:ms:10 { printf("tick\\n"); print(@n); } END { printf("end\\n"); }';
  const dir = tmp();
  try {
    const file = path.join(dir, 'o.txt');
    const r = run(
      program,
      seeker(200000, 'select(undef, undef, undef, 0.3)'),
      undefined,
      '',
      `--ringbuf-size 64M -o ${file}`,
    );
    assert.equal(r.rc, 0, r.stderr);
    assert.equal(r.stats.printf.drain, 'thread');
    const text = fs.readFileSync(file, 'latin1');
    const lines = text.split('\n');
    // The seek lines all there, in order; a tick line is always followed by its map print.
    const seeks = lines.filter((l) => l.startsWith('seek ')).map((l) => Number(l.slice(5)));
    const mine = seeks.filter((v) => v > 0);
    assert.equal(mine.length, 200000);
    for (let i = 0; i < mine.length; i++) if (mine[i] !== i + 1) assert.fail(`seek ${mine[i]} at ${i}`);
    // Each tick's print(@n) comes after its tick line and before the next one (a seek record made on another
    // CPU may come between the two: it was reserved before the print's control record was).
    let ticks = 0;
    let last = 0;
    let open = false;
    for (const [i, l] of lines.entries()) {
      if (l === 'tick') {
        assert.ok(!open, `tick at line ${i} before the last tick's print`);
        open = true;
        ticks++;
        continue;
      }
      const m = /^@n: (\d+)$/.exec(l);
      if (!m || lines[i - 1] === '') continue; // the maps at exit
      assert.ok(open, `@n at line ${i} without a tick before it`);
      open = false;
      // The count a print shows was read after every seek line before it was made.
      const before = lines.slice(0, i).filter((x) => x.startsWith('seek ')).length;
      assert.ok(Number(m[1]) >= before && Number(m[1]) >= last, `@n ${m[1]} after ${before} seek lines`);
      last = Number(m[1]);
    }
    assert.ok(ticks >= 5, `${ticks} ticks`);
    assert.match(text, /\nend\n\n\n@n: \d+\n$/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a pipe that stays full for a while: the thread waits and buffers, nothing is lost or reordered', (t) => {
  if (!requireKernel(t)) return;
  const r = run(MIX, seeker(50000), undefined, ' | (sleep 2; cat)');
  assert.equal(r.rc, 0, r.stderr);
  assert.equal(r.stats.printf.drain, 'thread');
  assert.ok(r.stats.printf.fullWaits > 0, `the output was full at times: ${JSON.stringify(r.stats.printf)}`);
  assert.equal(r.stats.counters['ring-drop:capc_events'], 0);
  const ref = run(MIX, seeker(50000), 'main');
  assert.ok(r.stdout === ref.stdout, 'output differs from the main thread path');
});

test('a closed pipe (| head -1) ends capc as the main thread path does', (t) => {
  if (!requireKernel(t)) return;
  const program = 'tracepoint:syscalls:sys_enter_lseek /pid == cpid/ { printf("seek %d\\n", args.offset); }';
  const forever = `perl -e 'sysseek(STDIN, $_ % 1000, 0) for 1..1e12'`;
  for (const drain of [undefined, 'main']) {
    const started = Date.now();
    const r = run(program, forever, drain, ' | head -1');
    assert.equal(r.rc, 0, r.stderr);
    assert.equal(r.stdout, 'Attaching 1 probe...\n');
    assert.ok(Date.now() - started < 30000, 'capc stopped');
    assert.equal(r.stats.printf.drain, drain ?? 'thread');
    assert.doesNotMatch(r.stderr, /error/i);
  }
});

test('a record kind the thread cannot format (time()) keeps the program on the JavaScript path', (t) => {
  if (!requireKernel(t)) return;
  const program =
    'tracepoint:syscalls:sys_enter_lseek /pid == cpid/ { printf("seek %d\\n", args.offset); if (args.offset == 5) { time("%Y\\n"); } }';
  const r = run(program, seeker(10), undefined);
  assert.equal(r.rc, 0, r.stderr);
  assert.equal(r.stats.printf.drain, 'js');
  assert.match(r.stdout, new RegExp(`seek 5\\n${new Date().getFullYear()}\\nseek 6\\n`));
});
