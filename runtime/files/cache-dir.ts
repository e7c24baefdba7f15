// runtime/files/cache-dir.ts — where capc keeps compiled objects, source-cache
// entries, vmlinux.h and precompiled headers, and how it reads them back.
// Everything in the cache ends up loaded into the kernel or compiled into what
// is, so the cache is used only where nobody but root (or the user capc runs
// as) could have written it (runtime/files/trust.ts). A cache directory from
// the environment (CAPC_CACHE_DIR, XDG_CACHE_HOME, HOME: `sudo -E` or a
// service unit can hand root a user's) that fails the check is not used:
// capc warns once (W0601) and uses /var/cache/capc (when privileged), or
// compiles in a private directory of its own that is removed at exit. Every
// file read back is opened without following a final symbolic link and
// checked again (owner, mode, regular file); one that fails is a miss, with
// a warning (W0602), never a load.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkPath, explainDistrust, privileged, readTrustedFile, trustedOwner, type Distrust } from './trust.js';
import { warnOnce } from './trust-warnings.js';

const SYSTEM_CACHE = '/var/cache/capc';
/** Compiled objects, sealed (readSealedCacheFile). Not `obj/`: capc before the seal kept unsealed objects there. */
export const OBJECT_DIR = 'objects';

interface Chosen {
  dir: string;
  /** False when capc compiles in a private directory of its own (removed at exit). */
  persistent: boolean;
}

let chosen: Chosen | undefined;

/** The environment's idea of the cache directory. */
function requestedDir(): string {
  return (
    process.env.CAPC_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'capc')
  );
}

/** The cache directory for this process: trusted, created 0700 when missing. */
export function cacheDir(): string {
  chosen ??= choose();
  return chosen.dir;
}

function choose(): Chosen {
  const wanted = requestedDir();
  const problem = prepare(wanted);
  if (!problem) return { dir: path.resolve(wanted), persistent: true };
  if (privileged() && path.resolve(wanted) !== SYSTEM_CACHE) {
    const sys = prepare(SYSTEM_CACHE);
    if (!sys) {
      warnOnce('W0601', `cache directory ${wanted} is not used: ${problem}`, [
        `using ${SYSTEM_CACHE} instead; capc runs as root and loads what the cache holds into the kernel`,
        'point CAPC_CACHE_DIR at a directory only root can write (or unset it), so start-up stays fast',
      ]);
      return { dir: SYSTEM_CACHE, persistent: true };
    }
  }
  warnOnce('W0601', `cache directory ${wanted} is not used: ${problem}`, [
    'compiling without a cache this time (slower start-up)',
    'point CAPC_CACHE_DIR at a directory only you (and root) can write',
  ]);
  return { dir: privateTempDir('capc-nocache-'), persistent: false };
}

/** Creates `dir` (0700, and any missing parents 0700) if it is missing; a reason it cannot be trusted, or undefined. */
function prepare(dir: string): string | undefined {
  const r = checkPath(dir, 'dir');
  if (r.ok === true) return undefined;
  if (r.ok === false) return explainDistrust(r.distrust);
  // Create what is missing, one level at a time, then check again (what we made is ours, 0700).
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    return `it cannot be created (${(e as Error).message})`;
  }
  const again = checkPath(dir, 'dir');
  if (again.ok === true) return undefined;
  return again.ok === false ? explainDistrust(again.distrust) : `${again.at} vanished while it was being created`;
}

/**
 * A directory of this process's own, in a temporary directory nobody else can
 * replace (TMPDIR when it is trusted, else /tmp), removed at exit.
 */
export function privateTempDir(prefix: string): string {
  const base = trustedTempBase();
  const dir = fs.mkdtempSync(path.join(base, prefix));
  fs.chmodSync(dir, 0o700);
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function trustedTempBase(): string {
  for (const cand of [process.env.TMPDIR, '/tmp']) {
    if (!cand) continue;
    let st: fs.Stats;
    try {
      st = fs.statSync(cand);
    } catch {
      continue;
    }
    if (!st.isDirectory()) continue;
    const parent = checkPath(path.dirname(path.resolve(cand)), 'dir');
    if (parent.ok !== true) continue;
    // Ours and private, or a sticky shared directory owned by root (entries cannot be replaced by others).
    const lst = fs.lstatSync(cand);
    if (lst.isSymbolicLink()) continue;
    if (trustedOwner(st.uid) && !(st.mode & 0o022)) return cand;
    if (st.uid === 0 && st.mode & 0o1000) return cand;
  }
  throw new Error(
    'no trusted temporary directory (TMPDIR and /tmp are writable by other users without the sticky bit)',
  );
}

/**
 * A directory inside the cache (created 0700 when missing), checked like the
 * cache itself: a subdirectory replaced by a link to another user's directory
 * is refused (W0602) and undefined returned; callers then work without a cache.
 */
export function cacheSubdir(...parts: string[]): string | undefined {
  const dir = path.join(cacheDir(), ...parts);
  const problem = prepare(dir);
  if (!problem) return dir;
  warnOnce('W0602', `cache entry ${dir} is not used: ${problem}`, [
    'remove it (capc recreates it), or point CAPC_CACHE_DIR at a directory only root can write',
  ]);
  return undefined;
}

/** A file from the cache, or undefined when it is missing or not trusted (refusals warn, W0602). */
export function readCacheFile(file: string): Buffer | undefined {
  const data = readTrustedFile(file);
  if (data !== undefined) return data;
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch {
    return undefined; // missing: an ordinary miss
  }
  const d: Distrust = {
    at: file,
    uid: st.uid,
    mode: st.mode,
    why: st.isSymbolicLink()
      ? 'a symbolic link'
      : !st.isFile()
        ? 'not a regular file'
        : !trustedOwner(st.uid)
          ? 'owned by another user'
          : 'writable by other users',
  };
  warnOnce('W0602', `cache entry ${file} is not used: ${explainDistrust(d)}`, [
    'capc compiles again instead; remove the file, or the cache directory, to stop this warning',
  ]);
  return undefined;
}

/** True when a cache file exists and passes the checks (headers that clang reads by path). */
export function trustedCacheFile(file: string): boolean {
  return readCacheFileStat(file);
}

function readCacheFileStat(file: string): boolean {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch {
    return false;
  }
  if (st.isFile() && trustedOwner(st.uid) && !(st.mode & 0o022)) return true;
  // Not ours: say so once, and let the caller write a fresh one over it.
  readCacheFile(file);
  fs.rmSync(file, { force: true });
  return false;
}

/**
 * Writes a cache file atomically: a new file (O_EXCL, never through a link,
 * 0600) renamed over the old one, so concurrent capc runs never see half a file.
 */
export function writeCacheFile(file: string, data: string | Buffer, opts: { ifAbsent?: boolean } = {}): void {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const fd = fs.openSync(
    tmp,
    fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW,
    0o600,
  );
  try {
    fs.writeFileSync(fd, data);
  } finally {
    fs.closeSync(fd);
  }
  if (!opts.ifAbsent) return fs.renameSync(tmp, file);
  // Another capc may have written the same file meanwhile, and may be compiling against it (a
  // precompiled header records its inputs' times): theirs stays, never replaced under them.
  try {
    fs.linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Sealed cache files start with this, then the SHA-256 of their name and of what follows. */
const SEAL = Buffer.from('capc-sealed-1\n');

/**
 * A cache file that carries the SHA-256 of its name and contents (compiled
 * objects, named by the hash of what went into them): one whose contents no
 * longer match (another entry's object copied over it, truncated, corrupted)
 * is a miss with a warning (W0602), never returned.
 */
export function readSealedCacheFile(file: string): Buffer | undefined {
  const raw = readCacheFile(file);
  if (!raw || !raw.subarray(0, SEAL.length).equals(SEAL)) return undefined; // missing, or not sealed: a plain miss
  const body = raw.subarray(SEAL.length + 32);
  const ok = raw.length >= SEAL.length + 32 && seal(file, body).equals(raw.subarray(SEAL.length, SEAL.length + 32));
  if (ok) return body;
  warnOnce('W0602', `cache entry ${file} is not used: its contents do not match the SHA-256 recorded with them`, [
    'capc compiles again and replaces it; if nobody but root can write the cache, check the disk',
  ]);
  return undefined;
}

export function writeSealedCacheFile(file: string, data: Buffer): void {
  writeCacheFile(file, Buffer.concat([SEAL, seal(file, data), data]));
}

function seal(file: string, data: Buffer): Buffer {
  return crypto.createHash('sha256').update(path.basename(file)).update('\0').update(data).digest();
}
