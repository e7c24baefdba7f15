// runtime/build/clang.ts — turns generated C into a BPF object.
// The kernel's types (vmlinux.h, from its BTF) and stdlib/capc.bpf.h are
// compiled once into a precompiled header per kernel, clang version and
// header content (~0.6 s once; then ~70 ms per program instead of ~400 ms).
// Objects are cached by the hash of everything that goes into them. The
// cache is read only through runtime/files/cache-dir.ts (trusted directories,
// files checked before use); clang's work directory is a fresh private one.
// Each cached object gets the minimal BTF its CO-RE relocations need
// (core-btf.ts), so a warm load does not parse the kernel's whole BTF.
// Objects lose clang's DWARF (llvm-strip -g, as libbpf-bootstrap does): libbpf
// reads only the BTF made from it, and the DWARF is 95% of the file (640 KB
// of 670 for one tracepoint), read and hashed on every warm start.
import { execFile, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SourceFile } from '../../diagnostics/source.js';
import { CapcError } from '../errors.js';
import {
  cacheDir,
  cacheSubdir,
  OBJECT_DIR,
  privateTempDir,
  readCacheFile,
  readSealedCacheFile,
  trustedCacheFile,
  writeCacheFile,
  writeSealedCacheFile,
} from '../files/cache-dir.js';
import { checkPath, privileged } from '../files/trust.js';
import { keepCoreBtf, makeCoreBtf, storeCoreBtf } from './core-btf.js';
import { bpftoolPath, btfPath, clangPath, clangVersion, requireBtf, stdlibDir } from './environment.js';

// -mcpu=v3: atomic compare-and-swap (the capture buffer's owner flag) needs BPF ISA v3 (kernel 5.12+).
// -fwrapv: signed overflow wraps, as .cap defines it (C would leave it undefined).
// The multiarch include directory comes last: libbpf's usdt.bpf.h includes <linux/errno.h>,
// which needs <asm/errno.h> from there (clang -target bpf does not search it by itself).
const MULTIARCH = `/usr/include/${os.arch() === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
export const CLANG_FLAGS = [
  '-O2',
  '-g',
  '-target',
  'bpf',
  '-mcpu=v3',
  '-fwrapv',
  '-D__TARGET_ARCH_x86',
  '-Wall',
  '-Werror=implicit-function-declaration',
  '-Werror=incompatible-pointer-types',
  '-Wno-unused-function',
  '-Wno-unused-variable',
  '-Wno-unused-but-set-variable',
  ...(fs.existsSync(MULTIARCH) ? ['-idirafter', MULTIARCH] : []),
];

function sha(data: string | Buffer): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

let kernelKeyCache: string | undefined;
/**
 * Identifies the running kernel's types. The BTF of vmlinux cannot change
 * while the kernel runs, so the kernel's build identity and the BTF size name
 * it without reading 5 MB on every start.
 */
export function kernelKey(): string {
  requireBtf();
  if (!kernelKeyCache) {
    const u = `${os.release()} ${os.version()}`;
    kernelKeyCache = sha(`${u} ${btfPath()} ${fs.statSync(btfPath()).size} ${os.arch()}`).slice(0, 16);
  }
  return kernelKeyCache;
}

export interface HeaderDir {
  dir: string;
  pch: string | undefined;
}

const preparedHeaders = new Map<boolean, HeaderDir>();

/** vmlinux.h + capc.bpf.h for this kernel, and their precompiled header (prepared once per process). */
export function prepareHeaders(opts: { pch?: boolean } = {}): HeaderDir {
  const withPch = opts.pch !== false;
  let h = preparedHeaders.get(withPch);
  if (!h) preparedHeaders.set(withPch, (h = prepareHeadersNow(withPch)));
  return h;
}

let stdlibHeaders: { id: string; headers: (readonly [string, Buffer])[] } | undefined;
/** Every stdlib header (capc.bpf.h includes capc-values.bpf.h; capture programs capc-capture.bpf.h) and their id with clang's. */
function readStdlibHeaders(): NonNullable<typeof stdlibHeaders> {
  if (stdlibHeaders) return stdlibHeaders;
  const names = fs
    .readdirSync(stdlibDir())
    .filter((f) => f.endsWith('.bpf.h'))
    .sort();
  const headers = names.map((n) => [n, fs.readFileSync(path.join(stdlibDir(), n))] as const);
  const id = sha(
    Buffer.concat([
      ...headers.flatMap(([n, b]) => [Buffer.from(n), b]),
      Buffer.from(clangVersion()),
      Buffer.from(CLANG_FLAGS.join(' ')),
    ]),
  ).slice(0, 12);
  return (stdlibHeaders = { id, headers });
}

/**
 * What the headers a program is compiled against depend on: this kernel, the
 * stdlib headers, clang and its flags (what names prepareHeaders' directory),
 * without preparing anything: the source cache's key on a warm start.
 */
export function headersIdentity(): string {
  return `kernel-${kernelKey()}/hdr-${readStdlibHeaders().id}`;
}

function prepareHeadersNow(withPch: boolean): HeaderDir {
  const { id, headers } = readStdlibHeaders();
  // A cache directory that fails the trust checks: this run prepares its headers privately.
  const dir = cacheSubdir(`kernel-${kernelKey()}`, `hdr-${id}`) ?? privateTempDir('capc-headers-');
  const vmlinux = path.join(dir, 'vmlinux.h');
  if (!trustedCacheFile(vmlinux)) {
    let text: string;
    const bpftool = bpftoolPath();
    try {
      text = execFileSync(bpftool, ['btf', 'dump', 'file', btfPath(), 'format', 'c'], {
        encoding: 'utf8',
        maxBuffer: 256 << 20,
      });
    } catch (e) {
      throw new CapcError(
        'E0603',
        `bpftool could not turn the kernel's BTF into C: ${(e as Error).message.split('\n')[0]}`,
      );
    }
    // Written only where there is none: a capc started at the same time may already be compiling
    // against the one it wrote (and the precompiled header built from it). One that is there but
    // failed the checks (another owner, a link) is replaced.
    writeCacheFile(vmlinux, text, { ifAbsent: !lstatOrUndefined(vmlinux) });
  }
  const hdr = path.join(dir, 'capc.bpf.h');
  for (const [n, b] of headers) {
    // The directory is named by these headers' hash; a copy that differs was not written by capc.
    const have = trustedCacheFile(path.join(dir, n)) ? readCacheFile(path.join(dir, n)) : undefined;
    if (!have || !have.equals(b)) writeCacheFile(path.join(dir, n), b);
  }
  if (!withPch) return { dir, pch: undefined };
  const pch = path.join(dir, 'capc.bpf.h.pch');
  if (!trustedCacheFile(pch)) {
    const work = fs.mkdtempSync(path.join(dir, 'pch-'));
    const tmp = path.join(work, 'capc.bpf.h.pch');
    try {
      execFileSync(clangPath(), [...CLANG_FLAGS, '-I', dir, '-x', 'c-header', hdr, '-o', tmp], {
        stdio: 'pipe',
        env: { ...process.env, TMPDIR: work },
      });
      fs.chmodSync(tmp, 0o600);
      fs.renameSync(tmp, pch);
    } catch {
      // A PCH is only a speed-up: compile without it.
      return { dir, pch: undefined };
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
  return { dir, pch };
}

/** Run a tool of the toolchain in `work`; its stderr goes with the error. */
function run(tool: string, args: string[], work: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    execFile(
      tool,
      args,
      { cwd: work, maxBuffer: 64 << 20, env: { ...process.env, TMPDIR: work } },
      (err, _out, errText) => (err ? reject(Object.assign(err, { stderrText: errText })) : resolve()),
    );
  });
}

/** llvm-strip of clang's own LLVM (beside the clang capc runs), when there is one capc may run as root; else none. */
function llvmStripPath(): string | undefined {
  let p: string;
  try {
    p = path.join(path.dirname(fs.realpathSync(clangPath())), 'llvm-strip');
    fs.accessSync(p, fs.constants.X_OK);
  } catch {
    return undefined; // objects keep their DWARF: larger, as correct
  }
  return privileged() && checkPath(p, 'file').ok === false ? undefined : p;
}

export interface CompiledObject {
  object: Buffer;
  cached: boolean;
  key: string;
}

/**
 * Compile C to a BPF object (from the cache when possible). `cFile` is the name
 * the C has in #line directives and diagnostics.
 */
export async function compileC(
  c: string,
  source: SourceFile,
  opts: { cFile?: string; noCache?: boolean } = {},
): Promise<CompiledObject> {
  const headers = prepareHeaders();
  const strip = llvmStripPath();
  const key = sha([c, clangVersion(), CLANG_FLAGS.join(' '), headers.dir, strip ? 'strip -g' : ''].join('\0')).slice(
    0,
    24,
  );
  const objDir = opts.noCache ? undefined : cacheSubdir(OBJECT_DIR);
  const objPath = objDir && path.join(objDir, `${key}.o`);
  const hit = objPath && readSealedCacheFile(objPath);
  if (hit) {
    // An object cached before capc kept minimal BTFs gets its own now (once).
    await keepCoreBtf(hit, kernelKey());
    return { object: hit, cached: true, key };
  }

  const work = fs.mkdtempSync(path.join(cacheDir(), 'build-'));
  const cPath = path.join(work, opts.cFile ?? 'program.bpf.c');
  const oPath = path.join(work, 'program.bpf.o');
  fs.writeFileSync(cPath, c);
  const args = [
    ...CLANG_FLAGS,
    '-I',
    headers.dir,
    ...(headers.pch ? ['-include-pch', headers.pch] : []),
    '-c',
    cPath,
    '-o',
    oPath,
  ];
  try {
    await run(clangPath(), args, work);
    // The minimal BTF comes from .BTF and .BTF.ext, which llvm-strip -g keeps: bpftool reads a copy while strip runs.
    let coreBtf: Promise<Buffer | undefined> | undefined;
    if (objPath) {
      const copy = path.join(work, 'core.bpf.o');
      fs.copyFileSync(oPath, copy);
      coreBtf = makeCoreBtf(copy);
    }
    if (strip) await run(strip, ['-g', oPath], work);
    const object = fs.readFileSync(oPath);
    if (objPath) {
      writeSealedCacheFile(objPath, object);
      const btf = await coreBtf;
      if (btf) storeCoreBtf(object, kernelKey(), btf);
    }
    return { object, cached: false, key };
  } catch (e) {
    const text = String((e as { stderrText?: string }).stderrText ?? (e as Error).message);
    throw clangError(text, source);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** A clang failure as a diagnostic at the .cap line its #line directives point to. */
function clangError(stderr: string, source: SourceFile): CapcError {
  const esc = source.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m =
    new RegExp(`^${esc}:(\\d+):(\\d+): error: (.*)$`, 'm').exec(stderr) ??
    /^[^:\n]+:(\d+):(\d+): error: (.*)$/m.exec(stderr);
  const first = m ? m[3]! : (stderr.split('\n').find((l) => /error/.test(l)) ?? 'clang failed');
  let span;
  if (m && m[0].startsWith(source.name + ':')) {
    const line = Number(m[1]);
    const text = source.text.split('\n')[line - 1] ?? '';
    const startOffset =
      source.text
        .split('\n')
        .slice(0, line - 1)
        .join('\n').length + (line > 1 ? 1 : 0);
    span = { start: startOffset, end: startOffset + text.length, line, col: 1, endLine: line, endCol: text.length + 1 };
  }
  return new CapcError(
    'E0601',
    `the C compiler rejected the generated program: ${first}`,
    [
      /stack limit/.test(first)
        ? 'the probe needs more than 512 bytes of stack; this is a capc bug: please report it'
        : 'this is a capc bug: please report it with your script (capc emit shows the C)',
    ],
    span,
    stderr,
  );
}

function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}
