// tests/unit/trust.test.ts — the path checks behind "Running as root safely"
// (runtime/files/trust.ts, private-files.ts), on real files: ownership, modes,
// sticky directories, links another user owns, hard links, the umask.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createPrivateFile, OutputDir } from '../../runtime/files/private-files.js';
import { checkPath, readTrustedFile } from '../../runtime/files/trust.js';
import { readSealedCacheFile, writeSealedCacheFile } from '../../runtime/files/cache-dir.js';
import { CapcError } from '../../runtime/errors.js';

const NOBODY = 65534;
const asRoot = process.geteuid?.() === 0;
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'capc-trust-'));

test('checkPath: root-owned private directories are trusted, /tmp is passed through (sticky)', () => {
  const d = tmp();
  const r = checkPath(path.join(d, 'x'), 'dir');
  assert.deepEqual(r, { ok: 'missing', at: path.join(d, 'x') });
  assert.deepEqual(checkPath(d, 'dir'), { ok: true, real: d });
  const t = checkPath('/tmp', 'dir');
  assert.equal(t.ok, false, 'a world-writable directory is never trusted as the place itself');
});

test(
  'checkPath: another user owning a directory or file, or group/other write, is named',
  { skip: !asRoot && 'needs root' },
  () => {
    const d = tmp();
    fs.chmodSync(d, 0o755);
    const sub = path.join(d, 'home');
    fs.mkdirSync(path.join(sub, 'cache'), { recursive: true });
    fs.chownSync(sub, NOBODY, NOBODY);
    let r = checkPath(path.join(sub, 'cache'), 'dir');
    assert.equal(r.ok, false);
    if (r.ok === false)
      assert.deepEqual([r.distrust.at, r.distrust.uid, r.distrust.why], [sub, NOBODY, 'owned by another user']);
    fs.chownSync(sub, 0, 0);
    fs.chmodSync(sub, 0o775);
    r = checkPath(path.join(sub, 'cache'), 'dir');
    assert.ok(r.ok === false && r.distrust.why === 'writable by other users' && r.distrust.at === sub);
    fs.chmodSync(sub, 0o755);
    const f = path.join(sub, 'cache', 'file');
    fs.writeFileSync(f, 'x');
    fs.chmodSync(f, 0o646);
    r = checkPath(f, 'file');
    assert.ok(r.ok === false && r.distrust.at === f);
    assert.equal(readTrustedFile(f), undefined);
    fs.chmodSync(f, 0o644);
    assert.equal(readTrustedFile(f)?.toString(), 'x');
  },
);

test(
  'checkPath: a link is followed only if root owns it, and its target is checked too',
  { skip: !asRoot && 'needs root' },
  () => {
    const d = tmp();
    const target = path.join(d, 'target');
    fs.mkdirSync(target);
    const link = path.join(d, 'link');
    fs.symlinkSync(target, link);
    assert.deepEqual(checkPath(link, 'dir'), { ok: true, real: target });
    fs.lchownSync(link, NOBODY, NOBODY);
    const r = checkPath(link, 'dir');
    assert.ok(r.ok === false && r.distrust.why.includes('symbolic link owned by another user'));
    fs.lchownSync(link, 0, 0);
    fs.chownSync(target, NOBODY, NOBODY);
    const r2 = checkPath(path.join(link, 'x'), 'any');
    assert.ok(r2.ok === false && r2.distrust.at === target);
    // A loop of links ends.
    const a = path.join(d, 'a');
    const b = path.join(d, 'b');
    fs.symlinkSync(b, a);
    fs.symlinkSync(a, b);
    const r3 = checkPath(a, 'dir');
    assert.ok(r3.ok === false && /loop/.test(r3.distrust.why));
  },
);

test(
  'OutputDir: 0700 and 0600 whatever the umask; links never followed; exclusive in shared directories',
  { skip: !asRoot && 'needs root' },
  () => {
    const old = process.umask(0);
    try {
      const d = path.join(tmp(), 'out');
      const out = OutputDir.open(d);
      assert.equal(fs.statSync(d).mode & 0o777, 0o700);
      const fd = out.createFile('a.bin');
      fs.closeSync(fd);
      assert.equal(fs.statSync(path.join(d, 'a.bin')).mode & 0o777, 0o600);
      // Ours, in our own directory: replaced on the next run (a file with bytes is truncated; an empty one needs not be).
      fs.writeFileSync(path.join(d, 'a.bin'), 'last run');
      fs.closeSync(out.createFile('a.bin'));
      assert.equal(fs.readFileSync(path.join(d, 'a.bin'), 'utf8'), '');
      const sub = out.subdir('proc');
      assert.equal(fs.statSync(path.join(d, 'proc')).mode & 0o777, 0o700);
      sub.close();
      // A link planted in our directory is not written through.
      fs.symlinkSync('/etc/hostname', path.join(d, 'link'));
      assert.throws(
        () => out.createFile('link'),
        (e: CapcError) => e.code === 'E0907' && /symbolic link/.test(e.message),
      );
      out.close();

      // A shared directory: only new names.
      const shared = tmp();
      fs.chmodSync(shared, 0o1777);
      const s = OutputDir.open(shared);
      assert.equal(s.exclusive, true);
      fs.closeSync(s.createFile('new'));
      assert.throws(
        () => s.createFile('new'),
        (e: CapcError) => e.code === 'E0907' && /already exists/.test(e.message),
      );
      fs.mkdirSync(path.join(shared, 'planted'));
      assert.throws(
        () => s.subdir('planted'),
        (e: CapcError) => e.code === 'E0907',
      );
      s.close();
    } finally {
      process.umask(old);
    }
  },
);

test(
  "createPrivateFile: never truncates another user's file or a hard link to one",
  { skip: !asRoot && 'needs root' },
  () => {
    const d = tmp();
    const theirs = path.join(d, 'theirs');
    fs.writeFileSync(theirs, 'keep');
    fs.chownSync(theirs, NOBODY, NOBODY);
    assert.throws(
      () => createPrivateFile(theirs),
      (e: CapcError) => e.code === 'E0907' && /belongs to nobody/.test(e.message),
    );
    assert.equal(fs.readFileSync(theirs, 'utf8'), 'keep');
    const mine = path.join(d, 'mine');
    fs.writeFileSync(mine, 'keep');
    fs.linkSync(mine, path.join(d, 'second-name'));
    assert.throws(
      () => createPrivateFile(mine),
      (e: CapcError) => e.code === 'E0907' && /hard links/.test(e.message),
    );
    assert.equal(fs.readFileSync(mine, 'utf8'), 'keep');
    const fresh = path.join(d, 'fresh');
    fs.writeFileSync(fresh, 'old contents', { mode: 0o644 });
    fs.closeSync(createPrivateFile(fresh));
    assert.equal(fs.readFileSync(fresh, 'utf8'), '', 'our own file is replaced');
    assert.equal(fs.statSync(fresh).mode & 0o777, 0o600);
  },
);

test('sealed cache files: read back as written; another entry copied over one, or a truncated one, is a miss', () => {
  const d = tmp();
  const a = path.join(d, 'a.o');
  const b = path.join(d, 'b.o');
  writeSealedCacheFile(a, Buffer.from('object a'));
  writeSealedCacheFile(b, Buffer.from('object b'));
  assert.equal(readSealedCacheFile(a)?.toString(), 'object a');
  assert.equal(fs.statSync(a).mode & 0o777, 0o600);
  fs.copyFileSync(b, a);
  assert.equal(readSealedCacheFile(a), undefined, 'b sealed under its own name is not a');
  writeSealedCacheFile(a, Buffer.from('object a'));
  fs.truncateSync(a, fs.statSync(a).size - 1);
  assert.equal(readSealedCacheFile(a), undefined);
  fs.writeFileSync(a, 'an unsealed object of an older capc');
  assert.equal(readSealedCacheFile(a), undefined);
});
