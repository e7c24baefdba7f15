// tests/e2e/environment.test.ts — what capc says when the machine, not the
// program, is the problem: no privileges, a missing toolchain or libbpf, no
// kernel BTF, bad sizes on the command line, a memlock limit, a map that fills
// up while running. Each case runs the real binary and checks the code, the
// message, the hint and the exit status.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runCapc } from '../support/capc.js';
import { requireKernel, requireTool } from '../support/kernel.js';
import { capcBin, repoRoot } from '../support/paths.js';

const HELLO = 'BEGIN { printf("hello %d\\n", 42); exit(); }';

function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
      },
    );
  });
}

test('without root or CAP_BPF: E0901, the exact sudo command, exit 1, before any work', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'setpriv')) return;
  const asNobody = ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=-all'];
  // The checkout must be readable by nobody for this to test capc and not the file system.
  if ((await run('setpriv', [...asNobody, 'test', '-x', capcBin])).code !== 0) {
    t.skip(`${repoRoot} is not readable by nobody`);
    return;
  }
  const r = await run('setpriv', [...asNobody, capcBin, 'run', '-e', HELLO], { HOME: '/nonexistent' });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^error\[E0901\]: capc needs root \(or CAP_BPF and CAP_PERFMON\)/m);
  assert.match(r.stderr, /hint: run it as root: sudo \S*capc run -e 'BEGIN/);
  assert.match(r.stderr, /capc emit` and `capc build` work without privileges/);
});

test('root without capabilities (a container): E0901 says which capabilities to add', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'setpriv')) return;
  const r = await run('setpriv', ['--bounding-set=-all', '--inh-caps=-all', capcBin, 'run', '-e', HELLO]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^error\[E0901\]: capc runs as root but without CAP_BPF and CAP_PERFMON/m);
  assert.match(r.stderr, /--cap-add BPF --cap-add PERFMON/);
});

test('a missing clang, bpftool or libbpf is named with the package to install', async (t) => {
  if (!requireKernel(t)) return;
  let r = await runCapc(['run', '--no-cache', '-e', HELLO], { env: { CAPC_CLANG: '/nonexistent/clang' } });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /error\[E0602\]: CAPC_CLANG=\/nonexistent\/clang is not an executable clang/);
  // bpftool is only needed to turn the kernel's BTF into C: use an empty cache so it is.
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-cache-'));
  try {
    r = await runCapc(['run', '-e', HELLO], { env: { CAPC_CACHE_DIR: cache, CAPC_BPFTOOL: '/nonexistent/bpftool' } });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /error\[E0602\]: CAPC_BPFTOOL=\/nonexistent\/bpftool is not an executable bpftool/);
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
  r = await runCapc(['run', '-e', HELLO], { env: { CAPC_LIBBPF: '/nonexistent/libbpf.so.1' } });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /error\[E0602\]: cannot load \/nonexistent\/libbpf\.so\.1: .*No such file/);
  assert.doesNotMatch(r.stderr, /internal error/);
});

test('kernel BTF: a missing file is E0603 with what to do; a BTF file given by path really works', async (t) => {
  if (!requireKernel(t)) return;
  let r = await runCapc(['run', '-e', HELLO], { env: { CAPC_BTF_PATH: '/nonexistent/vmlinux' } });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /error\[E0603\]: CAPC_BTF_PATH names \/nonexistent\/vmlinux, which does not exist/);
  // The positive case: the kernel's BTF copied elsewhere serves both the
  // generated header and libbpf's CO-RE relocations (a tracepoint field read).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-btf-'));
  try {
    fs.copyFileSync('/sys/kernel/btf/vmlinux', path.join(dir, 'vmlinux'));
    r = await runCapc(
      [
        'run',
        '-e',
        'tracepoint:syscalls:sys_enter_openat /pid == cpid/ { printf("open %s\\n", str(args->filename)); }',
        '-c',
        'cat /etc/hostname',
      ],
      {
        env: { CAPC_BTF_PATH: path.join(dir, 'vmlinux'), CAPC_CACHE_DIR: path.join(dir, 'cache') },
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^open \/etc\/hostname$/m);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('ring sizes from flags: not a power of two or too large is a usage error naming the flag', async (t) => {
  if (!requireKernel(t)) return;
  const cases: [string[], RegExp][] = [
    [
      ['--ringbuf-size', '3M'],
      /error\[E0411\]: --ringbuf-size: ring buffer size 3145728 must be a power of two from 4K to 1G\n\s+= hint: use 4M/,
    ],
    [
      ['--ringbuf-size', '4G'],
      /--ringbuf-size: ring buffer size 4294967296 must be a power of two from 4K to 1G\n\s+= hint: use 1024M/,
    ],
    [
      ['--capture-ring-size', '1000'],
      /--capture-ring-size: capture ring size 1000 must be a power of two from 4K to 1G\n\s+= hint: use 4K/,
    ],
    [['--max-connections', '0'], /--max-connections: max_connections 0 must be from 1 to 16M/],
    [['--ringbuf-size', 'lots'], /E0904.*--ringbuf-size must be a number/],
  ];
  for (const [flags, want] of cases) {
    const r = await runCapc(['run', ...flags, '-e', HELLO]);
    assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want);
    assert.equal(r.programIds.length, 0, 'nothing may be loaded');
  }
  // The same limit set in the program points at the config entry.
  const r = await runCapc(['run', '-e', 'config = { capture_ring_size = 5000 } BEGIN { exit(); }']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^-e:1:12: error\[E0411\]: capture ring size 5000 must be a power of two/m);
  assert.match(r.stderr, /^ {3}\| {12}\^{24}$/m);
});

test('a locked-memory limit of zero does not stop capc (the kernel charges BPF memory to the cgroup)', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'prlimit')) return;
  const r = await run('prlimit', ['--memlock=0:0', capcBin, 'run', '-e', HELLO]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^hello 42$/m);
});

test('a map that fills up: every failed update is counted and reported, in text and JSON', async (t) => {
  if (!requireKernel(t)) return;
  // A private copy of true gives the events a comm nothing else on the machine has.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-mapfull-'));
  const bin = path.join(dir, 'capcmapfull');
  fs.copyFileSync('/bin/true', bin);
  fs.chmodSync(bin, 0o755);
  const prog =
    'config = { max_map_keys = 4 } tracepoint:sched:sched_process_exec /comm == "capcmapfull"/ { @starts[pid] = count(); }';
  const cmd = `sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do ${bin}; done'`;
  try {
    let r = await runCapc(['run', '-e', prog, '-c', cmd]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((r.stdout.match(/^@starts\[\d+\]: 1$/gm) ?? []).length, 4, r.stdout);
    assert.match(r.stderr, /^warning\[W0902\]: 6 updates of @starts failed: the map is full \(4 entries\)$/m);
    assert.match(r.stderr, /hint: raise the limit with --max-map-keys/);
    r = await runCapc(['run', '-f', 'json', '-e', prog, '-c', cmd]);
    assert.equal(r.code, 0, r.stderr);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
    assert.deepEqual(events.find((e) => e.type === 'map_full')?.data, {
      map: '@starts',
      failed_updates: 6,
      max_entries: 4,
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
