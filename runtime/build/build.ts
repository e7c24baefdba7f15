// runtime/build/build.ts — .cap source → checked C + manifest → BPF object.
// Shared by `run`, `check`, `build` and `emit`; diagnostics come back as
// data for the CLI to render.
import {
  loadCompiler,
  type CDefinitions,
  type CompileOptions,
  type CompileResult,
  type Host,
} from '../../compiler/index.js';
import type { SourceFile } from '../../diagnostics/source.js';
import { SystemHost } from '../host/system-host.js';
import { readCDefinitions } from './c-definitions.js';
import { compileC, type CompiledObject } from './clang.js';
import { mark } from '../timing.js';

/** The machine's Host with clang at hand: it also lays out a script's C definitions. */
export class BuildHost extends SystemHost {
  override cDefinitions(text: string, names: string[], includeDirs: string[]): CDefinitions {
    return readCDefinitions(text, names, includeDirs);
  }
}

let shared: BuildHost | undefined;
/** The process's one BuildHost (its caches live as long as the process). */
export function systemHost(): BuildHost {
  shared ??= new BuildHost();
  return shared;
}

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
