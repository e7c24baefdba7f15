// compiler/4-emit/emit.ts — phase 4: lowered program → text. Prints the C
// (with #line directives back to the .cap file) and serialises the manifest.
// Deterministic: the same input always gives byte-identical output.
import type { Lowered } from '../3-lower/lower.js';
import type { Manifest } from '../manifest.js';
import { printProgram } from './print-c.js';

export interface Emitted {
  c: string;
  manifest: Manifest;
  manifestJson: string;
}

export interface EmitOptions {
  /** File name the C will have on disk (for #line directives in generated scaffolding). */
  cFileName?: string;
  /** Map C lines back to .cap lines (default on). */
  lineDirectives?: boolean;
}

export function emit(lowered: Lowered, opts: EmitOptions = {}): Emitted {
  const c = printProgram(lowered.c, {
    cFileName: opts.cFileName ?? 'program.bpf.c',
    lineDirectives: opts.lineDirectives ?? true,
  });
  return { c, manifest: lowered.manifest, manifestJson: JSON.stringify(lowered.manifest, null, 2) + '\n' };
}
