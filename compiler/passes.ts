// compiler/passes.ts — the compiler's passes, in order, in one array. Each is
// a pure function from the previous pass's output (and the context: source,
// host, options) to its own, adds diagnostics as data, and has a dump
// (`capc emit --dump=NAME`) that shows what it produced:
//   parse         source text → AST                          (1-parse)
//   collect       AST → probe instances, config, capture modes (2-analyze)
//   check         types, calls and maps of every body, capture sites (2-analyze)
//   plan-capture  families, the sink, close watchers (R9),     (3-lower)
//                 scope/discovery, identity learners
//   lower         C program + manifest, verifier rules applied (3-lower)
//   emit          C text with #line directives, manifest JSON  (4-emit)
// The pipeline (compile.ts) stops after a pass marked `stop` if any error was
// reported so far; collect does not stop, so check still reports what it can
// in the probes that resolved, as one list in source order.
import type * as A from '../grammar/ast.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { dumpProgram } from './1-parse/dump-ast.js';
import { parse } from './1-parse/parse.js';
import { check, collect, type Collected } from './2-analyze/analyze.js';
import type { AnalyzedProgram } from './2-analyze/analyzed.js';
import type { AnalyzeOptions } from './2-analyze/context.js';
import { dumpChecked, dumpCollected } from './2-analyze/dump-analysis.js';
import { dumpCapturePlan, dumpLowered } from './3-lower/dump-lowered.js';
import { lower, type Lowered } from './3-lower/lower.js';
import { planCapture } from './3-lower/plan-capture.js';
import type { LowerOptions } from './3-lower/rules.js';
import { emit, type Emitted, type EmitOptions } from './4-emit/emit.js';
import type { Host } from './host.js';

export interface PassOptions extends AnalyzeOptions, LowerOptions, EmitOptions {}

export interface PassContext {
  source: A.SourceFile;
  host: Host;
  options: PassOptions;
}

interface Pass<I, O> {
  name: string;
  run(input: I, cx: PassContext): { value: O; diagnostics?: Diagnostic[] };
  dump(value: O): string;
  /** Stop the pipeline after this pass when errors were reported. */
  stop: boolean;
  /** Put the diagnostics of the passes from this one on in source order (analysis reports as one list). */
  sortFrom?: string;
}

const pass = <I, O>(p: Pass<I, O>): Pass<I, O> => p;

export const PASSES = [
  pass<A.SourceFile, A.Program>({
    name: 'parse',
    run: (source) => {
      const r = parse(source);
      return { value: r.program, diagnostics: r.diagnostics };
    },
    dump: dumpProgram,
    stop: true,
  }),
  pass<A.Program, Collected>({
    name: 'collect',
    run: (program, cx) => {
      const r = collect(program, cx.source, cx.host, cx.options);
      return { value: r.collected, diagnostics: r.diagnostics };
    },
    dump: dumpCollected,
    stop: false,
  }),
  pass<Collected, AnalyzedProgram>({
    name: 'check',
    run: (collected) => {
      const r = check(collected);
      return { value: r.analyzed, diagnostics: r.diagnostics };
    },
    dump: dumpChecked,
    stop: true,
    sortFrom: 'collect',
  }),
  pass<AnalyzedProgram, AnalyzedProgram>({
    name: 'plan-capture',
    run: (analyzed, cx) => ({ value: planCapture(analyzed, cx.host) }),
    dump: dumpCapturePlan,
    stop: true,
  }),
  pass<AnalyzedProgram, Lowered>({
    name: 'lower',
    run: (analyzed, cx) => ({ value: lower(analyzed, cx.options) }),
    dump: dumpLowered,
    stop: true,
  }),
  pass<Lowered, Emitted>({
    name: 'emit',
    run: (lowered, cx) => ({ value: emit(lowered, cx.options) }),
    dump: (e) => e.c,
    stop: true,
  }),
] as const;

export type PassName = (typeof PASSES)[number]['name'];

export const PASS_NAMES: readonly string[] = PASSES.map((p) => p.name);
