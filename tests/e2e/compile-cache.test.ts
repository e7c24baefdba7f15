// tests/e2e/compile-cache.test.ts — the source-level compile cache of
// `capc run`, through the real binary: a program run before starts without
// the compiler (CAPC_TIMING says where its object came from) and prints the
// same, warnings included; an entry is not used once the machine changed
// under it (the uprobe target replaced), when it is unreadable, or with
// --no-cache. Each test uses its own empty cache directory.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runCapc } from '../support/capc.js';
import { requireKernel, requireTool } from '../support/kernel.js';
import { buildTarget } from '../support/targets.js';

/** A fresh cache directory (the kernel header cache is copied from the default one so clang is not rerun for it). */
function freshCache(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-srccache-'));
  const shared = path.join(os.homedir(), '.cache', 'capc');
  for (const d of fs.existsSync(shared) ? fs.readdirSync(shared) : []) {
    if (d.startsWith('kernel-')) fs.cpSync(path.join(shared, d), path.join(dir, d), { recursive: true });
  }
  return dir;
}

/** Where `capc run` says its object came from (CAPC_TIMING). */
function origin(stderr: string): string | undefined {
  return /compiled \(object from ([a-z-]+)\)/.exec(stderr)?.[1];
}

async function run(cache: string, args: string[]) {
  const r = await runCapc(['run', ...args], { env: { CAPC_CACHE_DIR: cache, CAPC_TIMING: '1' } });
  return { ...r, from: origin(r.stderr), compilerLoaded: r.stderr.includes('compiler loaded') };
}

const withoutTiming = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => !l.startsWith('[capc timing]'))
    .join('\n');

test('a program run before starts from the source cache, without the compiler, and prints the same (warnings too)', async (t) => {
  if (!requireKernel(t)) return;
  const cache = freshCache();
  try {
    const prog = 'BEGIN { printf("hello %d\\n", 6 * 7); exit(); printf("never\\n"); }';
    const first = await run(cache, ['-e', prog]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.from, 'clang');
    assert.ok(first.compilerLoaded);
    const second = await run(cache, ['-e', prog]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.from, 'source-cache');
    assert.equal(second.compilerLoaded, false, 'the compiler is not even loaded');
    assert.equal(second.stdout, first.stdout);
    assert.match(withoutTiming(second.stderr), /warning\[W0101\]: this statement never runs/);
    assert.equal(withoutTiming(second.stderr), withoutTiming(first.stderr), 'the same warnings, rendered the same');
    // Another program, or the same one with other options, is another entry.
    const other = await run(cache, ['-e', prog.replace('6 * 7', '6 * 8')]);
    assert.notEqual(other.from, 'source-cache');
    assert.match(other.stdout, /hello 48/);
    const strlen = await run(cache, ['--strlen', '32', '-e', prog]);
    assert.notEqual(strlen.from, 'source-cache');
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
});

test('replacing the uprobe target invalidates the entry: a function that is gone is reported, not attached from a stale cache', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'cc')) return;
  const cache = freshCache();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-srccache-bin-'));
  try {
    const bin = path.join(dir, 'app');
    fs.copyFileSync(buildTarget('target'), bin);
    fs.chmodSync(bin, 0o755);
    const args = ['-e', `uprobe:${bin}:add { @calls = count(); }`, '-c', `${bin} 3`];
    const first = await run(cache, args);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /@calls: 3/);
    const second = await run(cache, args);
    assert.equal(second.from, 'source-cache');
    assert.match(second.stdout, /@calls: 3/);
    // The same path, now a program without add().
    const src = path.join(dir, 'other.c');
    fs.writeFileSync(src, 'int main(void) { return 0; }\n');
    execFileSync('cc', ['-O0', '-o', bin, src]);
    const third = await run(cache, args);
    assert.equal(third.code, 2, third.stderr);
    assert.match(third.stderr, /error\[E0407\]: function 'add' not found in /);
    assert.ok(third.compilerLoaded, 'the entry was not trusted');
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an entry whose manifest has another version is a miss: the program is compiled again', async (t) => {
  if (!requireKernel(t)) return;
  const cache = freshCache();
  try {
    const prog = 'BEGIN { printf("v\\n"); exit(); }';
    assert.equal((await run(cache, ['-e', prog])).code, 0);
    const srcDir = path.join(cache, 'src');
    const file = path.join(srcDir, fs.readdirSync(srcDir)[0]!);
    const entry = JSON.parse(fs.readFileSync(file, 'utf8')) as { manifest: { version: number } };
    entry.manifest.version += 1;
    fs.writeFileSync(file, JSON.stringify(entry));
    const r = await run(cache, ['-e', prog]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.from, 'object-cache', 'not served from the entry');
    assert.match(r.stdout, /^v$/m);
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
});

test('an unreadable entry is a miss, and --no-cache compiles without looking', async (t) => {
  if (!requireKernel(t)) return;
  const cache = freshCache();
  try {
    const prog = 'BEGIN { printf("x\\n"); exit(); }';
    assert.equal((await run(cache, ['-e', prog])).code, 0);
    const srcDir = path.join(cache, 'src');
    const entries = fs.readdirSync(srcDir);
    assert.equal(entries.length, 1);
    fs.writeFileSync(path.join(srcDir, entries[0]!), '{"version": 1, "calls": [tru');
    const r = await run(cache, ['-e', prog]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.from, 'object-cache', 'the C is the same, so clang is not rerun');
    assert.match(r.stdout, /^x$/m);
    assert.equal((await run(cache, ['-e', prog])).from, 'source-cache', 'and the entry was rewritten');
    const nc = await run(cache, ['--no-cache', '-e', prog]);
    assert.equal(nc.from, 'clang');
    assert.ok(!nc.stderr.includes('source cache'));
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
});
