// compiler/2-analyze/probes-timer.ts — timed probes: `interval:UNIT:N` (a
// timer on one CPU) and `profile:UNIT:N` (a sampling timer on every CPU).
// Units are s, ms, us, or hz (N times a second); `interval:1s` is accepted too.
import type { ProbeSpecNode } from '../../grammar/ast.js';
import type { DiagnosticBag } from '../diagnostics/diagnostic.js';
import type { AttachPoint } from './probes.js';

const UNIT_NS: Record<string, bigint> = { s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, hz: 0n };

function parsePeriod(
  spec: ProbeSpecNode,
  bag: DiagnosticBag,
  what: 'interval' | 'profile',
): { unit: string; value: bigint; periodNs: bigint } | undefined {
  const parts = spec.parts;
  let unit: string | undefined;
  let valueText: string | undefined;
  if (parts.length === 3) {
    unit = parts[1]!.text;
    valueText = parts[2]!.text;
  } else if (parts.length === 2) {
    const m = /^(\d+)(s|ms|us|hz)$/.exec(parts[1]!.text);
    if (m) [valueText, unit] = [m[1], m[2]];
  }
  const bad = () =>
    bag.add(
      'E0408',
      `invalid ${what} '${spec.text}'`,
      spec.span,
      `expected ${what}:s:N, ${what}:ms:N, ${what}:us:N or ${what}:hz:N (N > 0)`,
    );
  if (!unit || !valueText || !(unit in UNIT_NS) || !/^\d+$/.test(valueText)) {
    bad();
    return undefined;
  }
  const value = BigInt(valueText);
  if (value <= 0n) {
    bad();
    return undefined;
  }
  const periodNs = unit === 'hz' ? 1_000_000_000n / value : value * UNIT_NS[unit]!;
  if (periodNs < 10_000n) {
    bag.add(
      'E0408',
      `${what} ${spec.text} is shorter than 10us`,
      spec.span,
      `the kernel cannot time ${what === 'interval' ? 'intervals' : 'samples'} that short reliably; use 10us or more`,
    );
    return undefined;
  }
  return { unit, value, periodNs };
}

export function resolveInterval(spec: ProbeSpecNode, bag: DiagnosticBag): AttachPoint[] {
  const p = parsePeriod(spec, bag, 'interval');
  return p ? [{ kind: 'interval', periodNs: p.periodNs, unit: p.unit, value: p.value }] : [];
}

/** profile:hz:N samples by frequency (the kernel spreads samples); other units by period. */
export function resolveProfile(spec: ProbeSpecNode, bag: DiagnosticBag): AttachPoint[] {
  const p = parsePeriod(spec, bag, 'profile');
  if (!p) return [];
  return [
    p.unit === 'hz'
      ? { kind: 'profile', unit: p.unit, value: p.value, hz: Number(p.value) }
      : { kind: 'profile', unit: p.unit, value: p.value, periodNs: p.periodNs },
  ];
}
