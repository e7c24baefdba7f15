// runtime/host/libraries.ts — finds the file behind a uprobe target: a path,
// a library short name (`libssl`, `libc`) through the dynamic linker's cache
// (/etc/ld.so.cache read directly, or `ldconfig -p` when its format is not
// glibc's current one), the library a given process has mapped
// (/proc/PID/maps), or a program on PATH.
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

/** The dynamic linker's cache: read from /etc/ld.so.cache itself, else as `ldconfig -p` prints it. */
export function ldconfigEntries(): LdEntry[] {
  ldCache ??= readLdSoCache() ?? ldconfigPrint();
  return ldCache;
}

/** glibc's cache format ("glibc-ld.so.cache1.1", elf/cache.c), in ldconfig -p's order; undefined if it is another. */
export function readLdSoCache(file = '/etc/ld.so.cache'): LdEntry[] | undefined {
  let b: Buffer;
  try {
    b = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  const HEADER = 48;
  const ENTRY = 24;
  if (b.length < HEADER || b.toString('latin1', 0, 20) !== 'glibc-ld.so.cache1.1') return undefined;
  const n = b.readUInt32LE(20);
  if (HEADER + n * ENTRY > b.length) return undefined;
  // One string for the whole file, sliced (a native call per name cost more than the rest).
  const text = b.toString('latin1');
  const str = (at: number) => {
    const end = text.indexOf('\0', at);
    return at < text.length && end > at ? text.slice(at, end) : undefined;
  };
  const out: LdEntry[] = [];
  for (let i = 0; i < n; i++) {
    const o = HEADER + i * ENTRY;
    const flags = b.readInt32LE(o);
    const soname = str(b.readUInt32LE(o + 4));
    const libPath = str(b.readUInt32LE(o + 8));
    if (!soname || !libPath) return undefined; // not what this reader understands: ask ldconfig
    out.push({ soname, path: libPath, arch: ldArch(flags) });
  }
  return out;
}

/** What ldconfig -p prints in parentheses for an entry's flags (the ELF type, then the architecture). */
function ldArch(flags: number): string {
  const type = flags & 0xff;
  const kind = type === 3 ? 'libc6' : type === 1 ? 'libc5' : type === 0 ? 'libc4' : `type ${type}`;
  const arch: Record<number, string> = {
    0x0100: 'SPARC 64-bit',
    0x0300: 'x86-64',
    0x0400: 'IA-64',
    0x0500: '64bit',
    0x0800: 'x32',
    0x0900: 'hard-float',
    0x0a00: 'AArch64',
  };
  const a = arch[flags & 0xff00];
  return a ? `${kind},${a}` : kind;
}

function ldconfigPrint(): LdEntry[] {
  let text = '';
  for (const bin of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    try {
      text = execFileSync(bin, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      break;
    } catch {
      /* try the next location */
    }
  }
  const out: LdEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)/.exec(line);
    if (m) out.push({ soname: m[1]!, arch: m[2]!, path: m[3]! });
  }
  return out;
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
