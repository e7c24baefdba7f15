// diagnostics/diagnostic.ts — a diagnostic as data, the one shape both the
// compiler (DiagnosticBag, compiler/diagnostics/) and the runtime (CapcError,
// runtime/errors.ts) produce and the renderer (render.ts) prints.
import type { DiagnosticCode } from './catalogue.js';
import type { Span } from './source.js';

export type Severity = 'error' | 'warning' | 'note';

export interface Diagnostic {
  code: DiagnosticCode;
  severity: Severity;
  message: string;
  /** Where in the source; absent for problems that are not about one place. */
  span?: Span;
  /** What to do about it, one line each. */
  hints: string[];
}
