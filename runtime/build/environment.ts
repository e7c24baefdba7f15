// runtime/build/environment.ts — checks that this machine can build and
// load BPF programs, and says exactly what to do when it cannot: privileges,
// kernel BTF, clang, bpftool. As root, a tool or file named by the
// environment (CAPC_CLANG, CAPC_BPFTOOL, CAPC_BTF_PATH) must be one only root
// could have written (E0604), and a tool found on PATH in a directory other
// users can write is skipped with a warning (W0603): capc would run it as root.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CapcError } from '../errors.js';
import { cacheDir, readCacheFile, writeCacheFile } from '../files/cache-dir.js';
import { requireTrustedFromEnv } from '../files/trust.js';
import { findTool } from '../files/tools.js';

const KERNEL_BTF = '/sys/kernel/btf/vmlinux';

/** The kernel's BTF: the kernel's own, or a file named by CAPC_BTF_PATH (a kernel built without BTF, with one from BTFHub). */
export function btfPath(): string {
  const custom = process.env.CAPC_BTF_PATH;
  if (!custom) return KERNEL_BTF;
  requireTrustedFromEnv('CAPC_BTF_PATH', custom, 'a BTF file');
  return custom;
}

/** The BTF file libbpf should use for CO-RE relocations instead of the kernel's, if one was given. */
export function customBtfPath(): string | null {
  return process.env.CAPC_BTF_PATH || null;
}

/** Directory holding capc.bpf.h (stdlib/ at the repository root, also from dist/). */
export function stdlibDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const cand = path.join(dir, 'stdlib');
    if (fs.existsSync(path.join(cand, 'capc.bpf.h'))) return cand;
    dir = path.dirname(dir);
  }
  throw new CapcError('E0602', 'cannot find stdlib/capc.bpf.h next to the capc installation', [
    'reinstall capc, or run it from its repository',
  ]);
}

export { cacheDir };

export function clangPath(): string {
  const p = findTool('clang', 'CAPC_CLANG', ['/usr/lib/llvm-14/bin']);
  if (!p)
    throw new CapcError('E0602', 'clang is not installed: capc compiles programs with it', [
      'install it: apt-get install clang llvm',
    ]);
  return p;
}

export function bpftoolPath(): string {
  const p = findTool('bpftool', 'CAPC_BPFTOOL');
  if (!p)
    throw new CapcError('E0602', "bpftool is not installed: capc uses it to read the kernel's types (BTF)", [
      'install it: apt-get install bpftool',
    ]);
  return p;
}

let clangVersionCache: string | undefined;
/** clang's version line; remembered in the cache by the binary's identity, so a warm start spawns nothing. */
export function clangVersion(): string {
  if (clangVersionCache) return clangVersionCache;
  const bin = fs.realpathSync(clangPath());
  const st = fs.statSync(bin);
  const memo = path.join(cacheDir(), 'clang-version.json');
  const id = `${bin}:${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  try {
    const m = JSON.parse(readCacheFile(memo)?.toString('utf8') ?? 'null') as { id: string; version: string } | null;
    if (m?.id === id) return (clangVersionCache = m.version);
  } catch {
    /* not remembered yet */
  }
  clangVersionCache = execFileSync(bin, ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim();
  try {
    writeCacheFile(memo, JSON.stringify({ id, version: clangVersionCache }));
  } catch {
    /* only a speed-up */
  }
  return clangVersionCache;
}

export function requireBtf(): void {
  const p = btfPath();
  if (fs.existsSync(p)) return;
  if (p !== KERNEL_BTF) {
    throw new CapcError('E0603', `CAPC_BTF_PATH names ${p}, which does not exist`, [
      "point CAPC_BTF_PATH at a BTF file for this kernel, or unset it to use the kernel's own",
    ]);
  }
  throw new CapcError('E0603', `this kernel has no BTF type information (${KERNEL_BTF} is missing)`, [
    'capc needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian, Ubuntu, Fedora and RHEL kernels have it)',
    'or point CAPC_BTF_PATH at a BTF file for this exact kernel (BTFHub publishes them for many distribution kernels)',
  ]);
}

/** CAP_SYS_ADMIN, or CAP_BPF together with CAP_PERFMON, is needed to load and attach. */
export function requirePrivileges(): void {
  let capEff = 0n;
  try {
    const m = /CapEff:\s*([0-9a-f]+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    capEff = m ? BigInt('0x' + m[1]) : 0n;
  } catch {
    /* treat as no capabilities */
  }
  const has = (bit: number) => (capEff >> BigInt(bit)) & 1n;
  if (has(21) || (has(39) && has(38))) return;
  if (process.getuid?.() === 0) {
    throw new CapcError(
      'E0901',
      'capc runs as root but without CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN): the kernel will refuse to load eBPF programs',
      [
        'in a container, give it the capabilities: docker run --privileged, or --cap-add BPF --cap-add PERFMON --cap-add SYS_RESOURCE',
        '`capc emit` and `capc build` work without privileges',
      ],
    );
  }
  throw new CapcError('E0901', 'capc needs root (or CAP_BPF and CAP_PERFMON) to load eBPF programs', [
    `run it as root: sudo ${process.argv
      .slice(1)
      .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`))
      .join(' ')}`,
    '`capc emit` and `capc build` work without privileges',
  ]);
}
