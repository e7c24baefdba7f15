// compiler/2-analyze/context.ts — the state one analysis run threads through
// its checkers: diagnostics, the program-wide map registry, options, and the
// probe instance being checked.
import type { DiagnosticBag } from '../diagnostics/diagnostic.js';
import type { CaptureSite, MapInfo, ProbeInstance, ProgramConfig } from './analyzed.js';
import { probeKind, type ProbeKind } from './probes.js';

export interface AnalyzeOptions {
  /** Positional parameters ($1, $2, ...) given on the command line. */
  positional?: string[];
  /** `-p PID`: resolve uprobe targets through this process's mappings. */
  pid?: number;
  /** Defaults for the config block (command-line flags override the script). */
  config?: Partial<ProgramConfig>;
  /** Config values that override the script's config block (from flags). */
  configOverrides?: Partial<ProgramConfig>;
}

export interface CheckContext {
  bag: DiagnosticBag;
  maps: Map<string, MapInfo>;
  config: ProgramConfig;
  options: AnalyzeOptions;
  inst: ProbeInstance;
  uses: { cpid: boolean; elapsed: boolean };
  /** Statements after exit()/return in the current block are unreachable. */
  terminated: boolean;
  /** accumulate()/capture() statements found so far. */
  sites: CaptureSite[];
  /** Depth of `while` loops around the statement being checked (break/continue need one). */
  loopDepth?: number;
}

export function kindOf(cx: CheckContext): ProbeKind {
  return probeKind(cx.inst.attach);
}
