// runtime/cli/common.ts — what every command shares: reading the program
// (a file, `-`, or -e), the compile options flags map to, colour, and turning
// any failure into a rendered diagnostic and an exit code
// (0 ok, 1 runtime failure, 2 usage or compile error, 70 internal error).
import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import path from 'node:path';
import { styleText } from 'node:util';
import { TRACEPOINT_FORMS, type CompileOptions } from '../../compiler/index.js';
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import { renderDiagnostics, type Paint } from '../../diagnostics/render.js';
import type { SourceFile } from '../../diagnostics/source.js';
import { CapcError } from '../errors.js';
import { CompileFailed } from '../session/session.js';

export const EXIT_OK = 0;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 70;

export interface ProgramOpts {
  e?: string;
  verbose?: boolean;
  unsafe?: boolean;
  /** -k / -kk: how many times it was given. */
  k?: number;
  /** -I DIR, --include FILE (each may repeat). */
  I?: string[];
  include?: string[];
  strlen?: string;
  ringbufSize?: string;
  maxMapKeys?: string;
  captureRingSize?: string;
  maxConnections?: string;
  /** --tracepoints perf|raw|auto: how syscall tracepoints attach. */
  tracepoints?: string;
}

export function paintFor(stream: NodeJS.WriteStream): Paint {
  const color = stream.isTTY && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
  if (!color) return (_s, t) => t;
  const styles: Record<string, Parameters<typeof styleText>[0]> = {
    error: ['red', 'bold'],
    warning: ['yellow', 'bold'],
    note: 'cyan',
    bold: 'bold',
    dim: 'blue',
    caret: ['red', 'bold'],
  };
  return (s, t) => styleText(styles[s] ?? 'reset', t);
}

/** The program text: -e, a file, or `-` for stdin. */
export function readSource(file: string | undefined, opts: ProgramOpts): SourceFile {
  if (opts.e !== undefined) {
    if (file !== undefined && !opts.e) throw new CapcError('E0904', 'give either a file or -e PROGRAM');
    return { name: '-e', text: opts.e };
  }
  if (!file)
    throw new CapcError('E0904', 'no program given', [
      'capc FILE.bt, capc -e \'BEGIN { printf("hi\\n"); exit(); }\', or capc -l PATTERN to list probes',
    ]);
  if (file === '-') return decodeSource('<stdin>', fs.readFileSync(0));
  try {
    return decodeSource(file, fs.readFileSync(file));
  } catch (e) {
    // bpftrace's words: "failed to open file 'x': No such file or directory".
    const err = e as NodeJS.ErrnoException;
    throw new CapcError('E0905', `failed to open file '${file}': ${err.code ? describeErrno(err) : err.message}`);
  }
}

/** strerror(3)'s text for a failed file call (Node's message carries the syscall and path around it). */
function describeErrno(err: NodeJS.ErrnoException): string {
  const known: Record<string, string> = {
    ENOENT: 'No such file or directory',
    EACCES: 'Permission denied',
    EISDIR: 'Is a directory',
    ENOTDIR: 'Not a directory',
    ELOOP: 'Too many levels of symbolic links',
  };
  return known[err.code!] ?? err.message;
}

/** UTF-8 text of a program; the first invalid byte is remembered so the parser can point at it. */
export function decodeSource(name: string, bytes: Buffer): SourceFile {
  const text = bytes.toString('utf8');
  if (isUtf8(bytes)) return { name, text };
  return { name, text, invalidUtf8At: bytes.subarray(0, firstInvalidUtf8(bytes)).toString('utf8').length };
}

/** Byte offset of the first sequence that is not well-formed UTF-8 (RFC 3629). */
function firstInvalidUtf8(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (n === 0 || i + n >= b.length) return i;
    for (let k = 1; k <= n; k++) if ((b[i + k]! & 0xc0) !== 0x80) return i;
    const c1 = b[i + 1]!;
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF.
    if (
      (c === 0xe0 && c1 < 0xa0) ||
      (c === 0xed && c1 >= 0xa0) ||
      (c === 0xf0 && c1 < 0x90) ||
      (c === 0xf4 && c1 >= 0x90)
    )
      return i;
    i += n + 1;
  }
  return b.length;
}

function sizeArg(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)([KMG]?)$/i.exec(v.trim());
  if (!m) throw new CapcError('E0904', `${name} must be a number, optionally with K, M or G (got '${v}')`);
  return Number(m[1]) * ({ '': 1, K: 1024, M: 1 << 20, G: 1 << 30 }[m[2]!.toUpperCase()] ?? 1);
}

export function compileOptions(opts: ProgramOpts, positional: string[]): CompileOptions {
  const overrides: CompileOptions['configOverrides'] = {};
  const strlen = sizeArg('--strlen', opts.strlen);
  const ring = sizeArg('--ringbuf-size', opts.ringbufSize);
  const keys = sizeArg('--max-map-keys', opts.maxMapKeys);
  if (strlen !== undefined) overrides.strlen = strlen;
  if (ring !== undefined) overrides.ringbufSize = ring;
  if (keys !== undefined) overrides.maxMapKeys = keys;
  const capRing = sizeArg('--capture-ring-size', opts.captureRingSize);
  const conns = sizeArg('--max-connections', opts.maxConnections);
  if (capRing !== undefined) overrides.captureRingSize = capRing;
  if (conns !== undefined) overrides.maxConnections = conns;
  const out: CompileOptions = { positional, configOverrides: overrides };
  if (opts.tracepoints !== undefined) {
    const form = TRACEPOINT_FORMS.find((f) => f === opts.tracepoints);
    if (!form)
      throw new CapcError('E0904', `--tracepoints must be perf, raw or auto (got '${opts.tracepoints}')`, [
        'auto (the default) runs syscall tracepoints from the raw tracepoints sys_enter/sys_exit when a program has several; see docs/language.md',
      ]);
    // auto is the default: left out, so the compile cache keys it like a run without the flag.
    if (form !== 'auto') out.tracepoints = form;
  }
  if (opts.unsafe) out.unsafe = true;
  // -k: failed map updates, deletes, stack ids and signals are reported with their line; -kk: probe reads too.
  if (opts.k) out.helperChecks = Math.min(opts.k, 2);
  // C headers as bpftrace takes them: -I DIR searched first, --include FILE before the script's C.
  if (opts.I?.length) out.includeDirs = opts.I.map((d) => headerPath('-I', d, true));
  if (opts.include?.length) out.includeFiles = opts.include.map((f) => headerPath('--include', f, false));
  return out;
}

/**
 * A -I directory or --include file for clang, which runs in a directory of its
 * own: a directory, or a file found from the current directory, made
 * absolute; any other file name is searched as #include "FILE" searches it
 * (the -I directories, then the system's).
 */
function headerPath(flag: string, p: string, dir: boolean): string {
  if (!p || /["\n]/.test(p))
    throw new CapcError('E0904', `${flag} needs a ${dir ? 'directory' : 'file'} name without quotes or newlines`);
  if (dir || path.isAbsolute(p) || fs.existsSync(p)) return path.resolve(p);
  return p;
}

export function printDiagnostics(ds: Diagnostic[], source: SourceFile | undefined): void {
  if (!ds.length) return;
  process.stderr.write(renderDiagnostics(ds, source, paintFor(process.stderr)) + '\n');
}

/** Render any failure and return the exit code it maps to. */
export function reportFailure(err: unknown, source: SourceFile | undefined, verbose: boolean): number {
  if (err instanceof CompileFailed) {
    printDiagnostics(err.diagnostics, source);
    const n = err.diagnostics.filter((d) => d.severity === 'error').length;
    process.stderr.write(`\n${n} error${n === 1 ? '' : 's'}: nothing was loaded\n`);
    return err.diagnostics.some((d) => d.code === 'E0999') ? EXIT_INTERNAL : EXIT_USAGE;
  }
  if (err instanceof CapcError) {
    printDiagnostics([err.toDiagnostic()], err.span ? source : undefined);
    if (err.detail && (verbose || err.code === 'E0701' || err.code === 'E0601')) {
      process.stderr.write(`\n${verbose ? err.detail : err.detail.split('\n').slice(-12).join('\n')}\n`);
    }
    return err.exitCode;
  }
  const e = err as Error;
  process.stderr.write(
    `internal error: ${e?.message ?? String(err)}\nThis is a bug in capc. Please report it with the command you ran.\n${verbose ? (e?.stack ?? '') : ''}\n`,
  );
  return EXIT_INTERNAL;
}
