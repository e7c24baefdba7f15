// runtime/errors.ts — the one error type the runtime throws for problems a
// user can act on (environment, load, attach, process). It carries a stable
// diagnostic code and hints, and maps to an exit code: 2 for usage and
// compile-time problems, 1 for everything that fails while running.
import type { Span } from '../diagnostics/source.js';
import type { DiagnosticCode } from '../diagnostics/catalogue.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';

export class CapcError extends Error {
  constructor(
    readonly code: DiagnosticCode,
    message: string,
    readonly hints: string[] = [],
    readonly span?: Span,
    /** Extra text shown after the diagnostic (e.g. the verifier log with --verbose). */
    readonly detail?: string,
  ) {
    super(message);
  }

  toDiagnostic(): Diagnostic {
    return { code: this.code, severity: 'error', message: this.message, span: this.span, hints: this.hints };
  }

  /** 2 for usage and compile problems (the verifier's rejection included), 1 for the environment and run time. */
  get exitCode(): number {
    return exitCodeFor(this.code);
  }
}

export function exitCodeFor(code: DiagnosticCode): number {
  if (/^E0[1-5]/.test(code)) return 2;
  return ['E0601', 'E0701', 'E0702', 'E0904', 'E0905', 'E0907'].includes(code) ? 2 : 1;
}
