// tests/kernel/load-without-kernel-btf.test.ts — a cached object loads
// without libbpf reading the kernel's 5 MB BTF (runtime/bpf/load-without-
// kernel-btf.ts, runtime/build/core-btf.ts): its CO-RE relocations resolve
// against the minimal BTF kept beside it, and the syscall dispatcher
// (tp_btf/sys_enter) gets its attach BTF id from the cache; the program the
// kernel holds is the same BTF-typed raw tracepoint as before. A cache file
// that fails its seal is not used: the load reads the kernel's BTF instead.
// Runs with a cache directory of its own (chosen before anything reads it).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { requireKernel } from '../support/kernel.js';
import { runCapc } from '../support/capc.js';

const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-nobtf-'));
process.env.CAPC_CACHE_DIR = cache;
process.env.CAPC_LIBBPF_DEBUG = '1';
process.on('exit', () => fs.rmSync(cache, { recursive: true, force: true }));

// A syscall tracepoint (run by the tp_btf dispatcher) reading the kernel's task_struct through CO-RE.
const PROGRAM = `tracepoint:syscalls:sys_enter_openat /comm == "cat"/ { @opens[curtask->pid == pid] = count(); }`;
const KERNEL_BTF_READ = /loading kernel BTF '\/sys\/kernel\/btf\/vmlinux'/;

async function build(text = PROGRAM, options = {}) {
  const { compile } = await import('../../compiler/compile.js');
  const { systemHost } = await import('../../runtime/build/build.js');
  const { compileC } = await import('../../runtime/build/clang.js');
  const source = { name: '-e', text };
  const r = compile(source, systemHost(), { cFileName: 'program.bpf.c', ...options });
  assert.ok(r.ok && r.output, 'the program compiles');
  const built = await compileC(r.output.c, source, { cFile: 'program.bpf.c' });
  return { source, manifest: r.output.manifest, object: built.object };
}

async function load(b: Awaited<ReturnType<typeof build>>) {
  const { BpfObject } = await import('../../runtime/bpf/object.js');
  const obj = BpfObject.open(b.object, b.manifest);
  obj.setRodata({});
  obj.load(b.source);
  return obj;
}

test('a cached object with CO-RE reads and a syscall dispatcher loads without the kernel BTF, as tp_btf', async (t) => {
  if (!requireKernel(t)) return;
  const { native } = await import('../../runtime/ffi/libbpf.js');
  const { readCoreBtf } = await import('../../runtime/build/core-btf.js');
  const { kernelKey } = await import('../../runtime/build/clang.js');
  // A cache file that does not carry its seal is a miss: the ids are found again and the file rewritten.
  const kernelDir = path.join(cache, `kernel-${kernelKey()}`);
  fs.mkdirSync(kernelDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(kernelDir, 'tp-btf-ids.json'), JSON.stringify({ sys_enter: 1 }), { mode: 0o600 });

  const b = await build();
  const btf = readCoreBtf(b.object, kernelKey());
  assert.ok(
    btf && btf.length > 0 && btf.length < 64 * 1024,
    `a minimal BTF is kept beside the object (${btf?.length} bytes)`,
  );
  const obj = await load(b);
  t.after(() => obj.close());
  const log = obj.libbpfLog.join('\n');
  assert.doesNotMatch(log, KERNEL_BTF_READ, "libbpf did not read the kernel's BTF");
  assert.match(log, /CO-RE relocating \[\d+\] struct task_struct/, 'the CO-RE relocation was resolved');

  // The kernel holds a BTF-typed raw tracepoint (BPF_PROG_TYPE_TRACING), and it attaches and runs.
  const { fd, ptr } = obj.program('capc_sys_enter');
  const info = Buffer.alloc(256);
  assert.equal(native().obj_get_info_by_fd(fd, info, new Uint32Array([info.length])), 0);
  assert.equal(info.readUInt32LE(0), 26, 'program type BPF_PROG_TYPE_TRACING');
  const link = native().attach_trace(ptr);
  assert.ok(link, 'the dispatcher attaches to sys_enter');
  native().link_destroy(link);
  const ids = JSON.parse(fs.readFileSync(path.join(kernelDir, 'tp-btf-ids.json')).subarray(46).toString('utf8'));
  assert.ok(ids.sys_enter > 1, 'the id file was found again and rewritten, sealed');
});

test('an object without CO-RE relocations gets no minimal BTF and loads without the kernel BTF', async (t) => {
  if (!requireKernel(t)) return;
  const { hasCoreRelocations, readCoreBtf } = await import('../../runtime/build/core-btf.js');
  const { kernelKey } = await import('../../runtime/build/clang.js');
  const b = await build('tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }', { tracepoints: 'perf' });
  assert.equal(hasCoreRelocations(b.object), false);
  assert.equal(readCoreBtf(b.object, kernelKey()), undefined);
  assert.equal(hasCoreRelocations((await build()).object), true);
  const obj = await load(b);
  t.after(() => obj.close());
  assert.doesNotMatch(obj.libbpfLog.join('\n'), KERNEL_BTF_READ);
});

test('a minimal BTF that fails its seal is not used: libbpf reads the kernel BTF and the object loads', async (t) => {
  if (!requireKernel(t)) return;
  const b = await build();
  const dir = path.join(cache, fs.readdirSync(cache).find((d) => d.startsWith('kernel-'))!, 'core-btf');
  for (const f of fs.readdirSync(dir)) fs.writeFileSync(path.join(dir, f), 'capc-sealed-1\nnot what was sealed');
  const obj = await load(b);
  t.after(() => obj.close());
  assert.match(obj.libbpfLog.join('\n'), KERNEL_BTF_READ);
});

test('capc run from the source cache counts the same with the minimal BTF and the cached tp_btf id', async (t) => {
  if (!requireKernel(t)) return;
  const args = ['run', '-q', '-e', PROGRAM, '-c', 'cat /etc/hostname /etc/hostname'];
  const env = { CAPC_CACHE_DIR: cache, CAPC_LIBBPF_DEBUG: '' };
  const first = await runCapc(args, { env });
  const second = await runCapc(args, { env });
  for (const r of [first, second]) {
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /@opens\[1\]: [1-9]/, r.stdout);
  }
});
