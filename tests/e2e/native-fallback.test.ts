// tests/e2e/native-fallback.test.ts — capc's native drain library is used
// only if nobody but root could have replaced it: a copy of capc whose
// dist/libcapc-drain.so is writable by others says so once (W0911, naming the
// file and why) and still captures and prints everything with its
// JavaScript code; the same copy with the library made safe uses it (no
// warning, and the session's stats say which drain ran).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../support/paths.js';
import { requireKernel } from '../support/kernel.js';

/** A copy of the built capc (bin/ and dist/) in a directory of the checkout, so node_modules resolves. */
function copyOfCapc(): string {
  const dir = fs.mkdtempSync(path.join(repoRoot, 'tests', '.native-fallback-'));
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.copyFileSync(path.join(repoRoot, 'bin', 'capc'), path.join(dir, 'bin', 'capc'));
  fs.chmodSync(path.join(dir, 'bin', 'capc'), 0o755);
  fs.cpSync(path.join(repoRoot, 'dist'), path.join(dir, 'dist'), { recursive: true });
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

function run(dir: string, program: string, stats: string) {
  const r = spawnSync(path.join(dir, 'bin', 'capc'), ['run', '-e', program, '-c', 'true'], {
    env: { ...process.env, NO_COLOR: '1', CAPC_STATS_FILE: stats },
    encoding: 'utf8',
    timeout: 60000,
  });
  return { ...r, stats: JSON.parse(fs.readFileSync(stats, 'utf8')) };
}

const PROGRAM =
  'BEGIN { printf("start %d\\n", 42); } uprobe:libssl:SSL_write accumulate(conn, 1024) -> ringbuf; END { printf("end\\n"); }';

test('a native library others could replace is not loaded: W0911 once, and capc works without it', (t) => {
  if (!requireKernel(t)) return;
  const dir = copyOfCapc();
  try {
    const lib = path.join(dir, 'dist', 'libcapc-drain.so');
    fs.chmodSync(lib, 0o666);
    const bad = run(dir, PROGRAM, path.join(dir, 'stats-bad.json'));
    assert.equal(bad.status, 0, bad.stderr);
    const warnings = bad.stderr.match(/warning\[W0911\][^\n]*/g) ?? [];
    assert.equal(warnings.length, 1, bad.stderr);
    assert.match(warnings[0]!, new RegExp(`${lib.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is writable by other users`));
    assert.match(bad.stdout, /start 42\nend\n/);
    assert.equal(bad.stats.capture.drain, 'js');

    fs.chmodSync(lib, 0o755);
    const good = run(dir, PROGRAM, path.join(dir, 'stats-good.json'));
    assert.equal(good.status, 0, good.stderr);
    assert.doesNotMatch(good.stderr, /W0911/);
    assert.match(good.stdout, /start 42\nend\n/);
    assert.equal(good.stats.capture.drain, 'native');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
