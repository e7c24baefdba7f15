// runtime/build/c-definitions.ts — the C definitions of a script (`#include`,
// `#define`, `struct`/`union`/`enum`/`typedef` before the probes), laid out by
// clang rather than by capc: clang preprocesses them (macros the script names
// are expanded by clang's own preprocessor, through a stringising helper),
// then compiles them with -g into a small shared object whose DWARF the
// DWARF reader turns into the compiler's C type shapes (records with exact
// offsets, padding and bitfields, enums, typedefs). clang's errors come back
// with the script's line and column (the compiler wrote #line markers).
// -I directories (bpftrace's -I DIR) are searched before the system's. Results
// are cached in the trusted cache directory, keyed by the text, the names
// asked, the -I directories, clang and its flags; an entry is used only while every header
// clang read is unchanged (device, inode, size, times).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { CDefinitions, CTypeDecl, CTypeRef } from '../../compiler/index.js';
import { cacheSubdir, privateTempDir, readCacheFile, writeCacheFile } from '../files/cache-dir.js';
import { DwarfFile } from '../host/dwarf.js';
import { clangPath, clangVersion } from './environment.js';

/** The names clang reports for the script's lines and the --include lines (the compiler's #line markers use them). */
export const SCRIPT_MARK = 'capc-script';
const INCLUDE_MARK = 'capc-include';

/** Defined for the definitions, as bpftrace defines it when the kernel has BTF (tools test it). */
// The anchor keeps one type in the object, so definitions that #if away to nothing still have debug information.
const PRELUDE =
  '#define BPFTRACE_HAVE_BTF 1\n#define __CAPC_STR2(x) #x\n#define __CAPC_STR(x) __CAPC_STR2(x)\nstruct __capc_anchor { int a; };\n';
const FLAGS = ['-g', '-fno-eliminate-unused-debug-types', '-w', '-fPIC', '-shared', '-nostdlib'];

let tempBase: string | undefined;

interface CacheEntry {
  version: 1;
  deps: { file: string; id: string }[];
  result: CDefinitions;
}

/** Changes whenever what is read out of clang's answer changes, so older cache entries are not used. */
const READER_VERSION = 2;

function entryFile(text: string, names: string[], dirs: string[]): { key: string; file: string | undefined } {
  const key = sha(
    [READER_VERSION, text, names.join(','), dirs.join('\n'), clangVersion(), FLAGS.join(' ')].join('\0'),
  ).slice(0, 32);
  const dir = cacheSubdir('cdefs');
  return { key, file: dir && path.join(dir, `${key}.json`) };
}

/** The cached entry for these definitions while every header it read is unchanged. */
function cachedEntry(file: string | undefined): CacheEntry | undefined {
  if (!file) return undefined;
  try {
    const raw = readCacheFile(file);
    const e = raw && (JSON.parse(raw.toString('utf8')) as CacheEntry);
    if (e && e.version === 1 && e.deps.every((d) => fileId(d.file) === d.id)) return e;
  } catch {
    /* a miss */
  }
  return undefined;
}

/**
 * What the answer for these definitions depends on (the compile cache's
 * fingerprint): the text, the names, clang and every header read, as cached.
 * Without a cache entry it matches nothing, so the program is compiled again.
 */
export function cDefinitionsFingerprint(text: string, names: string[], dirs: string[]): string {
  const { key, file } = entryFile(text, names, dirs);
  const e = cachedEntry(file);
  return e ? sha(key + JSON.stringify(e.deps)) : `uncached ${Math.random()}`;
}

/**
 * Lay out the C definitions `text`; `names` are the script's identifiers that
 * may be macros or enum constants; `dirs` are searched for headers first (-I).
 */
export function readCDefinitions(text: string, names: string[], dirs: string[] = []): CDefinitions {
  const { file } = entryFile(text, names, dirs);
  const hit = cachedEntry(file);
  if (hit) return hit.result;
  let built: { result: CDefinitions; deps: string[] };
  try {
    built = compile(text, names, dirs);
  } catch (e) {
    // clang missing, a temporary directory refused...: said at the definitions, never an internal error.
    return { ok: false, errors: [{ line: 0, col: 0, message: (e as Error).message.split('\n')[0]! }] };
  }
  const { result, deps } = built;
  if (file) {
    try {
      writeCacheFile(file, JSON.stringify({ version: 1, deps: deps.map((f) => ({ file: f, id: fileId(f) })), result }));
    } catch {
      /* only a speed-up */
    }
  }
  return result;
}

function compile(text: string, names: string[], dirs: string[]): { result: CDefinitions; deps: string[] } {
  tempBase ??= privateTempDir('capc-cdefs-');
  const work = fs.mkdtempSync(path.join(tempBase, 'w-'));
  try {
    const wanted = names.filter((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n));
    // Each name the script uses is stringised after full expansion: `AF_INET` → "2".
    const probes = wanted.map((n, i) => `const char __capc_m${i}[] = __CAPC_STR(${n});`).join('\n');
    const src = path.join(work, 'defs.c');
    fs.writeFileSync(src, `${PRELUDE}${text}\n#line 1 "capc-names"\n${probes}\n`);
    const search = dirs.flatMap((d) => ['-I', d]);
    const pre = runClang([...search, '-E', '-dD', src], work);
    if (!pre.ok) return { result: { ok: false, errors: errorsOf(pre.stderr) }, deps: [] };
    const { macros, functionMacros } = macrosOf(pre.stdout, wanted);
    const so = path.join(work, 'defs.so');
    const deps = path.join(work, 'defs.d');
    const built = runClang([...FLAGS, ...search, '-MD', '-MF', deps, '-o', so, src], work);
    if (!built.ok) return { result: { ok: false, errors: errorsOf(built.stderr) }, deps: [] };
    const dwarf = new DwarfFile(so);
    try {
      const types: Record<string, CTypeDecl> = {};
      const pending = dwarf.typeNames();
      for (let i = 0; i < pending.length && i < 100000; i++) {
        const name = pending[i]!;
        if (types[name] || name === 'struct __capc_anchor') continue;
        const decl = dwarf.type(name);
        if (!decl) continue;
        types[name] = decl;
        // Anonymous records are reached only through fields: add them as they are met.
        if (decl.k === 'record') for (const f of decl.record.fields) collectAnon(f.type, pending);
        if (decl.k === 'typedef') collectAnon(decl.type, pending);
      }
      const constants: Record<string, string> = {};
      for (const n of wanted) {
        const v = dwarf.constants.get(n);
        if (v !== undefined) constants[n] = v;
      }
      return {
        result: { ok: true, types, constants, macros, functionMacros },
        deps: depsOf(fs.readFileSync(deps, 'utf8')),
      };
    } finally {
      dwarf.close();
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function collectAnon(t: CTypeRef, out: string[]): void {
  if (t.k === 'ptr') return; // a pointer's target is read when it is dereferenced
  if (t.k === 'array') return collectAnon(t.elem, out);
  if (t.k === 'record' && t.name.startsWith('(anon ')) out.push(`${t.union ? 'union' : 'struct'} ${t.name}`);
}

function runClang(args: string[], cwd: string): { ok: boolean; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(clangPath(), args, {
      cwd,
      encoding: 'utf8',
      maxBuffer: 256 << 20,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TMPDIR: cwd },
    });
    return { ok: true, stdout, stderr: '' };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    return { ok: false, stdout: err.stdout ?? '', stderr: err.stderr ?? err.message };
  }
}

/**
 * clang's errors at the script's lines: an error in the script is reported
 * where it is; one in a header at the script's #include that brought it in.
 */
export function errorsOf(stderr: string): { line: number; col: number; message: string }[] {
  const out: { line: number; col: number; message: string }[] = [];
  let includedFrom: { line: number } | undefined;
  for (const l of stderr.split('\n')) {
    const inc = new RegExp(`^In file included from (${SCRIPT_MARK}|${INCLUDE_MARK}):(\\d+):`).exec(l);
    if (inc) {
      // A header an --include file brought in has no script line: line 0, said as --include's.
      includedFrom = { line: inc[1] === SCRIPT_MARK ? Number(inc[2]) : 0 };
      continue;
    }
    const m = /^(.*?):(\d+):(\d+): (?:fatal )?error: (.*)$/.exec(l);
    if (!m) {
      if (/^[^ ].*error: /.test(l) && !/^In file/.test(l))
        out.push({ line: 0, col: 0, message: l.replace(/^.*error: /, '') });
      continue;
    }
    const [, file, line, col, message] = m;
    if (file === SCRIPT_MARK) out.push({ line: Number(line), col: Number(col), message: message! });
    else if (file === 'capc-names') out.push({ line: 0, col: 0, message: message! });
    else if (file === INCLUDE_MARK) out.push({ line: 0, col: 0, message: `--include: ${message!}` });
    else if (includedFrom)
      out.push({
        line: includedFrom.line,
        col: includedFrom.line ? 1 : 0,
        message: `${includedFrom.line ? '' : '--include: '}${message} (in ${file}:${line}:${col})`,
      });
    else out.push({ line: 0, col: 0, message: `${message} (in ${path.basename(file!)}:${line})` });
    includedFrom = undefined;
  }
  return out.length ? out : [{ line: 0, col: 0, message: stderr.split('\n').find((l) => l.trim()) ?? 'clang failed' }];
}

/** The script's names that are macros: object-like ones with their expansion, function-like ones by name. */
function macrosOf(pre: string, wanted: string[]): { macros: Record<string, string>; functionMacros: string[] } {
  const defined = new Map<string, boolean>(); // name → function-like
  for (const m of pre.matchAll(/^#define ([A-Za-z_][A-Za-z0-9_]*)(\()?/gm)) defined.set(m[1]!, !!m[2]);
  for (const m of pre.matchAll(/^#undef ([A-Za-z_][A-Za-z0-9_]*)/gm)) defined.delete(m[1]!);
  const macros: Record<string, string> = {};
  const functionMacros: string[] = [];
  wanted.forEach((n, i) => {
    if (!defined.has(n)) return;
    if (defined.get(n)) {
      functionMacros.push(n);
      return;
    }
    const m = new RegExp(`__capc_m${i}\\[\\] = "((?:[^"\\\\]|\\\\.)*)";`).exec(pre);
    if (m) macros[n] = m[1]!.replace(/\\(["\\])/g, '$1');
  });
  return { macros, functionMacros };
}

/** Files of a make-style dependency list (`defs.so: a.h b.h \`). */
function depsOf(d: string): string[] {
  const body = d.replace(/\\\n/g, ' ').replace(/^[^:]*:/, '');
  return body
    .split(/\s+/)
    .filter((f) => f && !f.endsWith('defs.c'))
    .map((f) => path.resolve(f));
}

function fileId(file: string): string {
  try {
    const s = fs.statSync(file, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return 'missing';
  }
}

function sha(s: string): string {
  return crypto.createHash('sha256').update(s).digest('hex');
}
