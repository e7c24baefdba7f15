// tests/unit/tls-classify-cache.test.ts — the TLS classification of a binary
// kept in capc's cache directory (runtime/tls/classify-cache.ts): a second
// classification of the same file comes from the entry; touching or
// replacing the file makes it stale (classified again); an entry another
// user could have written (group/world-writable, someone else's) is not used.
// Entries are forged here to tell "read from the cache" from "read from the
// file": a forged entry for the file's current identity is used, a stale or
// untrusted one never is.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { classifyFile, forgetClassifications, type Classification } from '../../runtime/tls/classify.js';
import { classificationEntryPath, fileIdentity, storeClassification } from '../../runtime/tls/classify-cache.js';

const LIBSSL = '/usr/lib/x86_64-linux-gnu/libssl.so.3';
const asRoot = process.geteuid?.() === 0;

// A cache of this file's own (cacheDir() reads the variable at first use).
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-tlscache-'));
process.env.CAPC_CACHE_DIR = path.join(work, 'cache');

const FORGED: Classification = { stacks: [], problems: ['forged entry'], needed: [], runpath: [] };

/** A private copy of libssl (its own inode, so touching it touches nothing else). */
function copyOfLibssl(name: string): string {
  const f = path.join(work, name, 'libssl.so.3');
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.copyFileSync(LIBSSL, f);
  return f;
}

/** Classify as a new run would: nothing remembered in this process. */
function fresh(file: string): Classification {
  forgetClassifications();
  return classifyFile(file);
}

test('a classification is kept in the cache directory (0600 in a 0700 directory) and read back from there', (t) => {
  if (!fs.existsSync(LIBSSL)) return t.skip('no libssl.so.3');
  const f = copyOfLibssl('kept');
  const c = fresh(f);
  assert.equal(c.stacks.length, 1);
  assert.equal(c.stacks[0]!.family, 'openssl');
  const entry = classificationEntryPath(f)!;
  assert.ok(fs.existsSync(entry), 'the entry was written');
  assert.equal(fs.statSync(entry).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.dirname(entry)).mode & 0o777, 0o700);
  // Read back: the same stacks, functions and addresses.
  const again = fresh(f);
  assert.deepEqual(again, c);
  assert.equal(again.stacks[0]!.path, f);
  assert.ok(typeof again.stacks[0]!.functions.get('SSL_write')!.addr === 'bigint');
  // And it is the entry that answers, not the file: a forged entry for this identity is believed.
  storeClassification(f, fileIdentity(f)!, FORGED);
  assert.deepEqual(fresh(f).problems, ['forged entry']);
});

test('touching or replacing the binary makes its entry stale: it is classified again', (t) => {
  if (!fs.existsSync(LIBSSL)) return t.skip('no libssl.so.3');
  const f = copyOfLibssl('stale');
  fresh(f);
  storeClassification(f, fileIdentity(f)!, FORGED);
  assert.deepEqual(fresh(f).problems, ['forged entry']);
  // Touch: new modification (and change) time.
  const later = new Date(Date.now() + 60_000);
  fs.utimesSync(f, later, later);
  const touched = fresh(f);
  assert.deepEqual(touched.problems, [], 'a touched file is read again');
  assert.equal(touched.stacks[0]?.family, 'openssl');
  // Replace: another file renamed over it (a package upgrade), with the same times.
  storeClassification(f, fileIdentity(f)!, FORGED);
  const next = `${f}.new`;
  fs.copyFileSync('/bin/ls', next);
  fs.utimesSync(next, later, later);
  fs.renameSync(next, f);
  const replaced = fresh(f);
  assert.deepEqual(replaced.stacks, [], 'what is there now (ls) has no TLS');
  // ... though its name says TLS library (W0907's wording), not the forged entry's.
  assert.match(replaced.problems.join('\n'), /looks like a TLS library but has none of the functions/);
  // The entry now holds the new file's classification.
  assert.deepEqual(fresh(f).stacks, []);
});

test('an entry another user could have written is not used (group/world-writable, another owner)', (t) => {
  if (!fs.existsSync(LIBSSL)) return t.skip('no libssl.so.3');
  const f = copyOfLibssl('trust');
  const real = fresh(f);
  const entry = classificationEntryPath(f)!;
  const forge = (mode: number, uid?: number) => {
    storeClassification(f, fileIdentity(f)!, FORGED);
    fs.chmodSync(entry, mode);
    if (uid !== undefined) fs.chownSync(entry, uid, uid);
  };
  for (const mode of [0o620, 0o602, 0o666]) {
    forge(mode);
    assert.deepEqual(fresh(f), real, `mode ${mode.toString(8)}: not used`);
  }
  if (asRoot) {
    forge(0o600, 65534);
    assert.deepEqual(fresh(f), real, "another user's entry: not used");
  }
  // The same entry, private again, is used: the checks above are what kept it out.
  forge(0o600);
  assert.deepEqual(fresh(f).problems, ['forged entry']);
  // Another file's entry copied over this one is not this file's (its seal names its own entry).
  const other = copyOfLibssl('other');
  fresh(other);
  fs.copyFileSync(classificationEntryPath(other)!, entry);
  assert.deepEqual(fresh(f), real);
});

test('a file that cannot be read is not kept', () => {
  const missing = path.join(work, 'missing');
  assert.deepEqual(fresh(missing).stacks, []);
  assert.equal(fs.existsSync(classificationEntryPath(missing)!), false);
});
