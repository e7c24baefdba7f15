// runtime/files/trust.ts — who could have written a path. capc runs as root:
// a file it loads into the kernel, a tool it runs, a library it maps must be
// one that only root (or the user capc runs as) could have put there. This is
// the check OpenSSH's StrictModes makes, over the whole path: every directory
// from / down, and the file itself, owned by root or by the effective user and
// writable by nobody else; a symbolic link is followed only if it, too, is
// owned by root or that user (a link another user owns is theirs to re-point).
// A directory writable by everyone is passed through only when it has the
// sticky bit (/tmp): there, nobody can rename or replace another user's
// entries, so what follows it is safe if its owner is.
import fs from 'node:fs';
import path from 'node:path';
import { CapcError } from '../errors.js';

/** Why a path cannot be trusted: the component at fault, its owner and mode. */
export interface Distrust {
  /** The component another user controls (a directory, a link or the file). */
  at: string;
  uid: number;
  mode: number;
  why: string;
}

export type TrustResult =
  | { ok: true; real: string }
  | { ok: false; distrust: Distrust }
  | { ok: 'missing'; at: string };

const euid = (): number => process.geteuid?.() ?? 0;

/** True when capc can load BPF programs: euid 0, or CAP_SYS_ADMIN or CAP_BPF in its effective set. */
export function privileged(): boolean {
  if (euid() === 0) return true;
  try {
    const m = /CapEff:\s*([0-9a-f]+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    const caps = m ? BigInt('0x' + m[1]) : 0n;
    return ((caps >> 21n) & 1n) === 1n || ((caps >> 39n) & 1n) === 1n;
  } catch {
    return false;
  }
}

/** Root, or the user capc runs as. */
export function trustedOwner(uid: number): boolean {
  return uid === 0 || uid === euid();
}

/** A user's name for messages (`alice (uid 1000)`), from /etc/passwd when it is there. */
export function describeOwner(uid: number): string {
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[2] === String(uid)) return `${f[0]} (uid ${uid})`;
    }
  } catch {
    /* no passwd file: the number will do */
  }
  return `uid ${uid}`;
}

export function describeMode(mode: number): string {
  return '0' + (mode & 0o7777).toString(8).padStart(3, '0');
}

/** A one-line account of why a path is not trusted, for warnings and errors. */
export function explainDistrust(d: Distrust): string {
  return `${d.at} is ${d.why} (owner ${describeOwner(d.uid)}, mode ${describeMode(d.mode)})`;
}

const MAX_LINKS = 40;

/**
 * Walks `p` from the root. `ok` with the real path when every component is
 * trusted; `missing` names the first component that does not exist (every
 * component above it was trusted: the caller may create it); otherwise the
 * component another user controls. `final` says what the last component must
 * be: a directory the caller will write into, or a file it will read.
 */
export function checkPath(p: string, final: 'dir' | 'file' | 'any' = 'any'): TrustResult {
  const parts = path.resolve(p).split('/').filter(Boolean);
  let cur = '/';
  let links = 0;
  const root = fs.lstatSync('/');
  if (!trustedOwner(root.uid) || root.mode & 0o022) return bad('/', root, 'writable by other users');
  while (parts.length) {
    const name = parts.shift()!;
    if (name === '.') continue;
    if (name === '..') {
      cur = path.dirname(cur);
      continue;
    }
    const next = path.join(cur, name);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(next);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: 'missing', at: next };
      throw e;
    }
    const last = parts.length === 0;
    if (st.isSymbolicLink()) {
      if (!trustedOwner(st.uid)) return bad(next, st, 'a symbolic link owned by another user');
      if (++links > MAX_LINKS) return bad(next, st, 'part of a loop of symbolic links');
      const target = fs.readlinkSync(next);
      parts.unshift(...target.split('/').filter(Boolean));
      if (target.startsWith('/')) cur = '/';
      continue;
    }
    if (!trustedOwner(st.uid)) return bad(next, st, 'owned by another user');
    const writable = (st.mode & 0o022) !== 0;
    if (st.isDirectory()) {
      // A sticky world-writable directory (/tmp) may be passed through, never written into as ours.
      const passThrough = !last && (st.mode & 0o1000) !== 0;
      if (writable && !passThrough) return bad(next, st, 'writable by other users');
    } else {
      if (!last) return bad(next, st, 'not a directory');
      if (writable) return bad(next, st, 'writable by other users');
      if (final === 'dir') return bad(next, st, 'not a directory');
    }
    if (last && final === 'file' && !st.isFile()) return bad(next, st, 'not a regular file');
    cur = next;
  }
  return { ok: true, real: cur };
}

function bad(at: string, st: fs.Stats, why: string): TrustResult {
  return { ok: false, distrust: { at, uid: st.uid, mode: st.mode, why } };
}

/** Reads a file only if it, and the path to it, are trusted; opened without following a final symlink. */
export function readTrustedFile(file: string): Buffer | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || !trustedOwner(st.uid) || st.mode & 0o022) return undefined;
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * As root, a file the environment names is used only if nobody but root could
 * have written it or any directory above it (E0604): capc would run it, map it
 * or trust what it says about the kernel.
 */
export function requireTrustedFromEnv(envVar: string, file: string, what: string): void {
  if (!privileged() || !fs.existsSync(file)) return;
  const r = checkPath(file, 'file');
  if (r.ok === false)
    throw new CapcError('E0604', `${envVar}=${file} is not safe to use as root: ${explainDistrust(r.distrust)}`, [
      `capc runs as root and would use it as ${what}: install it where only root can write (e.g. /usr/local), or unset ${envVar}`,
    ]);
}
