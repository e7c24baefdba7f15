// tests/e2e/root-safe.test.ts — capc runs as root and must never load, or
// write through, a path another user controls (docs/language.md, "Running as
// root safely"). The attacks are reproduced as a local user would make them:
// a cache handed to root through the environment and rewritten by that user,
// symbolic links planted where capc writes, and a umask that would leave
// captured plaintext readable.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runCapc } from '../support/capc.js';
import { requireKernel } from '../support/kernel.js';

const NOBODY = 65534;
const tmp = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), p));
const honest = 'BEGIN { printf("honest-%d\\n", 40 + 2); exit(); }';
const evil = 'BEGIN { printf("PWNED-by-another-user\\n"); exit(); }';

/** Compile `prog` into `cache` (a run fills the object cache and the source cache). */
async function warm(cache: string, prog: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const r = await runCapc(['run', '-e', prog], { env: { CAPC_CACHE_DIR: cache, ...env } });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** The object a source-cache entry for `prog` names, and the entry. */
function entryFor(cache: string): { entry: string; object: string }[] {
  return fs.readdirSync(path.join(cache, 'src')).map((f) => {
    const entry = path.join(cache, 'src', f);
    const { objectKey } = JSON.parse(fs.readFileSync(entry, 'utf8')) as { objectKey: string };
    return { entry, object: path.join(cache, 'objects', `${objectKey}.o`) };
  });
}

/** A cache holding the honest program, whose object is replaced by the evil program's object. */
async function poisonedCache(): Promise<string> {
  const cache = tmp('capc-poison-');
  await warm(cache, honest);
  const [honestEntry] = entryFor(cache);
  const evilCache = tmp('capc-evil-');
  await warm(evilCache, evil);
  const [evilEntry] = entryFor(evilCache);
  fs.copyFileSync(evilEntry!.object, honestEntry!.object);
  return cache;
}

function chownR(p: string, uid: number): void {
  execFileSync('chown', ['-R', `${uid}:${uid}`, p]);
}

test('a cache object swapped for another program is never loaded (its hash is recorded)', async (t) => {
  if (!requireKernel(t)) return;
  const cache = await poisonedCache();
  const r = await runCapc(['run', '-e', honest], { env: { CAPC_CACHE_DIR: cache } });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /PWNED/);
  assert.match(r.stdout, /honest-42/);
  assert.match(r.stderr, /warning\[W0602\]: cache entry .*\.o is not used: its contents do not match the SHA-256/);
});

test('the attack as reported: a cache another user owns (CAPC_CACHE_DIR, XDG_CACHE_HOME, HOME) is not used', async (t) => {
  if (!requireKernel(t)) return;
  for (const how of ['CAPC_CACHE_DIR', 'XDG_CACHE_HOME', 'HOME'] as const) {
    const base = tmp('capc-userhome-');
    fs.chmodSync(base, 0o755);
    // The user's cache, as `sudo -E` (or a service unit with the user's HOME) hands it to root.
    const cache =
      how === 'CAPC_CACHE_DIR'
        ? path.join(base, 'cache')
        : how === 'XDG_CACHE_HOME'
          ? path.join(base, 'xdg', 'capc')
          : path.join(base, 'home', '.cache', 'capc');
    const env: NodeJS.ProcessEnv =
      how === 'CAPC_CACHE_DIR'
        ? { CAPC_CACHE_DIR: cache }
        : how === 'XDG_CACHE_HOME'
          ? { CAPC_CACHE_DIR: undefined, XDG_CACHE_HOME: path.join(base, 'xdg') }
          : { CAPC_CACHE_DIR: undefined, XDG_CACHE_HOME: undefined, HOME: path.join(base, 'home') };
    // The user fills it (here: capc as root writes it, then it is given to the user, who swaps an object).
    fs.mkdirSync(cache, { recursive: true });
    fs.cpSync(await poisonedCache(), cache, { recursive: true });
    chownR(path.join(base, ...path.relative(base, cache).split('/').slice(0, 1)), NOBODY);
    const r = await runCapc(['run', '-e', honest], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /PWNED/, `${how}: the other user's object was loaded`);
    assert.match(r.stdout, /honest-42/);
    assert.match(
      r.stderr,
      /warning\[W0601\]: cache directory .* is not used: .* is owned by another user \(owner nobody \(uid 65534\), mode 0\d+\)/,
      how,
    );
    assert.match(r.stderr, /using \/var\/cache\/capc instead/, how);
    // Said once per run, not per file.
    assert.equal(r.stderr.match(/W0601/g)?.length, 1, r.stderr);
  }
});

test('a world-writable cache directory, a symlinked objects/ directory and an entry another user owns are refused, with a warning', async (t) => {
  if (!requireKernel(t)) return;
  // World-writable (root's own, but anyone can swap what is inside).
  const open = await poisonedCache();
  fs.chmodSync(open, 0o777);
  let r = await runCapc(['run', '-e', honest], { env: { CAPC_CACHE_DIR: open } });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /PWNED/);
  assert.match(r.stderr, /W0601\]: cache directory .* is not used: .* is writable by other users/);

  // objects/ (compiled objects) replaced by a link to a directory another user owns.
  const linked = tmp('capc-linkobj-');
  await warm(linked, honest);
  const theirs = tmp('capc-theirs-');
  fs.chmodSync(theirs, 0o755);
  const [e] = entryFor(linked);
  const evilCache = tmp('capc-evil2-');
  await warm(evilCache, evil);
  fs.copyFileSync(entryFor(evilCache)[0]!.object, path.join(theirs, path.basename(e!.object)));
  chownR(theirs, NOBODY);
  fs.rmSync(path.join(linked, 'objects'), { recursive: true });
  fs.symlinkSync(theirs, path.join(linked, 'objects'));
  r = await runCapc(['run', '-e', honest], { env: { CAPC_CACHE_DIR: linked } });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /PWNED/);
  assert.match(r.stderr, /W0602\]: cache entry .*objects is not used: .* is owned by another user/);

  // One entry (and its object) owned by another user, inside a root-only cache.
  const owned = tmp('capc-ownedentry-');
  await warm(owned, honest);
  const [o] = entryFor(owned);
  fs.chownSync(o!.entry, NOBODY, NOBODY);
  r = await runCapc(['run', '-e', honest], { env: { CAPC_CACHE_DIR: owned } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /honest-42/);
  assert.match(r.stderr, /W0602\]: cache entry .*\.json is not used: .* is owned by another user/);
});

test('as root, CAPC_CLANG or a clang on PATH that another user can write is not run', async (t) => {
  if (!requireKernel(t)) return;
  const dir = tmp('capc-evilbin-');
  fs.chmodSync(dir, 0o777);
  const fake = path.join(dir, 'clang');
  const marker = path.join(tmp('capc-marker-'), 'ran');
  fs.writeFileSync(fake, `#!/bin/sh\ntouch ${marker}\nexec /usr/bin/clang "$@"\n`, { mode: 0o755 });
  let r = await runCapc(['run', '--no-cache', '-e', honest], { env: { CAPC_CLANG: fake } });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /error\[E0604\]: CAPC_CLANG=.*clang is not safe to use as root: .* is writable by other users/,
  );
  assert.ok(!fs.existsSync(marker), 'the untrusted clang ran');
  r = await runCapc(['run', '--no-cache', '-e', honest], {
    env: { CAPC_CACHE_DIR: tmp('capc-pathcache-'), PATH: `${dir}:${process.env.PATH}` },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /honest-42/);
  assert.match(r.stderr, /warning\[W0603\]: .*clang on PATH is not used: .* is writable by other users/);
  assert.ok(!fs.existsSync(marker), 'the untrusted clang on PATH ran');
});

test('a symbolic link planted at an -o path or in a stream directory is not followed', async (t) => {
  if (!requireKernel(t)) return;
  const victim = path.join(tmp('capc-victim-'), 'precious');
  fs.writeFileSync(victim, 'do not touch\n');
  // -o through a link, in a directory only root can write and in a shared one.
  for (const mode of [0o700, 0o1777]) {
    const dir = tmp('capc-olink-');
    fs.chmodSync(dir, mode);
    const out = path.join(dir, 'out.txt');
    fs.symlinkSync(victim, out);
    const r = await runCapc(['run', '-o', out, '-e', honest]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /error\[E0907\]: cannot write .*out\.txt: it is a symbolic link/);
    assert.equal(fs.readFileSync(victim, 'utf8'), 'do not touch\n');
  }
  // --write-streams naming a link, and a shared directory with streams.json planted as a link.
  const streamsLink = path.join(tmp('capc-slink-'), 'streams');
  fs.symlinkSync(path.dirname(victim), streamsLink);
  const capture = 'tracepoint:syscalls:sys_enter_write /pid == cpid/ capture(conn, 1024) -> ringbuf';
  let r = await runCapc(['run', '-q', '--write-streams', streamsLink, '-e', capture, '-c', '/bin/echo hi']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /error\[E0907\]: cannot write .*streams: it is a symbolic link/);
  const shared = tmp('capc-shared-');
  fs.chmodSync(shared, 0o777);
  fs.symlinkSync(victim, path.join(shared, 'streams.json'));
  r = await runCapc(['run', '-q', '--write-streams', shared, '-e', capture, '-c', '/bin/echo hi']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /error\[E0907\]: cannot write .*streams\.json: it is a symbolic link/);
  assert.equal(fs.readFileSync(victim, 'utf8'), 'do not touch\n');
  assert.deepEqual(fs.readdirSync(path.dirname(victim)), ['precious']);
});

test('-o /dev/null writes to the device as it is; a device node another user owns is refused', async (t) => {
  if (!requireKernel(t)) return;
  const before = fs.statSync('/dev/null');
  const r = await runCapc(['run', '-o', '/dev/null', '-e', honest]);
  assert.equal(r.code, 0, r.stderr);
  const after = fs.statSync('/dev/null');
  assert.equal(after.mode, before.mode, '/dev/null keeps its mode');
  assert.ok(after.isCharacterDevice());
  // The same device, made by another user (a node they could later read through).
  const dir = tmp('capc-dev-');
  const node = path.join(dir, 'null');
  execFileSync('mknod', ['-m', '0666', node, 'c', '1', '3']);
  fs.chownSync(node, 65534, 65534);
  const refused = await runCapc(['run', '-o', node, '-e', honest]);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /error\[E0907\]: cannot write .*null: it is not a regular file/);
});

test('under umask 000, stream files, -o output and capc build output are 0600 in 0700 directories', async (t) => {
  if (!requireKernel(t)) return;
  const work = tmp('capc-umask-');
  const streams = path.join(work, 'streams');
  const out = path.join(work, 'out.txt');
  const build = path.join(work, 'build');
  const old = process.umask(0);
  try {
    const r = await runCapc([
      'run',
      '-o',
      out,
      '--write-streams',
      streams,
      '-e',
      'tracepoint:syscalls:sys_enter_write /pid == cpid/ capture(conn, 1024) -> ringbuf',
      '-c',
      '/bin/echo secret-payload',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const b = await runCapc(['build', '-e', honest, '-o', build]);
    assert.equal(b.code, 0, b.stderr);
  } finally {
    process.umask(old);
  }
  const mode = (p: string) => fs.statSync(p).mode & 0o777;
  assert.equal(mode(out), 0o600, '-o file');
  assert.equal(mode(streams), 0o700, 'stream directory');
  const index = JSON.parse(fs.readFileSync(path.join(streams, 'streams.json'), 'utf8')) as {
    comm: string;
    streams: { file: string }[];
  }[];
  assert.equal(mode(path.join(streams, 'streams.json')), 0o600);
  const files = index.flatMap((c) => c.streams.map((s) => s.file));
  assert.ok(files.length >= 1, JSON.stringify(index));
  for (const f of files) {
    assert.equal(mode(path.join(streams, f)), 0o600, f);
    // Each directory on the way (COMM/PID) is 0700 too.
    for (let d = path.dirname(f); d !== '.'; d = path.dirname(d)) assert.equal(mode(path.join(streams, d)), 0o700, d);
  }
  assert.match(Buffer.concat(files.map((f) => fs.readFileSync(path.join(streams, f)))).toString(), /secret-payload/);
  assert.equal(mode(build), 0o700, 'build directory');
  for (const f of fs.readdirSync(build)) assert.equal(mode(path.join(build, f)), 0o600, f);
});

test('control characters in a script reach the terminal only as escapes', async (t) => {
  if (!requireKernel(t)) return;
  const file = path.join(tmp('capc-esc-'), 'evil.cap');
  fs.writeFileSync(file, 'BEGIN { $x\x1b]0;owned\x07 = 1; }\n');
  const r = await runCapc(['check', file]);
  assert.equal(r.code, 2, r.stderr);
  assert.doesNotMatch(r.stderr, /[\x00-\x08\x0b-\x1f\x7f]/, 'a raw control character was printed');
  assert.match(r.stderr, /\\x1b\]0;owned\\x07/);
});
