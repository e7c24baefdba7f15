// runtime/output/cat-system.ts — what cat() and system() do when capc reads
// their record, in order with printf, as bpftrace does: cat prints at most
// 10,240 bytes of a file (bpftrace's BPFTRACE_CAT_BYTES_MAX); system (only
// compiled under --unsafe) runs the command with /bin/sh -c and prints what it
// writes to stdout (its stderr passes through). capc runs as root, so cat
// reads a file only through a path no other user could re-point (every
// directory and link owned by root or the user capc runs as; /proc and /sys
// files, which the kernel makes, too), never blocks on a FIFO, and a file it
// cannot read is reported, not thrown.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { CapEvent } from '../events/model.js';
import { checkPath, explainDistrust } from '../files/trust.js';

/** Most bytes cat() prints of one file (bpftrace 0.17: BPFTRACE_CAT_BYTES_MAX, 10240). */
export const CAT_BYTES_MAX = 10240;

/** Most bytes of a command's output system() keeps (more is read and dropped, so the command is never blocked). */
const SYSTEM_OUTPUT_MAX = 16 << 20;

type Action = Extract<CapEvent, { kind: 'action' }>;

/** Perform a cat() or system() record: the text to print, or why there is none. */
export function performAction(a: Action): CapEvent {
  const arg = a.arg.toString('latin1');
  if (a.action === 'system') return { kind: 'system', text: runCommand(arg) };
  const r = catFile(arg);
  return 'text' in r ? { kind: 'cat', text: r.text } : { kind: 'action-error', action: 'cat', message: r.error };
}

const kernelMade = (p: string) => p === '/proc' || p.startsWith('/proc/') || p === '/sys' || p.startsWith('/sys/');

/** Where a path really is, if capc may read it: through nothing another user controls, or a file the kernel makes. */
function trustedFile(p: string): { real: string } | { error: string } {
  const abs = path.resolve(p);
  if (kernelMade(abs)) {
    try {
      const real = fs.realpathSync(abs);
      if (kernelMade(real)) return { real };
    } catch (e) {
      return { error: errnoText(e) };
    }
  }
  const t = checkPath(abs, 'file');
  if (t.ok === 'missing') return { error: 'No such file or directory' };
  if (!t.ok) return { error: `not read: ${explainDistrust(t.distrust)}` };
  return { real: t.real };
}

function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const known: Record<string, string> = {
    ENOENT: 'No such file or directory',
    EACCES: 'Permission denied',
    EISDIR: 'Is a directory',
    ENOTDIR: 'Not a directory',
    ELOOP: 'Too many levels of symbolic links',
    EAGAIN: 'Resource temporarily unavailable',
  };
  return (err.code && known[err.code]) ?? err.message;
}

/** At most CAT_BYTES_MAX bytes of the file at `p`, or bpftrace's message for why not. */
export function catFile(p: string): { text: Buffer } | { error: string } {
  const fail = (why: string) => ({ error: `failed to open file '${p}': ${why}` });
  const where = trustedFile(p);
  if ('error' in where) return fail(where.error);
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO must not stop capc; O_NOFOLLOW: the path was checked, a link swapped in since is refused.
    fd = fs.openSync(where.real, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
  } catch (e) {
    return fail(errnoText(e));
  }
  try {
    if (!fs.fstatSync(fd).isFile()) return fail('not a regular file');
    const buf = Buffer.alloc(CAT_BYTES_MAX);
    let n = 0;
    while (n < buf.length) {
      const got = fs.readSync(fd, buf, n, buf.length - n, null);
      if (got <= 0) break;
      n += got;
    }
    return { text: buf.subarray(0, n) };
  } catch (e) {
    return fail(errnoText(e));
  } finally {
    fs.closeSync(fd);
  }
}

/** Run `cmd` with /bin/sh -c, as bpftrace's popen() does; its stdout is the text, its stderr goes to capc's. */
function runCommand(cmd: string): Buffer {
  const r = spawnSync('/bin/sh', ['-c', cmd], {
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: SYSTEM_OUTPUT_MAX,
  });
  return r.stdout ?? Buffer.alloc(0);
}
