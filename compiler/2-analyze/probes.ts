// compiler/2-analyze/probes.ts — resolves probe specs into attach points:
// provider aliases (t:, u:, ur:, U:, rt:, i:, p:, k:, kr:, f:, fr:), then one
// resolver per family (probes-kernel.ts, probes-user.ts, probes-timer.ts)
// checks the target exists and expands wildcards. Unknown names get "did you
// mean" suggestions from the host.
import type { ProbeSpecNode } from '../../grammar/ast.js';
import { closest, type DiagnosticBag } from '../diagnostics/diagnostic.js';
import type { BtfParam, Host, TracepointFormat } from '../host.js';
import { resolveFentry, resolveKprobe, resolveRawTracepoint, resolveTracepoint } from './probes-kernel.js';
import { resolvePerfEvent, resolveWatchpoint } from './probes-perf.js';
import { resolveInterval, resolveProfile } from './probes-timer.js';
import { resolveUprobe, resolveUsdt } from './probes-user.js';
import { resolveTc, resolveXdp } from './probes-net.js';

export type AttachPoint =
  | { kind: 'begin' }
  | { kind: 'end' }
  | { kind: 'tracepoint'; category: string; name: string; format: TracepointFormat }
  | { kind: 'rawtracepoint'; name: string; args: BtfParam[] }
  /** `discover`: `uprobe:tls:FUNC`, attached by capc to every TLS stack it finds that has FUNC (path is 'tls'). */
  /** `retInsns`: on every RET instruction of `func` (the return half of a Go capture), found when attaching. */
  | {
      kind: 'uprobe';
      ret: boolean;
      target: string;
      path: string;
      func: string;
      offset: number;
      discover?: boolean;
      retInsns?: boolean;
    }
  | { kind: 'usdt'; target: string; path: string; provider: string; name: string; args: number }
  | { kind: 'interval'; periodNs: bigint; unit: string; value: bigint }
  /** On every CPU: `hz` samples a second, or one every `periodNs`. */
  | { kind: 'profile'; unit: string; value: bigint; hz?: number; periodNs?: bigint }
  | { kind: 'kprobe'; ret: boolean; func: string; offset: number }
  | { kind: 'fentry'; ret: boolean; func: string; params: BtfParam[]; retType: BtfParam }
  /** A perf event on every CPU, sampled every `period` events (perf_event_attr.config `config`). */
  | { kind: 'software' | 'hardware'; event: string; config: number; period: number }
  /** A hardware breakpoint on `length` bytes at `address` of the -p/-c process; `mode` is r, w, x in that order. */
  | { kind: 'watchpoint'; address: bigint; length: 1 | 2 | 4 | 8; mode: string }
  /** Packet probes (probes-net.ts): every packet the interface receives (xdp), or one direction at tc. */
  | { kind: 'xdp'; iface: string }
  | { kind: 'tc'; iface: string; direction: 'ingress' | 'egress' };

export type ProbeKind = AttachPoint['kind'] | 'uretprobe' | 'kretprobe' | 'fexit';

export function probeKind(a: AttachPoint): ProbeKind {
  if (a.kind === 'uprobe' && a.ret) return 'uretprobe';
  if (a.kind === 'kprobe' && a.ret) return 'kretprobe';
  if (a.kind === 'fentry' && a.ret) return 'fexit';
  return a.kind;
}

/** The canonical, fully expanded probe name (what the `probe` builtin returns). */
export function probeName(a: AttachPoint): string {
  switch (a.kind) {
    case 'begin':
      return 'BEGIN';
    case 'end':
      return 'END';
    case 'tracepoint':
      return `tracepoint:${a.category}:${a.name}`;
    case 'rawtracepoint':
      return `rawtracepoint:${a.name}`;
    case 'uprobe':
      return `${a.ret ? 'uretprobe' : 'uprobe'}:${a.path}:${a.func}${a.offset ? `+${a.offset}` : ''}`;
    case 'usdt':
      return `usdt:${a.path}:${a.provider}:${a.name}`;
    case 'interval':
      return `interval:${a.unit}:${a.value}`;
    case 'profile':
      return `profile:${a.unit}:${a.value}`;
    case 'kprobe':
      return `${a.ret ? 'kretprobe' : 'kprobe'}:${a.func}${a.offset ? `+${a.offset}` : ''}`;
    case 'fentry':
      return `${a.ret ? 'fexit' : 'fentry'}:${a.func}`;
    case 'software':
    case 'hardware':
      return `${a.kind}:${a.event}:${a.period}`;
    case 'watchpoint':
      return `watchpoint:0x${a.address.toString(16)}:${a.length}:${a.mode}`;
    case 'xdp':
      return `xdp:${a.iface}`;
    case 'tc':
      return `tc:${a.iface}:${a.direction}`;
  }
}

export const ALIASES: Record<string, string> = {
  BEGIN: 'BEGIN',
  begin: 'BEGIN',
  END: 'END',
  end: 'END',
  tracepoint: 'tracepoint',
  t: 'tracepoint',
  rawtracepoint: 'rawtracepoint',
  rt: 'rawtracepoint',
  uprobe: 'uprobe',
  u: 'uprobe',
  uretprobe: 'uretprobe',
  ur: 'uretprobe',
  usdt: 'usdt',
  U: 'usdt',
  interval: 'interval',
  i: 'interval',
  profile: 'profile',
  p: 'profile',
  kprobe: 'kprobe',
  k: 'kprobe',
  kretprobe: 'kretprobe',
  kr: 'kretprobe',
  fentry: 'fentry',
  f: 'fentry',
  kfunc: 'fentry',
  fexit: 'fexit',
  fr: 'fexit',
  kretfunc: 'fexit',
  software: 'software',
  s: 'software',
  hardware: 'hardware',
  h: 'hardware',
  watchpoint: 'watchpoint',
  w: 'watchpoint',
  xdp: 'xdp',
  tc: 'tc',
};
/** Providers bpftrace has that capc does not implement: a precise error, not "unknown". */
const NOT_YET: Record<string, string> = {
  asyncwatchpoint: 'asyncwatchpoint',
  aw: 'asyncwatchpoint',
  iter: 'iter',
  it: 'iter',
};
const SUPPORTED =
  'BEGIN, END, tracepoint:CAT:NAME, rawtracepoint:NAME, uprobe:BINARY:FUNC, uretprobe:BINARY:FUNC, usdt:BINARY:PROVIDER:NAME, interval:s:N, profile:hz:N, software:EVENT:N, hardware:EVENT:N, watchpoint:ADDR:LEN:MODE, kprobe:FUNC, kretprobe:FUNC, fentry:FUNC, fexit:FUNC, xdp:IFACE, tc:IFACE:ingress|egress';

export interface ResolveOptions {
  pid?: number;
  positional?: string[];
}

/** `$1`, `$2`... inside a probe spec are replaced by the positional parameters. */
function substitute(spec: ProbeSpecNode, bag: DiagnosticBag, params: string[]): ProbeSpecNode | undefined {
  let ok = true;
  const parts = spec.parts.map((p) => ({
    ...p,
    text: p.text.replace(/\$(\d+)/g, (_m, n: string) => {
      const v = params[Number(n) - 1];
      if (v === undefined) {
        ok = false;
        bag.add(
          'E0205',
          `positional parameter $${n} was not given`,
          p.span,
          'pass it after the script: capc run script.cap VALUE',
        );
        return '';
      }
      return v;
    }),
  }));
  return ok ? { ...spec, parts, text: parts.map((p) => p.text).join(':') } : undefined;
}

export function resolveProbeSpec(
  original: ProbeSpecNode,
  host: Host,
  bag: DiagnosticBag,
  opts: ResolveOptions,
): AttachPoint[] {
  const spec = substitute(original, bag, opts.positional ?? []);
  if (!spec) return [];
  const parts = spec.parts;
  const provider = ALIASES[parts[0]!.text];
  if (!provider) {
    const later = NOT_YET[parts[0]!.text];
    if (later) {
      bag.add('E0401', `'${later}' probes are not supported by capc yet`, parts[0]!.span, `supported: ${SUPPORTED}`);
    } else {
      const sugg = closest(parts[0]!.text, [
        ...Object.keys(ALIASES).filter((a) => a.length > 2),
        ...Object.keys(NOT_YET).filter((a) => a.length > 2),
      ]);
      bag.add(
        'E0401',
        `unknown probe type '${parts[0]!.text}'`,
        parts[0]!.span,
        sugg.length ? `did you mean ${sugg.map((s) => `'${s}'`).join(', ')}?` : undefined,
        `probe types: ${SUPPORTED}`,
      );
    }
    return [];
  }
  switch (provider) {
    case 'BEGIN':
    case 'END':
      if (parts.length > 1) {
        bag.add('E0402', `${provider} takes no arguments`, spec.span, `write just ${provider}`);
        return [];
      }
      return [{ kind: provider === 'BEGIN' ? 'begin' : 'end' }];
    case 'tracepoint':
      return resolveTracepoint(spec, host, bag);
    case 'rawtracepoint':
      return resolveRawTracepoint(spec, host, bag);
    case 'uprobe':
    case 'uretprobe':
      return resolveUprobe(spec, provider === 'uretprobe', host, bag, opts);
    case 'usdt':
      return resolveUsdt(spec, host, bag, opts);
    case 'interval':
      return resolveInterval(spec, bag);
    case 'profile':
      return resolveProfile(spec, bag);
    case 'kprobe':
    case 'kretprobe':
      return resolveKprobe(spec, provider === 'kretprobe', host, bag);
    case 'fentry':
    case 'fexit':
      return resolveFentry(spec, provider === 'fexit', host, bag);
    case 'software':
    case 'hardware':
      return resolvePerfEvent(spec, provider, bag);
    case 'watchpoint':
      return resolveWatchpoint(spec, bag);
    case 'xdp':
      return resolveXdp(spec, host, bag);
    case 'tc':
      return resolveTc(spec, host, bag);
  }
  return [];
}
