// compiler/compile.ts — the pipeline: parse → analyze → lower → emit, each a
// pure pass. Stops at the first phase that reports errors and returns every
// diagnostic collected so far. An exception from a pass is a compiler bug: it
// becomes an E0999 diagnostic with a "please report" hint, never a crash.
import type { SourceFile } from '../grammar/ast.js';
import { parse } from './1-parse/parse.js';
import { analyze } from './2-analyze/analyze.js';
import type { AnalyzeOptions } from './2-analyze/context.js';
import { lower } from './3-lower/lower.js';
import type { LowerOptions } from './3-lower/rules.js';
import { emit, type Emitted, type EmitOptions } from './4-emit/emit.js';
import type { Diagnostic } from './diagnostics/diagnostic.js';
import type { Host } from './host.js';

export interface CompileOptions extends AnalyzeOptions, LowerOptions, EmitOptions {}

export interface CompileResult {
  ok: boolean;
  diagnostics: Diagnostic[];
  output?: Emitted;
  /** Phase that stopped the pipeline, when !ok. */
  failedPhase?: 'parse' | 'analyze' | 'lower' | 'emit';
}

export function compile(source: SourceFile, host: Host, options: CompileOptions = {}): CompileResult {
  const diagnostics: Diagnostic[] = [];
  const hasErrors = () => diagnostics.some((d) => d.severity === 'error');
  let phase: CompileResult['failedPhase'] = 'parse';
  try {
    const parsed = parse(source);
    diagnostics.push(...parsed.diagnostics);
    if (hasErrors()) return { ok: false, diagnostics, failedPhase: 'parse' };
    phase = 'analyze';
    const { analyzed, diagnostics: ad } = analyze(parsed.program, source, host, options);
    diagnostics.push(...ad);
    if (hasErrors()) return { ok: false, diagnostics, failedPhase: 'analyze' };
    phase = 'lower';
    const lowered = lower(analyzed, options);
    phase = 'emit';
    const output = emit(lowered, options);
    return { ok: true, diagnostics, output };
  } catch (err) {
    const e = err as Error;
    diagnostics.push({
      code: 'E0999',
      severity: 'error',
      message: `internal compiler error in the ${phase} phase: ${e.message}`,
      hints: [
        'this is a bug in capc, not in your program: please report it with the script that triggered it',
        (e.stack ?? '').split('\n').slice(1, 4).join(' | ').trim(),
      ],
    });
    return { ok: false, diagnostics, failedPhase: phase };
  }
}
