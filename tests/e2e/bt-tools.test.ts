// tests/e2e/bt-tools.test.ts — the tools Debian's bpftrace package installs
// (/usr/sbin/*.bt), unmodified, under capc (issue 14):
//   - `capc check` accepts each, or fails in the way listed here for it
//     (KNOWN below, with the reason): where this machine's kernel lacks or
//     renamed what the tool probes or reads (E0407, E0409, E0317), or where
//     capc lacks a feature. The 14 tools with C preprocessor lines (#include,
//     #ifndef BPFTRACE_HAVE_BTF, #define) go through clang like any other C
//     definitions (issue 13): 10 are accepted (biosnoop, naptime, oomkill,
//     tcpaccept, tcpconnect, tcpdrop, tcplife, tcpretrans, tcpsynbl, undump),
//     the other 4 are in KNOWN (dcsnoop, mdflush, runqlat, runqlen); a tool
//     with C lines that is accepted says so;
//   - a tool whose probes are all kprobes fails at attach with the
//     documented E0802 (this kernel has no kprobes);
//   - tracepoint tools run under `capc FILE -c CMD` and print, for the
//     command's own lines, what bpftrace 0.17 prints.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runBpftrace } from '../differential/harness.js';
import { runCapc } from '../support/capc.js';
import { requireKernel, requireTool } from '../support/kernel.js';
import { ownCommand } from '../support/own-command.js';

const TOOLS_DIR = '/usr/sbin';
const tools = fs.existsSync(TOOLS_DIR)
  ? fs
      .readdirSync(TOOLS_DIR)
      .filter((f) => f.endsWith('.bt'))
      .sort()
  : [];

/** Failures, each with the reason; anything else failing is a regression. */
const KNOWN: Record<string, { codes: string[]; why: string }> = {
  'dcsnoop.bt': {
    codes: ['E0409'],
    why: "kprobe:lookup_fast.constprop.*: this kernel's lookup_fast is not a .constprop clone (compiler-made names change with kernels)",
  },
  'mdflush.bt': {
    codes: ['E0407'],
    why: 'kprobe:md_flush_request: the md driver is not in this kernel (no module loaded)',
  },
  'runqlat.bt': {
    codes: ['E0201'],
    why: "TASK_RUNNING is a macro of the kernel's own linux/sched.h, which is not installed (the uapi <linux/sched.h> the tool includes lacks it) and BTF has no macros (bpftrace 0.17 fails on that header too)",
  },
  'runqlen.bt': {
    codes: ['E0317'],
    why: "struct cfs_rq has no nr_running in this kernel (renamed nr_queued in 6.14; BTF has the kernel's layout; bpftrace 0.17 fails the same way)",
  },
  'loads.bt': {
    codes: ['E0407'],
    why: 'kaddr("avenrun"): a data symbol, which this kernel\'s /proc/kallsyms does not list (bpftrace fails too)',
  },
  'swapin.bt': { codes: ['E0407', 'E0204'], why: 'kprobe:swap_readpage does not exist in this kernel' },
};

/** The line of the first C preprocessor directive, or undefined. */
function firstDirective(text: string): number | undefined {
  const i = text.split('\n').findIndex((l, n) => n > 0 && /^#\s*(include|ifn?def|define|if|endif)\b/.test(l));
  return i < 0 ? undefined : i + 1;
}

const codes = (stderr: string) => [...new Set([...stderr.matchAll(/error\[(E\d{4})\]/g)].map((m) => m[1]!))].sort();

for (const tool of tools) {
  test(`capc check ${tool} (unmodified)`, async (t) => {
    if (!requireKernel(t)) return;
    const file = path.join(TOOLS_DIR, tool);
    const text = fs.readFileSync(file, 'utf8');
    const r = await runCapc(['check', file]);
    const directive = firstDirective(text);
    // C lines are handed to clang: never a parse error at a `#`.
    assert.doesNotMatch(r.stderr, /unexpected character '#'/);
    if (r.code === 0) {
      assert.doesNotMatch(r.stderr, /error\[/);
      // Only attach points this machine lacks may be skipped, and they are named; a function
      // glibc moved (threadsnoop's pthread_create, from libpthread to libc) is probed where it is, and named.
      for (const w of r.stderr.matchAll(/warning\[(W\d{4})\]/g))
        assert.ok(w[1] === 'W0102' || (w[1] === 'W0103' && tool === 'threadsnoop.bt'), r.stderr);
      assert.ok(!KNOWN[tool], `${tool} is accepted now: take it out of KNOWN`);
      if (directive !== undefined) t.diagnostic(`${tool}: C lines from line ${directive} (#include...): accepted`);
      return;
    }
    assert.equal(r.code, 2, r.stderr);
    const known = KNOWN[tool];
    assert.ok(known, `${tool} fails in a way not listed here:\n${r.stderr}`);
    assert.deepEqual(codes(r.stderr), [...known.codes].sort(), r.stderr);
    t.diagnostic(`${tool}: ${directive !== undefined ? 'has C lines; ' : ''}known failure: ${known.why}`);
  });
}

test('a kprobe tool (vfscount.bt) compiles and fails at attach with E0802, exit 1', async (t) => {
  if (!requireKernel(t)) return;
  if (fs.existsSync('/sys/bus/event_source/devices/kprobe')) {
    t.skip('this kernel has kprobes');
    return;
  }
  const r = await runCapc([path.join(TOOLS_DIR, 'vfscount.bt')], { timeoutMs: 60000 });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /vfscount\.bt:\d+:1: error\[E0802\]: cannot attach kprobe:vfs_\*: this kernel has no kprobes/);
});

/**
 * A tracepoint tool under both tools with `-c` running a command of a name of
 * its own; only its lines are compared, its pid replaced (each run is a new
 * process).
 */
async function sameLines(
  t: import('node:test').TestContext,
  tool: string,
  binary: string,
  args: (cmd: string) => string,
) {
  if (!requireKernel(t) || !requireTool(t, 'bpftrace')) return;
  const file = path.join(TOOLS_DIR, tool);
  if (!fs.existsSync(file)) return t.skip(`${file} is not installed`);
  const own = ownCommand(binary, 'capcbt');
  try {
    const command = args(own.path);
    // The lines of the files the command names: what else it opens (locale files...) is the C
    // library's business, and a loaded machine has made bpftrace 0.17 miss some of those.
    const named = command.split(' ').slice(1);
    const pick = (out: string) =>
      out
        .split('\n')
        .filter((l) => l.includes(own.comm) && named.some((f) => l.endsWith(` ${f}`)))
        .map((l) => l.replace(/^\d+\s+/, 'PID ')) // %-6d: a 4-digit pid pads one space more than a 5-digit one
        .join('\n');
    const bt = await runBpftrace({ programFile: file, command });
    assert.equal(bt.code, 0, bt.stderr);
    const capc = await runCapc([file, '-c', command], { timeoutMs: 60000 });
    assert.equal(capc.code, 0, capc.stderr);
    // The banner BEGIN prints (the "Attaching N probes..." count differs: bpftrace counts a wildcard's probes its way).
    const banner = capc.stdout
      .split('\n')
      .slice(1, 3)
      .filter((l) => !/^\d+\s/.test(l));
    for (const line of banner) assert.ok(bt.stdout.includes(`${line}\n`), line);
    assert.ok(pick(capc.stdout), `capc printed nothing for ${own.comm}:\n${capc.stdout}`);
    assert.equal(pick(capc.stdout), pick(bt.stdout));
  } finally {
    own.remove();
  }
}

test('opensnoop.bt prints the opens bpftrace prints (a command of its own, a missing file: ERR 2)', (t) =>
  sameLines(t, 'opensnoop.bt', 'cat', (cmd) => `${cmd} /etc/hostname /nonexistent-capc-bt`));

test('statsnoop.bt prints the stats bpftrace prints (stat(1): statx)', (t) =>
  sameLines(t, 'statsnoop.bt', 'stat', (cmd) => `${cmd} /etc/hostname /nonexistent-capc-bt`));

test('naptime.bt (C lines, curtask->real_parent, a user struct through args) prints the sleeps bpftrace prints', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'bpftrace') || !requireTool(t, 'perl')) return;
  const file = path.join(TOOLS_DIR, 'naptime.bt');
  if (!fs.existsSync(file)) return t.skip(`${file} is not installed`);
  // nanosleep(2) itself (glibc's sleep calls clock_nanosleep), 1.25 s, from a perl of a name of its own.
  const own = ownCommand('perl', 'capcnap');
  try {
    const command = `${own.path} -e $t=pack(q(qq),1,250000000);syscall(35,$t,0)`;
    // TIME PPID PCOMM PID COMM SECONDS: the parent is the tracer; time and pids differ run to run.
    const pick = (out: string, tracer: string) =>
      out
        .split('\n')
        .filter((l) => l.includes(own.comm))
        .map((l) => {
          const m = /^\d\d:\d\d:\d\d (\d+)\s+(\S+)\s+(\d+)\s+(\S+)\s+(\S+)$/.exec(l);
          assert.ok(m, l);
          assert.equal(m[2], tracer, l);
          return `${m[4]} ${m[5]}`;
        });
    const bt = await runBpftrace({ programFile: file, command });
    assert.equal(bt.code, 0, bt.stderr);
    const capc = await runCapc([file, '-c', command], { timeoutMs: 60000 });
    assert.equal(capc.code, 0, capc.stderr);
    assert.deepEqual(pick(capc.stdout, 'capc'), [`${own.comm} 1.250`], capc.stdout);
    assert.deepEqual(pick(capc.stdout, 'capc'), pick(bt.stdout, 'bpftrace'));
  } finally {
    own.remove();
  }
});
