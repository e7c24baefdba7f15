// compiler/diagnostics/diagnostic.ts — diagnostics as data, and the bag that
// collects them. A pass never throws a user error: it adds a Diagnostic and
// carries on; the pipeline stops at the phase boundary if errors were added.
// The Diagnostic shape and the codes are shared with the runtime
// (diagnostics/); the bag takes only the compiler's codes.
import { CATALOGUE, type CompilerCode } from '../../diagnostics/catalogue.js';
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import type { Span } from '../../diagnostics/source.js';

export type { Diagnostic };

export class DiagnosticBag {
  readonly items: Diagnostic[] = [];

  private readonly seen = new Map<string, Diagnostic>();

  /**
   * Add a diagnostic. The same message at the same place is kept once: a block
   * shared by several probes is checked once per probe, and says so once.
   */
  add(code: CompilerCode, message: string, span?: Span, ...hints: (string | undefined)[]): Diagnostic {
    const key = `${code}\0${message}\0${span?.start ?? ''}\0${span?.end ?? ''}`;
    const known = this.seen.get(key);
    if (known) return known;
    const d: Diagnostic = {
      code,
      severity: CATALOGUE[code].severity,
      message,
      span,
      hints: hints.filter((h): h is string => !!h),
    };
    this.seen.set(key, d);
    this.items.push(d);
    return d;
  }

  addAll(ds: readonly Diagnostic[]): void {
    this.items.push(...ds);
  }

  /** Add another bag's diagnostics, each kept once as add() keeps them. */
  merge(other: DiagnosticBag): void {
    for (const d of other.items) {
      const key = `${d.code}\0${d.message}\0${d.span?.start ?? ''}\0${d.span?.end ?? ''}`;
      if (this.seen.has(key)) continue;
      this.seen.set(key, d);
      this.items.push(d);
    }
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'error');
  }

  get errors(): Diagnostic[] {
    return this.items.filter((d) => d.severity === 'error');
  }
}

/** Edit distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** Up to `max` names closest to `name`, closest first; only plausible ones. */
export function closest(name: string, candidates: Iterable<string>, max = 3): string[] {
  const limit = Math.max(2, Math.floor(name.length / 3));
  const scored: [number, string][] = [];
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    const contains = c.includes(name) || name.includes(c);
    if (d <= limit || (contains && Math.min(c.length, name.length) >= 3))
      scored.push([contains ? Math.min(d, limit) : d, c]);
  }
  scored.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]));
  return [...new Set(scored.map((s) => s[1]))].slice(0, max);
}

export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  const c = closest(name, candidates);
  if (c.length === 0) return undefined;
  return `did you mean ${c.map((x) => `'${x}'`).join(', ')}?`;
}
