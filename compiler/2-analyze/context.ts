// compiler/2-analyze/context.ts — the state one analysis run threads through
// its checkers: diagnostics, the program-wide map registry, options, and the
// probe instance being checked.
import type { DiagnosticBag } from '../diagnostics/diagnostic.js';
import type { CaptureSite, MapInfo, ProbeInstance, ProgramConfig } from './analyzed.js';
import { probeKind, type ProbeKind } from './probes.js';
import type { TypeTable } from './type-table.js';
import type { SyscallFormOptions } from './syscall-form.js';

export interface AnalyzeOptions extends SyscallFormOptions {
  /** Positional parameters ($1, $2, ...) given on the command line. */
  positional?: string[];
  /** `-p PID`: resolve uprobe targets through this process's mappings. */
  pid?: number;
  /** Defaults for the config block (command-line flags override the script). */
  config?: Partial<ProgramConfig>;
  /** Config values that override the script's config block (from flags). */
  configOverrides?: Partial<ProgramConfig>;
  /** --unsafe: functions with effects outside the kernel (system(), signal()) are allowed. */
  unsafe?: boolean;
  /**
   * C headers, as bpftrace takes them: -I DIR (searched for #include before
   * the system's directories) and --include FILE (included before the
   * script's own C, as `#include "FILE"`). Absolute paths: clang runs in a
   * directory of its own (the CLI resolves relative ones).
   */
  includeDirs?: string[];
  includeFiles?: string[];
}

/** What one body saw of the maps: each read (missing, or a string map's capacity) and each list of names. */
interface BodyView {
  seen: { name: string; strSize: number | 'missing' }[];
  listed: string[];
}

/**
 * The program's maps while bodies are checked, typed by their first write in
 * program order. It remembers what the body being checked saw of the maps it
 * read (missing, a string map's capacity, the list of names), so the check
 * pass can tell which bodies read a map before the probe that first writes it,
 * or saw it smaller than it ends up, and check only those again.
 */
export class MapRegistry {
  private readonly maps = new Map<string, MapInfo>();
  private body: BodyView = { seen: [], listed: [] };

  /** A map a read refers to (undefined: not written so far). */
  get(name: string): MapInfo | undefined {
    const m = this.maps.get(name);
    this.body.seen.push({ name, strSize: m ? (m.strSize ?? 0) : 'missing' });
    return m;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** The names written so far, for hints. */
  names(): string[] {
    const names = [...this.maps.keys()];
    this.body.listed.push(names.join('\0'));
    return names;
  }

  /** The map a write defines or extends: not a read, nothing is remembered. */
  forWrite(name: string): MapInfo | undefined {
    return this.maps.get(name);
  }

  set(name: string, m: MapInfo): void {
    this.maps.set(name, m);
  }

  /** Start remembering what one body sees; returns what it saw, once it is checked. */
  startBody(): BodyView {
    this.body = { seen: [], listed: [] };
    return this.body;
  }

  /** Whether a body saw the maps otherwise than they are now (a map not yet written, a string map smaller). */
  sawOtherwise(view: BodyView): boolean {
    const now = [...this.maps.keys()].join('\0');
    return (
      view.listed.some((l) => l !== now) ||
      view.seen.some(({ name, strSize }) => {
        const m = this.maps.get(name);
        return (m ? (m.strSize ?? 0) : 'missing') !== strSize;
      })
    );
  }

  /** Every map, as lowering reads them. */
  all(): Map<string, MapInfo> {
    return new Map(this.maps);
  }
}

export interface CheckContext {
  bag: DiagnosticBag;
  maps: MapRegistry;
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
  /** Types by name (the script's C, DWARF, BTF), records' fields. */
  types: TypeTable;
}

export function kindOf(cx: CheckContext): ProbeKind {
  return probeKind(cx.inst.attach);
}
