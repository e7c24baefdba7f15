// runtime/host/system-host.ts — the compiler's Host interface answered from
// this machine: tracefs for tracepoints, ELF files for symbols, ldconfig and
// /proc for libraries. Results are cached for the life of the process.
import type { Host, Resolved, TracepointFormat } from '../../compiler/host.js';
import { readFunctionSymbols } from './elf.js';
import { resolveBinary } from './libraries.js';
import { Tracefs } from './tracefs.js';

export class SystemHost implements Host {
  readonly tracefs = new Tracefs();
  private readonly symbols = new Map<string, Resolved<string[]>>();

  tracepoint(category: string, name: string): TracepointFormat | undefined {
    return this.tracefs.format(category, name);
  }
  tracepointCategories(): string[] {
    return this.tracefs.categories();
  }
  tracepointNames(category: string): string[] {
    return this.tracefs.tracepoints(category);
  }
  resolveBinary(target: string, pid?: number): Resolved<string> {
    return resolveBinary(target, pid);
  }
  functionSymbols(path: string): Resolved<string[]> {
    let r = this.symbols.get(path);
    if (!r) {
      try {
        r = { ok: true, value: readFunctionSymbols(path).map((s) => s.name) };
      } catch (e) {
        r = { ok: false, error: `cannot read symbols of ${path}: ${(e as Error).message}`, candidates: [] };
      }
      this.symbols.set(path, r);
    }
    return r;
  }
}
