// runtime/build/build.ts — .cap source → checked C + manifest → BPF object.
// Shared by `run`, `check`, `build` and `emit`; diagnostics come back as
// data for the CLI to render.
import { loadCompiler, type CompileOptions, type CompileResult, type Host } from '../../compiler/index.js';
import type { SourceFile } from '../../diagnostics/source.js';
import { systemHost } from '../host/system-host.js';
import { compileC, type CompiledObject } from './clang.js';
import { mark } from '../timing.js';

export { systemHost };

export function cFileNameFor(source: SourceFile): string {
  const base = source.name === '-e' ? 'program' : source.name.replace(/^.*\//, '').replace(/\.cap$/, '');
  return `${base.replace(/[^A-Za-z0-9_.-]/g, '_')}.bpf.c`;
}

export async function compileSource(
  source: SourceFile,
  options: CompileOptions = {},
  host: Host = systemHost(),
): Promise<CompileResult> {
  const { compile } = await loadCompiler();
  return compile(source, host, { cFileName: cFileNameFor(source), ...options });
}

/** The compiler's passes, in order (`capc emit --dump=PASS`). */
export async function passNames(): Promise<readonly string[]> {
  return (await loadCompiler()).PASS_NAMES;
}

export interface Built extends CompileResult {
  object?: CompiledObject;
}

export async function buildSource(
  source: SourceFile,
  options: CompileOptions = {},
  buildOpts: { noCache?: boolean; host?: Host } = {},
): Promise<Built> {
  const r = await compileSource(source, options, buildOpts.host);
  mark('compiler passes done');
  if (!r.ok || !r.output) return r;
  const object = await compileC(r.output.c, source, { cFile: cFileNameFor(source), noCache: buildOpts.noCache });
  return { ...r, object };
}
