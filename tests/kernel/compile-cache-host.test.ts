// tests/kernel/compile-cache-host.test.ts — the source cache's record of what
// the compiler asked the machine (runtime/build/compile-cache.ts): every
// kind of question, asked of this machine's real host, must validate again
// without the compiler while nothing changed, and stop validating when the
// thing it depends on changes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { BuildHost } from '../../runtime/build/build.js';
import { answersStillHold, RecordingHost } from '../../runtime/build/compile-cache.js';
import { requireKernel, requireTool } from '../support/kernel.js';
import { buildTarget } from '../support/targets.js';

test('every host question validates again while the machine is unchanged, and a changed binary fails its own', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'cc')) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-hostrec-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bin = path.join(dir, 'app');
  fs.copyFileSync(buildTarget('target'), bin);

  const host = new RecordingHost(new BuildHost());
  assert.ok(host.tracepoint('syscalls', 'sys_enter_openat'));
  assert.equal(host.tracepoint('syscalls', 'sys_enter_nope'), undefined);
  assert.ok(host.tracepointCategories().includes('sched'));
  assert.ok(host.tracepointNames('sched').includes('sched_switch'));
  const libc = host.resolveBinary('libc');
  assert.ok(libc.ok);
  assert.ok(host.resolveBinary(bin).ok);
  assert.ok(host.resolveBinary('ls').ok, 'a program on PATH');
  assert.equal(host.resolveBinary('libnope').ok, false);
  assert.ok(host.functionSymbols(libc.value).ok);
  assert.ok(host.functionSymbols(bin).ok);
  assert.ok(host.usdtProbes(bin).ok);
  assert.ok(
    host.neededLibraries(bin).some((p) => /libc\.so\.6$/.test(p)),
    'a C program needs libc',
  );
  assert.ok(host.rawTracepointNames().length > 0);
  host.rawTracepointArgs('sched_switch');
  host.kernelFunctions();
  host.kernelFunctionProto('do_sys_openat2');
  host.tracepoint('syscalls', 'sys_enter_openat'); // asked twice, recorded once
  const methods = host.calls.map((c) => c.method);
  assert.equal(new Set(host.calls.map((c) => JSON.stringify([c.method, c.args]))).size, host.calls.length);
  for (const m of [
    'tracepoint',
    'tracepointCategories',
    'tracepointNames',
    'resolveBinary',
    'functionSymbols',
    'usdtProbes',
    'neededLibraries',
    'rawTracepointNames',
    'rawTracepointArgs',
    'kernelFunctions',
    'kernelFunctionProto',
  ] as const) {
    assert.ok(methods.includes(m), `${m} is recorded`);
  }
  // Validation happens without the compiler's host, from the fingerprints alone.
  for (const call of host.calls)
    assert.ok(answersStillHold([call]), `${call.method}(${call.args.join(', ')}) validates again`);

  // The binary is rewritten (same path, same size): what was read from it no longer holds.
  await new Promise((r) => setTimeout(r, 20));
  fs.writeFileSync(bin, fs.readFileSync(bin));
  const stale = host.calls.filter((c) => !answersStillHold([c]));
  assert.deepEqual(stale.map((c) => c.method).sort(), ['functionSymbols', 'neededLibraries', 'usdtProbes']);
  assert.ok(stale.every((c) => c.args[0] === bin));
  // A path that now names nothing changes resolveBinary's answer.
  fs.rmSync(bin);
  assert.equal(answersStillHold(host.calls.filter((c) => c.method === 'resolveBinary' && c.args[0] === bin)), false);
});
