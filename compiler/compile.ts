// compiler/compile.ts — the pipeline: runs the passes of compiler/passes.ts
// in order. Stops at the first pass boundary where errors were reported and
// returns every diagnostic collected so far; with `dump`, stops after that
// pass and returns its dump. An exception from a pass is a compiler bug: it
// becomes an E0999 diagnostic with a "please report" hint, never a crash.
import type { SourceFile } from '../grammar/ast.js';
import { sortBySource } from './2-analyze/analyze.js';
import type { Emitted } from './4-emit/emit.js';
import type { Diagnostic } from './diagnostics/diagnostic.js';
import type { Host } from './host.js';
import { PASSES, PASS_NAMES, type PassContext, type PassName, type PassOptions } from './passes.js';

export { PASS_NAMES };

export interface CompileOptions extends PassOptions {
  /** Stop after this pass and return its dump (`capc emit --dump=PASS`). */
  dump?: PassName;
  /** Keep going, and return the dumps of these passes as they finish (`capc -d`). */
  dumps?: readonly PassName[];
}

export interface CompileResult {
  ok: boolean;
  diagnostics: Diagnostic[];
  output?: Emitted;
  /** With options.dump: what that pass produced, as text. */
  dump?: string;
  /** The pass that stopped the pipeline, when !ok. */
  failedPass?: PassName;
  /** With options.dumps: each of those passes' dump, in pass order (the passes that ran). */
  dumps?: { pass: PassName; text: string }[];
}

export function compile(source: SourceFile, host: Host, options: CompileOptions = {}): CompileResult {
  const diagnostics: Diagnostic[] = [];
  const hasErrors = () => diagnostics.some((d) => d.severity === 'error');
  const cx: PassContext = { source, host, options };
  const sortStart = new Map<string, number>();
  let value: unknown = source;
  let current: PassName = 'parse';
  const dumps: { pass: PassName; text: string }[] | undefined = options.dumps ? [] : undefined;
  try {
    for (const p of PASSES) {
      current = p.name;
      sortStart.set(p.name, diagnostics.length);
      const r = p.run(value as never, cx);
      value = r.value;
      diagnostics.push(...(r.diagnostics ?? []));
      if ('sortFrom' in p && p.sortFrom) {
        const from = sortStart.get(p.sortFrom)!;
        diagnostics.splice(from, diagnostics.length - from, ...sortBySource(diagnostics.slice(from)));
      }
      if (p.stop && hasErrors()) return { ok: false, diagnostics, failedPass: p.name, dumps };
      if (options.dump === p.name) return { ok: true, diagnostics, dump: p.dump(value as never) };
      if (dumps && options.dumps!.includes(p.name)) dumps.push({ pass: p.name, text: p.dump(value as never) });
    }
    return { ok: true, diagnostics, output: value as Emitted, dumps };
  } catch (err) {
    const e = err as Error;
    diagnostics.push({
      code: 'E0999',
      severity: 'error',
      message: `internal compiler error in the ${current} pass: ${e.message}`,
      hints: [
        'this is a bug in capc, not in your program: please report it with the script that triggered it',
        (e.stack ?? '').split('\n').slice(1, 4).join(' | ').trim(),
      ],
    });
    return { ok: false, diagnostics, failedPass: current };
  }
}
