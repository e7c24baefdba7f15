// runtime/host/libraries.ts — finds the file behind a uprobe target: a path,
// a library short name (`libssl`, `libc`) through the dynamic linker's cache
// (`ldconfig -p`), the library a given process has mapped (/proc/PID/maps),
// or a program on PATH.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { closest, type Resolved } from '../../compiler/index.js';
import { isElf } from '../symbols/elf.js';

export interface LdEntry {
  soname: string;
  path: string;
  arch: string;
}

let ldCache: LdEntry[] | undefined;

export function ldconfigEntries(): LdEntry[] {
  if (ldCache) return ldCache;
  let text = '';
  for (const bin of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    try {
      text = execFileSync(bin, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      break;
    } catch {
      /* try the next location */
    }
  }
  ldCache = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)/.exec(line);
    if (m) ldCache.push({ soname: m[1]!, arch: m[2]!, path: m[3]! });
  }
  return ldCache;
}

/** `libssl` matches libssl.so, libssl.so.3, libssl.so.1.1; `libssl.so.3` matches exactly. */
function libMatches(target: string, file: string): boolean {
  return file === target || file.startsWith(`${target}.so`) || (target.includes('.so') && file === target);
}

function versionKey(soname: string): number[] {
  const m = /\.so\.?([\d.]*)$/.exec(soname);
  return (m?.[1] ?? '').split('.').filter(Boolean).map(Number);
}

export function resolveBinary(target: string, pid?: number): Resolved<string> {
  if (target.includes('/')) {
    const p = path.resolve(target);
    if (!fs.existsSync(p)) return { ok: false, error: `no such file: ${target}`, candidates: [] };
    const real = fs.realpathSync(p);
    if (!fs.statSync(real).isFile() || !isElf(real))
      return { ok: false, error: `${target} is not an ELF executable or library`, candidates: [] };
    return { ok: true, value: real };
  }
  if (pid !== undefined) {
    const mapped = mappedFiles(pid).filter((f) => libMatches(target, path.basename(f)));
    if (mapped.length) return { ok: true, value: mapped[0]! };
  }
  const libs = ldconfigEntries().filter((e) => libMatches(target, e.soname) && /x86-64/.test(e.arch));
  if (libs.length) {
    libs.sort((a, b) => {
      const va = versionKey(a.soname);
      const vb = versionKey(b.soname);
      for (let i = 0; i < Math.max(va.length, vb.length); i++)
        if ((va[i] ?? -1) !== (vb[i] ?? -1)) return (vb[i] ?? -1) - (va[i] ?? -1);
      return 0;
    });
    return { ok: true, value: fs.realpathSync(libs[0]!.path) };
  }
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const p = path.join(dir, target);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      const real = fs.realpathSync(p);
      if (fs.statSync(real).isFile() && isElf(real)) return { ok: true, value: real };
    } catch {
      /* not here */
    }
  }
  const known = [...new Set(ldconfigEntries().map((e) => e.soname.replace(/\.so.*$/, '')))];
  return {
    ok: false,
    error: `cannot find '${target}': not a path, not a library the dynamic linker knows (ldconfig -p), not a program on PATH`,
    candidates: closest(target, known, 5),
  };
}

/** Files mapped executable by a process (deleted files excluded). */
export function mappedFiles(pid: number): string[] {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/maps`, 'utf8');
  } catch {
    return [];
  }
  const files = new Set<string>();
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts.length >= 6 && parts[1]!.includes('x') && parts[5]!.startsWith('/') && !line.endsWith('(deleted)'))
      files.add(parts.slice(5).join(' '));
  }
  return [...files];
}
