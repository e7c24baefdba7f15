// compiler/2-analyze/probes.ts — resolves probe specs into attach points:
// provider aliases (t:, u:, ur:, i:), tracepoint existence and wildcard
// expansion, uprobe targets and symbols, interval periods. Unknown names get
// "did you mean" suggestions from the host.
import type { ProbeSpecNode, Span } from '../../grammar/ast.js';
import { closest, type DiagnosticBag } from '../diagnostics/diagnostic.js';
import type { Host, TracepointFormat } from '../host.js';

export type AttachPoint =
  | { kind: 'begin' }
  | { kind: 'end' }
  | { kind: 'tracepoint'; category: string; name: string; format: TracepointFormat }
  | { kind: 'uprobe'; ret: boolean; target: string; path: string; func: string; offset: number }
  | { kind: 'interval'; periodNs: bigint; unit: string; value: bigint };

export type ProbeKind = AttachPoint['kind'] | 'uretprobe';

export function probeKind(a: AttachPoint): ProbeKind {
  return a.kind === 'uprobe' && a.ret ? 'uretprobe' : a.kind;
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
    case 'uprobe':
      return `${a.ret ? 'uretprobe' : 'uprobe'}:${a.path}:${a.func}${a.offset ? `+${a.offset}` : ''}`;
    case 'interval':
      return `interval:${a.unit}:${a.value}`;
  }
}

const ALIASES: Record<string, string> = {
  BEGIN: 'BEGIN', begin: 'BEGIN', END: 'END', end: 'END',
  tracepoint: 'tracepoint', t: 'tracepoint',
  uprobe: 'uprobe', u: 'uprobe', uretprobe: 'uretprobe', ur: 'uretprobe',
  interval: 'interval', i: 'interval',
};
/** Providers bpftrace has that capc does not implement yet: a precise error, not "unknown". */
const NOT_YET: Record<string, string> = {
  rawtracepoint: 'rawtracepoint', rt: 'rawtracepoint', usdt: 'usdt', U: 'usdt', profile: 'profile', p: 'profile',
  kprobe: 'kprobe', k: 'kprobe', kretprobe: 'kretprobe', kr: 'kretprobe', fentry: 'fentry', f: 'fentry',
  kfunc: 'fentry', fexit: 'fexit', fr: 'fexit', kretfunc: 'fexit', software: 'software', s: 'software',
  hardware: 'hardware', h: 'hardware', watchpoint: 'watchpoint', w: 'watchpoint',
};

export interface ResolveOptions { pid?: number; positional?: string[] }

/** `$1`, `$2`... inside a probe spec are replaced by the positional parameters. */
function substitute(spec: ProbeSpecNode, bag: DiagnosticBag, params: string[]): ProbeSpecNode | undefined {
  let ok = true;
  const parts = spec.parts.map((p) => ({
    ...p,
    text: p.text.replace(/\$(\d+)/g, (_m, n: string) => {
      const v = params[Number(n) - 1];
      if (v === undefined) {
        ok = false;
        bag.add('E0205', `positional parameter $${n} was not given`, p.span, 'pass it after the script: capc run script.cap VALUE');
        return '';
      }
      return v;
    }),
  }));
  return ok ? { ...spec, parts, text: parts.map((p) => p.text).join(':') } : undefined;
}

export function resolveProbeSpec(original: ProbeSpecNode, host: Host, bag: DiagnosticBag, opts: ResolveOptions): AttachPoint[] {
  const spec = substitute(original, bag, opts.positional ?? []);
  if (!spec) return [];
  const parts = spec.parts;
  const provider = ALIASES[parts[0]!.text];
  if (!provider) {
    const later = NOT_YET[parts[0]!.text];
    if (later) {
      bag.add('E0401', `'${later}' probes are not supported by capc yet`, parts[0]!.span, 'supported now: BEGIN, END, tracepoint:, uprobe:, uretprobe:, interval:');
    } else {
      const sugg = closest(parts[0]!.text, [...Object.keys(ALIASES).filter((a) => a.length > 2), ...Object.keys(NOT_YET).filter((a) => a.length > 2)]);
      bag.add('E0401', `unknown probe type '${parts[0]!.text}'`, parts[0]!.span,
        sugg.length ? `did you mean ${sugg.map((s) => `'${s}'`).join(', ')}?` : undefined,
        'probe types: BEGIN, END, tracepoint:CAT:NAME, uprobe:BINARY:FUNC, uretprobe:BINARY:FUNC, interval:s:N');
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
    case 'uprobe':
    case 'uretprobe':
      return resolveUprobe(spec, provider === 'uretprobe', host, bag, opts);
    case 'interval':
      return resolveInterval(spec, bag);
  }
  return [];
}

function globToRegExp(glob: string): RegExp {
  return new RegExp('^' + glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
}
const isGlob = (s: string) => /[*?]/.test(s);

function resolveTracepoint(spec: ProbeSpecNode, host: Host, bag: DiagnosticBag): AttachPoint[] {
  const parts = spec.parts;
  if (parts.length !== 3 || !parts[1]!.text || !parts[2]!.text) {
    bag.add('E0402', `malformed tracepoint '${spec.text}'`, spec.span, 'expected tracepoint:CATEGORY:NAME, e.g. tracepoint:syscalls:sys_enter_openat');
    return [];
  }
  const [cat, name] = [parts[1]!, parts[2]!];
  const cats = host.tracepointCategories();
  const catMatches = isGlob(cat.text) ? cats.filter((c) => globToRegExp(cat.text).test(c)) : cats.includes(cat.text) ? [cat.text] : [];
  if (catMatches.length === 0) {
    const sugg = closest(cat.text, cats);
    bag.add(isGlob(cat.text) ? 'E0409' : 'E0403', `unknown tracepoint category '${cat.text}'`, cat.span,
      sugg.length ? `did you mean ${sugg.map((s) => `'${s}'`).join(', ')}?` : undefined, 'list them with: capc list tracepoint:*');
    return [];
  }
  const out: AttachPoint[] = [];
  for (const c of catMatches) {
    const names = host.tracepointNames(c);
    const matches = isGlob(name.text) ? names.filter((n) => globToRegExp(name.text).test(n)) : names.includes(name.text) ? [name.text] : [];
    for (const n of matches) {
      const format = host.tracepoint(c, n);
      if (format) out.push({ kind: 'tracepoint', category: c, name: n, format });
    }
  }
  if (out.length === 0) {
    const all = catMatches.flatMap((c) => host.tracepointNames(c));
    const sugg = closest(name.text.replace(/\*/g, ''), all);
    bag.add(isGlob(name.text) ? 'E0409' : 'E0403',
      isGlob(name.text) ? `no tracepoint in '${cat.text}' matches '${name.text}'` : `unknown tracepoint '${cat.text}:${name.text}'`,
      name.span, sugg.length ? `did you mean ${sugg.map((s) => `'${s}'`).join(', ')}?` : undefined);
  }
  return out;
}

function resolveUprobe(spec: ProbeSpecNode, ret: boolean, host: Host, bag: DiagnosticBag, opts: ResolveOptions): AttachPoint[] {
  const parts = spec.parts;
  const kind = ret ? 'uretprobe' : 'uprobe';
  if (parts.length < 3 || !parts[1]!.text || !parts.slice(2).map((p) => p.text).join(':')) {
    bag.add('E0402', `malformed ${kind} '${spec.text}'`, spec.span, `expected ${kind}:BINARY:FUNCTION, e.g. ${kind}:libssl:SSL_write or ${kind}:/usr/bin/bash:readline`);
    return [];
  }
  const target = parts[1]!;
  // C++ names may contain `::`; everything after the target is the function.
  const funcText = parts.slice(2).map((p) => p.text).join(':');
  const funcSpan: Span = { ...parts[2]!.span, end: spec.span.end, endCol: spec.span.endCol };
  const m = /^(.*?)(?:\+(0x[0-9a-fA-F]+|\d+))?$/.exec(funcText)!;
  const func = m[1]!;
  const offset = m[2] ? Number(m[2]) : 0;
  if (offset && ret) {
    bag.add('E0402', 'a uretprobe cannot have an offset', funcSpan, 'return probes fire when the function returns; use uprobe:BINARY:FUNC+OFFSET for an offset');
    return [];
  }
  const resolved = host.resolveBinary(target.text, opts.pid);
  if (!resolved.ok) {
    bag.add('E0406', resolved.error, target.span,
      resolved.candidates.length ? `candidates: ${resolved.candidates.slice(0, 5).join(', ')}` : undefined,
      'give an absolute path, a library name known to ldconfig (libssl, libc), or a program on PATH');
    return [];
  }
  const path = resolved.value;
  const syms = host.functionSymbols(path);
  if (!syms.ok) {
    bag.add('E0406', syms.error, target.span);
    return [];
  }
  const names = syms.value;
  const funcs = isGlob(func) ? names.filter((n) => globToRegExp(func).test(n)) : names.includes(func) ? [func] : [];
  if (funcs.length === 0) {
    const sugg = closest(func.replace(/\*/g, ''), names);
    bag.add(isGlob(func) ? 'E0409' : 'E0407',
      isGlob(func) ? `no function in ${path} matches '${func}'` : `function '${func}' not found in ${path}`,
      funcSpan, sugg.length ? `did you mean ${sugg.map((s) => `'${s}'`).join(', ')}?` : undefined,
      `capc looked in the dynamic and static symbol tables of ${path}`);
    return [];
  }
  return [...new Set(funcs)].sort().map((f) => ({ kind: 'uprobe' as const, ret, target: target.text, path, func: f, offset }));
}

const UNIT_NS: Record<string, bigint> = { s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, hz: 0n };

function resolveInterval(spec: ProbeSpecNode, bag: DiagnosticBag): AttachPoint[] {
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
  const bad = () => bag.add('E0408', `invalid interval '${spec.text}'`, spec.span, 'expected interval:s:N, interval:ms:N, interval:us:N or interval:hz:N (N > 0)');
  if (!unit || !valueText || !(unit in UNIT_NS) || !/^\d+$/.test(valueText)) {
    bad();
    return [];
  }
  const value = BigInt(valueText);
  if (value <= 0n) {
    bad();
    return [];
  }
  const periodNs = unit === 'hz' ? 1_000_000_000n / value : value * UNIT_NS[unit]!;
  if (periodNs < 10_000n) {
    bag.add('E0408', `interval ${spec.text} is shorter than 10us`, spec.span, 'the kernel cannot time intervals that short reliably; use 10us or more');
    return [];
  }
  return [{ kind: 'interval', periodNs, unit, value }];
}
