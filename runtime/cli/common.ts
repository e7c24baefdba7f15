// runtime/cli/common.ts — what every command shares: reading the program
// (a file, `-`, or -e), the compile options flags map to, colour, and turning
// any failure into a rendered diagnostic and an exit code
// (0 ok, 1 runtime failure, 2 usage or compile error, 70 internal error).
import fs from 'node:fs';
import { styleText } from 'node:util';
import type { CompileOptions } from '../../compiler/compile.js';
import type { Diagnostic } from '../../compiler/diagnostics/diagnostic.js';
import { renderDiagnostics, type Paint } from '../../compiler/diagnostics/render.js';
import type { SourceFile } from '../../grammar/ast.js';
import { CapcError } from '../errors.js';
import { CompileFailed } from '../session/session.js';

export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 70;

export interface ProgramOpts {
  e?: string;
  verbose?: boolean;
  strlen?: string;
  ringbufSize?: string;
  maxMapKeys?: string;
  captureRingSize?: string;
  maxConnections?: string;
}

export function paintFor(stream: NodeJS.WriteStream): Paint {
  const color = stream.isTTY && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
  if (!color) return (_s, t) => t;
  const styles: Record<string, Parameters<typeof styleText>[0]> = { error: ['red', 'bold'], warning: ['yellow', 'bold'], note: 'cyan', bold: 'bold', dim: 'blue', caret: ['red', 'bold'] };
  return (s, t) => styleText(styles[s] ?? 'reset', t);
}

/** The program text: -e, a file, or `-` for stdin. */
export function readSource(file: string | undefined, opts: ProgramOpts): SourceFile {
  if (opts.e !== undefined) {
    if (file !== undefined && !opts.e) throw new CapcError('E0904', 'give either a file or -e PROGRAM');
    return { name: '-e', text: opts.e };
  }
  if (!file) throw new CapcError('E0904', 'no program given', ['capc run FILE.cap, or capc run -e \'BEGIN { printf("hi\\n"); exit(); }\'']);
  if (file === '-') return { name: '<stdin>', text: fs.readFileSync(0, 'utf8') };
  try {
    return { name: file, text: fs.readFileSync(file, 'utf8') };
  } catch (e) {
    throw new CapcError('E0905', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
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
  return { positional, configOverrides: overrides };
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
  process.stderr.write(`internal error: ${e?.message ?? String(err)}\nThis is a bug in capc. Please report it with the command you ran.\n${verbose ? e?.stack ?? '' : ''}\n`);
  return EXIT_INTERNAL;
}
