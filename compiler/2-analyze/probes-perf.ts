// compiler/2-analyze/probes-perf.ts — perf-event probes other than timers:
// `software:EVENT[:COUNT]` and `hardware:EVENT[:COUNT]` (a sample every
// COUNT events, on every CPU: bpftrace's event names, aliases and default
// counts), and `watchpoint:ADDRESS:LENGTH:MODE` (a hardware breakpoint on
// an address of the -p/-c process). Whether the machine has the PMU is
// decided at attach time (a VM often has no hardware counters): here the
// spec only has to be well formed.
import type { ProbeSpecNode } from '../../grammar/ast.js';
import { closest, type DiagnosticBag } from '../diagnostics/diagnostic.js';
import type { AttachPoint } from './probes.js';

export interface PerfEventName {
  name: string;
  alias?: string;
  /** perf_event_attr.config (PERF_COUNT_SW_* / PERF_COUNT_HW_*). */
  config: number;
  /** The sample period when the spec gives none (bpftrace's defaults). */
  period: number;
}

/** PERF_TYPE_SOFTWARE events (linux/perf_event.h), with bpftrace's aliases and default counts. */
export const SOFTWARE_EVENTS: readonly PerfEventName[] = [
  { name: 'alignment-faults', config: 7, period: 1 },
  { name: 'bpf-output', config: 10, period: 1 },
  { name: 'context-switches', alias: 'cs', config: 3, period: 1000 },
  { name: 'cpu-clock', alias: 'cpu', config: 0, period: 1000000 },
  { name: 'cpu-migrations', config: 4, period: 1 },
  { name: 'dummy', config: 9, period: 1 },
  { name: 'emulation-faults', config: 8, period: 1 },
  { name: 'major-faults', config: 6, period: 1 },
  { name: 'minor-faults', config: 5, period: 100 },
  { name: 'page-faults', alias: 'faults', config: 2, period: 100 },
  { name: 'task-clock', config: 1, period: 1 },
];

/** PERF_TYPE_HARDWARE events, with bpftrace's aliases and default counts. */
export const HARDWARE_EVENTS: readonly PerfEventName[] = [
  { name: 'backend-stalls', config: 8, period: 1000000 },
  { name: 'branch-instructions', alias: 'branches', config: 4, period: 100000 },
  { name: 'branch-misses', config: 5, period: 100000 },
  { name: 'bus-cycles', config: 6, period: 100000 },
  { name: 'cache-misses', config: 3, period: 1000000 },
  { name: 'cache-references', config: 2, period: 1000000 },
  { name: 'cpu-cycles', alias: 'cycles', config: 0, period: 1000000 },
  { name: 'frontend-stalls', config: 7, period: 1000000 },
  { name: 'instructions', config: 1, period: 1000000 },
  { name: 'ref-cycles', config: 9, period: 1000000 },
];

/** software:EVENT[:COUNT], hardware:EVENT[:COUNT] (s:, h:). */
export function resolvePerfEvent(
  spec: ProbeSpecNode,
  type: 'software' | 'hardware',
  bag: DiagnosticBag,
): AttachPoint[] {
  const parts = spec.parts;
  const table = type === 'software' ? SOFTWARE_EVENTS : HARDWARE_EVENTS;
  const names = table.flatMap((e) => (e.alias ? [e.name, e.alias] : [e.name]));
  if (parts.length < 2 || parts.length > 3 || !parts[1]!.text) {
    bag.add(
      'E0402',
      `malformed ${type} probe '${spec.text}'`,
      spec.span,
      `expected ${type}:EVENT or ${type}:EVENT:COUNT, e.g. ${type}:${table === SOFTWARE_EVENTS ? 'page-faults:100' : 'cpu-cycles:1000000'}`,
    );
    return [];
  }
  const ev = table.find((e) => e.name === parts[1]!.text || e.alias === parts[1]!.text);
  if (!ev) {
    const sugg = closest(parts[1]!.text, names);
    bag.add(
      'E0402',
      `${parts[1]!.text} is not a ${type} probe`,
      parts[1]!.span,
      sugg.length ? `did you mean ${sugg.map((s) => `'${s}'`).join(', ')}?` : undefined,
      `${type} events: ${table.map((e) => e.name).join(', ')}`,
    );
    return [];
  }
  let period = ev.period;
  const count = parts[2];
  if (count) {
    if (!/^\d+$/.test(count.text) || BigInt(count.text) > 2n ** 53n) {
      bag.add(
        'E0402',
        `the count of ${type}:${ev.name} must be a positive integer`,
        count.span,
        `e.g. ${type}:${ev.name}:${ev.period}`,
      );
      return [];
    }
    // bpftrace 0.17 takes a count of 0 as the default count too.
    period = Number(count.text) || ev.period;
  }
  return [{ kind: type, event: ev.name, config: ev.config, period }];
}

const WATCH_LENGTHS = [1, 2, 4, 8];

/** watchpoint:ADDRESS:LENGTH:MODE (w:); MODE is r, w and x, once each, not `r` alone (x86 cannot watch reads only). */
export function resolveWatchpoint(spec: ProbeSpecNode, bag: DiagnosticBag): AttachPoint[] {
  const parts = spec.parts;
  if (parts.length !== 4) {
    bag.add(
      'E0402',
      'watchpoint probe type requires 3 arguments',
      spec.span,
      'expected watchpoint:ADDRESS:LENGTH:MODE, e.g. watchpoint:0x404090:8:w (with -p PID or -c CMD)',
    );
    return [];
  }
  const [, a, l, m] = parts as [unknown, (typeof parts)[0], (typeof parts)[0], (typeof parts)[0]];
  if (!/^(?:0[xX][0-9a-fA-F]+|\d+)$/.test(a.text) || BigInt(a.text) === 0n || BigInt(a.text) >= 2n ** 64n) {
    bag.add(
      'E0402',
      `invalid watchpoint address '${a.text}'`,
      a.span,
      /\+/.test(a.text)
        ? 'capc watches an address (watchpoint:0x404090:8:w); the FUNCTION+argN form is not supported'
        : 'give the address in hex or decimal: watchpoint:0x404090:8:w',
    );
    return [];
  }
  const length = Number(l.text);
  if (!WATCH_LENGTHS.includes(length) || !/^\d+$/.test(l.text)) {
    bag.add('E0402', 'watchpoint length must be one of (1,2,4,8)', l.span);
    return [];
  }
  const mode = m.text;
  const valid = /^[rwx]+$/.test(mode) && new Set(mode).size === mode.length && mode !== 'r';
  if (!valid) {
    bag.add('E0402', `invalid watchpoint mode: ${mode}`, m.span, 'modes: w, rw, x (r alone cannot be watched on x86)');
    return [];
  }
  return [
    {
      kind: 'watchpoint',
      address: BigInt(a.text),
      length: length as 1 | 2 | 4 | 8,
      mode: [...'rwx'].filter((c) => mode.includes(c)).join(''),
    },
  ];
}
