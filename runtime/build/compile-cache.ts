// runtime/build/compile-cache.ts — the source-level compile cache of
// `capc run`: a program already compiled on this machine starts without
// loading the compiler at all (chevrotain's lexer and parser cost ~60 ms to
// build, the passes more). The compiler is a pure function of the source,
// the options and the answers the Host gave it, so a cached result is reused
// only if every question the compiler asked the host (recorded on the miss
// that filled the entry) would get the same answer now: tracepoint formats
// are re-read, files are compared by identity (device, inode, size, times),
// kernel types by the kernel's BTF identity, kernel functions by the loaded
// modules as well. Any difference, a missing object or an unreadable entry
// is a miss, never an error. Entries and objects are read only through
// runtime/files/cache-dir.ts (trusted directory, files checked before use),
// and an entry names its object by the SHA-256 of the object's bytes: an
// object that does not hash to it is a miss, never a load.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  manifestProblem,
  type BtfParam,
  type CDefinitions,
  type CTypeDecl,
  type DwarfParam,
  type CompileOptions,
  type ElfSymbolInfo,
  type Host,
  type Manifest,
  type Resolved,
  type TracepointFormat,
  type UsdtProbe,
} from '../../compiler/index.js';
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import type { SourceFile } from '../../diagnostics/source.js';
import { cgroupIdOf } from '../host/cgroups.js';
import { resolveBinary } from '../host/libraries.js';
import { netInterfaces } from '../host/net-interfaces.js';
import { UNISTD_HEADERS } from '../host/syscall-numbers.js';
import { Tracefs } from '../host/tracefs.js';
import { mark } from '../timing.js';
import { cacheSubdir, OBJECT_DIR, readCacheFile, readSealedCacheFile, writeCacheFile } from '../files/cache-dir.js';
import { cDefinitionsFingerprint } from './c-definitions.js';
import { clangVersion } from './environment.js';
import { headersIdentity, kernelKey } from './clang.js';

/** What `capc run` needs from a compile: the manifest, the object and the warnings. */
export interface RunBuild {
  ok: boolean;
  diagnostics: Diagnostic[];
  manifest?: Manifest;
  object?: Buffer;
  /** Where the object came from: this entry (no compiler loaded), the object cache, or clang. */
  from?: 'source-cache' | 'object-cache' | 'clang';
}

/** One question the compiler asked the host, and a fingerprint of what made the answer. */
export interface HostCall {
  method: keyof Host;
  args: (string | number | undefined)[];
  fingerprint: string;
  /** resolveBinary: the file it resolved to. */
  file?: string;
}

interface Entry {
  version: 2;
  calls: HostCall[];
  diagnostics: Diagnostic[];
  manifest: Manifest;
  objectKey: string;
  /** SHA-256 of the object's bytes: the object loaded must be the one this entry was made with. */
  objectSha256: string;
}

/**
 * Compile `source` for `capc run`: from the source cache when every recorded
 * host answer still holds; otherwise through the compiler (loaded only now)
 * and clang, recording the host's answers for the next run.
 */
export async function buildForRun(
  source: SourceFile,
  options: CompileOptions,
  opts: { noCache?: boolean } = {},
): Promise<RunBuild> {
  const key = opts.noCache ? undefined : entryKey(source, options);
  if (key) {
    const hit = lookup(key);
    mark(hit ? 'source cache hit' : 'source cache miss');
    if (hit) return hit;
  }
  const { buildSource, systemHost } = await import('./build.js');
  mark('compiler loaded');
  const recorder = new RecordingHost(systemHost());
  const built = await buildSource(source, options, { noCache: opts.noCache, host: recorder });
  const result: RunBuild = {
    ok: built.ok && !!built.output && !!built.object,
    diagnostics: built.diagnostics,
    // The manifest as the cache gives it back (its JSON), so a run behaves the same from either path.
    manifest: built.output ? (JSON.parse(built.output.manifestJson) as Manifest) : undefined,
    object: built.object?.object,
    from: built.object ? (built.object.cached ? 'object-cache' : 'clang') : undefined,
  };
  if (key && result.ok && built.object) {
    store(key, {
      version: 2,
      calls: recorder.calls,
      diagnostics: built.diagnostics,
      manifest: result.manifest!,
      objectKey: built.object.key,
      objectSha256: sha(built.object.object),
    });
  }
  return result;
}

/** The cache key: this build of capc, the program, its options, the toolchain and headers; undefined when not cacheable. */
function entryKey(source: SourceFile, options: CompileOptions): string | undefined {
  const self = buildIdentity();
  if (!self) return undefined;
  const parts = [
    self,
    source.name,
    source.text,
    JSON.stringify(options, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)),
    clangVersion(),
    headersIdentity(),
  ];
  return sha(parts.join('\0')).slice(0, 32);
}

let identity: string | null | undefined;
/**
 * This capc build: the bundle's own file (rewritten by every `npm run build`).
 * Running from TypeScript sources (tests through tsx) has no such identity, so
 * nothing is cached there: a changed compiler must never reuse an old result.
 */
function buildIdentity(): string | undefined {
  if (identity === undefined) {
    const self = fileURLToPath(import.meta.url);
    identity = self.endsWith('.mjs') ? fileId(self) : null;
  }
  return identity ?? undefined;
}

function lookup(key: string): RunBuild | undefined {
  const dir = cacheSubdir('src');
  const objDir = dir && cacheSubdir(OBJECT_DIR);
  if (!dir || !objDir) return undefined;
  let entry: Entry;
  try {
    const text = readCacheFile(path.join(dir, `${key}.json`));
    if (!text) return undefined;
    entry = JSON.parse(text.toString('utf8')) as Entry;
  } catch {
    return undefined;
  }
  // An entry from another manifest version is a miss (the program is compiled again), not an error.
  if (
    entry.version !== 2 ||
    !/^[0-9a-f]+$/.test(entry.objectKey) ||
    manifestProblem(entry.manifest) ||
    !answersStillHold(entry.calls)
  )
    return undefined;
  const object = readSealedCacheFile(path.join(objDir, `${entry.objectKey}.o`));
  if (!object || sha(object) !== entry.objectSha256) return undefined;
  return { ok: true, diagnostics: entry.diagnostics, manifest: entry.manifest, object, from: 'source-cache' };
}

function store(key: string, entry: Entry): void {
  try {
    const dir = cacheSubdir('src');
    if (dir) writeCacheFile(path.join(dir, `${key}.json`), JSON.stringify(entry));
  } catch {
    /* a cache that cannot be written only costs the next start its speed */
  }
}

/** Would the host give every recorded question the same answer now? (Validation: no compiler needed.) */
export function answersStillHold(calls: readonly HostCall[]): boolean {
  return calls.every((call) => fingerprintOf(call) === call.fingerprint);
}

/** A Host that answers from `inner` and records each question with the fingerprint of its answer. */
export class RecordingHost implements Host {
  readonly calls: HostCall[] = [];
  private readonly seen = new Set<string>();
  constructor(private readonly inner: Host) {}

  private record<T>(method: keyof Host, args: (string | number | undefined)[], answer: T): T {
    const id = JSON.stringify([method, args]);
    if (!this.seen.has(id)) {
      this.seen.add(id);
      const call: HostCall = { method, args, fingerprint: '' };
      if (method === 'resolveBinary' && (answer as Resolved<string>).ok)
        call.file = (answer as { value: string }).value;
      call.fingerprint = fingerprintOf(call, answer);
      this.calls.push(call);
    }
    return answer;
  }
  tracepoint(category: string, name: string): TracepointFormat | undefined {
    return this.record('tracepoint', [category, name], this.inner.tracepoint(category, name));
  }
  tracepointCategories(): string[] {
    return this.record('tracepointCategories', [], this.inner.tracepointCategories());
  }
  tracepointNames(category: string): string[] {
    return this.record('tracepointNames', [category], this.inner.tracepointNames(category));
  }
  resolveBinary(target: string, pid?: number): Resolved<string> {
    return this.record('resolveBinary', [target, pid], this.inner.resolveBinary(target, pid));
  }
  functionSymbols(file: string): Resolved<string[]> {
    return this.record('functionSymbols', [file], this.inner.functionSymbols(file));
  }
  ifuncSymbols(file: string): string[] {
    return this.record('ifuncSymbols', [file], this.inner.ifuncSymbols(file));
  }
  neededLibraries(file: string): string[] {
    return this.record('neededLibraries', [file], this.inner.neededLibraries(file));
  }
  usdtProbes(file: string): Resolved<UsdtProbe[]> {
    return this.record('usdtProbes', [file], this.inner.usdtProbes(file));
  }
  rawTracepointNames(): string[] {
    return this.record('rawTracepointNames', [], this.inner.rawTracepointNames());
  }
  rawTracepointArgs(name: string): BtfParam[] | undefined {
    return this.record('rawTracepointArgs', [name], this.inner.rawTracepointArgs(name));
  }
  kernelFunctions(): string[] {
    return this.record('kernelFunctions', [], this.inner.kernelFunctions());
  }
  kernelFunctionProto(name: string): { params: BtfParam[]; ret: BtfParam } | undefined {
    return this.record('kernelFunctionProto', [name], this.inner.kernelFunctionProto(name));
  }
  kernelType(name: string): CTypeDecl | undefined {
    return this.record('kernelType', [name], this.inner.kernelType(name));
  }
  kernelConstant(name: string): string | undefined {
    return this.record('kernelConstant', [name], this.inner.kernelConstant(name));
  }
  cDefinitions(text: string, names: string[], includeDirs: string[]): CDefinitions {
    return this.record(
      'cDefinitions',
      [text, names.join(','), includeDirs.join('\n')],
      this.inner.cDefinitions(text, names, includeDirs),
    );
  }
  dwarfFunction(file: string, func: string): DwarfParam[] | undefined {
    return this.record('dwarfFunction', [file, func], this.inner.dwarfFunction(file, func));
  }
  dwarfType(file: string, name: string): CTypeDecl | undefined {
    return this.record('dwarfType', [file, name], this.inner.dwarfType(file, name));
  }
  kernelSymbolExists(name: string): boolean {
    return this.record('kernelSymbolExists', [name], this.inner.kernelSymbolExists(name));
  }
  elfSymbol(file: string, name: string): ElfSymbolInfo | undefined {
    return this.record('elfSymbol', [file, name], this.inner.elfSymbol(file, name));
  }
  cgroupId(file: string): Resolved<string> {
    return this.record('cgroupId', [file], this.inner.cgroupId(file));
  }
  syscallNumbers(): Record<string, number> {
    return this.record('syscallNumbers', [], this.inner.syscallNumbers());
  }
  netInterfaces(): string[] {
    return this.record('netInterfaces', [], this.inner.netInterfaces());
  }
}

/**
 * What an answer depends on, cheaply. Computed when the question is recorded
 * (with the compiler's answer at hand) and again to validate an entry, where
 * the cheap questions are asked again without the compiler: a tracepoint's
 * format, a directory listing, a path resolved. Equal fingerprints mean the
 * host would give the compiler the same answer.
 */
function fingerprintOf(call: HostCall, answer?: unknown): string {
  const [a0, a1, a2] = call.args;
  switch (call.method) {
    case 'tracepoint':
      return sha(JSON.stringify(answer ?? validationTracefs().format(String(a0), String(a1)) ?? null));
    case 'tracepointCategories':
      return sha(JSON.stringify(answer ?? validationTracefs().categories()));
    case 'tracepointNames':
      return sha(JSON.stringify(answer ?? validationTracefs().tracepoints(String(a0))));
    case 'resolveBinary': {
      const target = String(a0);
      // A path, or a library a process has mapped: resolve again (cheap) and compare. (A pid that was
      // not given is null in an entry read back: JSON has no undefined.)
      if (target.includes('/') || a1 != null)
        return JSON.stringify(answer ?? resolveBinary(target, (a1 ?? undefined) as number | undefined));
      // A library through the linker's cache (reading it again costs more than this) or a program on PATH:
      // the linker cache, PATH's directories and the file found are all unchanged.
      const dirs = (process.env.PATH ?? '').split(':').map((d) => `${d}@${fileId(d)}`);
      return JSON.stringify([fileId('/etc/ld.so.cache'), dirs, call.file ? fileId(call.file) : 'unresolved']);
    }
    case 'functionSymbols':
    case 'ifuncSymbols':
    case 'usdtProbes':
    case 'elfSymbol':
      return fileId(String(a0));
    case 'neededLibraries':
      // The file's DT_NEEDED, found through the linker cache (a RUNPATH directory's contents aside).
      return `${fileId(String(a0))} ${fileId('/etc/ld.so.cache')}`;
    case 'cgroupId':
      // Asked again (a stat): a cgroup removed and made again has a new id.
      return JSON.stringify(answer ?? cgroupIdOf(String(a0)));
    case 'rawTracepointNames':
    case 'rawTracepointArgs':
    case 'kernelFunctionProto':
    case 'kernelType':
    case 'kernelConstant':
      // The kernel's BTF cannot change while it runs.
      return kernelKey();
    case 'dwarfFunction':
    case 'dwarfType':
      return fileId(String(a0));
    case 'cDefinitions':
      // The text, the names, clang and every header clang read (runtime/build/c-definitions.ts).
      return cDefinitionsFingerprint(String(a0), a1 ? String(a1).split(',') : [], a2 ? String(a2).split('\n') : []);
    case 'kernelFunctions':
    case 'kernelSymbolExists':
      // Kernel functions come and go with modules.
      return `${kernelKey()} ${sha(readOr('/proc/modules'))}`;
    case 'syscallNumbers':
      // The header they are read from (runtime/host/syscall-numbers.ts), on this kernel.
      return `${kernelKey()} ${Object.values(UNISTD_HEADERS).map(fileId).join(' ')}`;
    case 'netInterfaces':
      // Interfaces come and go (and differ between network namespaces): list them again.
      return sha(JSON.stringify(answer ?? netInterfaces()));
  }
}

let tracefs: Tracefs | undefined;
function validationTracefs(): Tracefs {
  tracefs ??= new Tracefs();
  return tracefs;
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return 'unreadable';
  }
}

/** A file's identity: a replaced or rewritten file gets a new one. */
function fileId(file: string): string {
  try {
    const s = fs.statSync(file, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return 'missing';
  }
}

function sha(data: string | Buffer): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}
