// compiler/2-analyze/probes-kernel.ts — kernel probes: tracepoints (tracefs
// formats, wildcards in category and name), raw tracepoints (arguments from
// BTF), kprobes/kretprobes (functions from /proc/kallsyms) and fentry/fexit
// (function prototypes from BTF). Whether the kernel lets them attach is
// decided at attach time: here they only have to exist.
import type { ProbeSpecNode, Span } from '../../grammar/ast.js';
import { closest, type DiagnosticBag } from '../diagnostics/diagnostic.js';
import type { Host } from '../host.js';
import { isGlob, matchNames } from './probe-match.js';
import type { AttachPoint } from './probes.js';

/** More attach points than this from one wildcard is almost surely a mistake (bpftrace: 512). */
export const MAX_EXPANSION = 512;

const did = (sugg: string[]) => (sugg.length ? `did you mean ${sugg.map((s) => `'${s}'`).join(', ')}?` : undefined);

function tooMany(spec: ProbeSpecNode, n: number, bag: DiagnosticBag): boolean {
  if (n <= MAX_EXPANSION) return false;
  bag.add('E0409', `'${spec.text}' matches ${n} probes; at most ${MAX_EXPANSION}`, spec.span, 'narrow the wildcard');
  return true;
}

/** A tracepoint category or name that is neither a glob nor a path. */
const PLAIN_NAME = /^\w+$/;

export function resolveTracepoint(spec: ProbeSpecNode, host: Host, bag: DiagnosticBag): AttachPoint[] {
  const parts = spec.parts;
  if (parts.length !== 3 || !parts[1]!.text || !parts[2]!.text) {
    bag.add(
      'E0402',
      `malformed tracepoint '${spec.text}'`,
      spec.span,
      'expected tracepoint:CATEGORY:NAME, e.g. tracepoint:syscalls:sys_enter_openat',
    );
    return [];
  }
  const [cat, name] = [parts[1]!, parts[2]!];
  // One named tracepoint: its format is the only question (listing tracefs costs milliseconds, and a
  // cached program is checked against every question it asked). Lists only for globs and diagnostics.
  if (PLAIN_NAME.test(cat.text) && PLAIN_NAME.test(name.text)) {
    const format = host.tracepoint(cat.text, name.text);
    if (format) return [{ kind: 'tracepoint', category: cat.text, name: name.text, format }];
  }
  const cats = host.tracepointCategories();
  const catMatches = matchNames(cat.text, cats);
  if (catMatches.length === 0) {
    bag.add(
      isGlob(cat.text) ? 'E0409' : 'E0403',
      `unknown tracepoint category '${cat.text}'`,
      cat.span,
      did(closest(cat.text, cats)),
      'list them with: capc list tracepoint:*',
    );
    return [];
  }
  const out: AttachPoint[] = [];
  for (const c of catMatches) {
    for (const n of matchNames(name.text, host.tracepointNames(c))) {
      const format = host.tracepoint(c, n);
      if (format) out.push({ kind: 'tracepoint', category: c, name: n, format });
    }
  }
  if (out.length === 0) {
    const all = catMatches.flatMap((c) => host.tracepointNames(c));
    bag.add(
      isGlob(name.text) ? 'E0409' : 'E0403',
      isGlob(name.text)
        ? `no tracepoint in '${cat.text}' matches '${name.text}'`
        : `unknown tracepoint '${cat.text}:${name.text}'`,
      name.span,
      did(closest(name.text.replace(/\*/g, ''), all)),
    );
  }
  return tooMany(spec, out.length, bag) ? [] : out;
}

/** rawtracepoint:NAME (rt:NAME); NAME is a tracepoint name without its category. */
export function resolveRawTracepoint(spec: ProbeSpecNode, host: Host, bag: DiagnosticBag): AttachPoint[] {
  const parts = spec.parts;
  // bpftrace 0.18+ also accepts rawtracepoint:CATEGORY:NAME; the category is ignored by the kernel.
  const name = parts[parts.length - 1];
  if (parts.length < 2 || parts.length > 3 || !name?.text) {
    bag.add(
      'E0402',
      `malformed raw tracepoint '${spec.text}'`,
      spec.span,
      'expected rawtracepoint:NAME, e.g. rawtracepoint:sched_switch',
    );
    return [];
  }
  const names = host.rawTracepointNames();
  const matches = matchNames(name.text, names);
  if (matches.length === 0) {
    bag.add(
      isGlob(name.text) ? 'E0409' : 'E0403',
      `unknown raw tracepoint '${name.text}'`,
      name.span,
      did(closest(name.text.replace(/\*/g, ''), names)),
      'raw tracepoints are named like tracepoints, without the category: rawtracepoint:sys_enter',
    );
    return [];
  }
  if (tooMany(spec, matches.length, bag)) return [];
  return matches.map((n) => ({ kind: 'rawtracepoint' as const, name: n, args: host.rawTracepointArgs(n) ?? [] }));
}

function funcAndOffset(text: string): { func: string; offset: number } {
  const m = /^(.*?)(?:\+(0x[0-9a-fA-F]+|\d+))?$/.exec(text)!;
  return { func: m[1]!, offset: m[2] ? Number(m[2]) : 0 };
}

/** kprobe:FUNC[+OFFSET], kretprobe:FUNC. */
export function resolveKprobe(spec: ProbeSpecNode, ret: boolean, host: Host, bag: DiagnosticBag): AttachPoint[] {
  const parts = spec.parts;
  const kind = ret ? 'kretprobe' : 'kprobe';
  // kprobe:MODULE:FUNC names the module too; the function name is what the kernel needs.
  const last = parts[parts.length - 1];
  if (parts.length < 2 || parts.length > 3 || !last?.text) {
    bag.add('E0402', `malformed ${kind} '${spec.text}'`, spec.span, `expected ${kind}:FUNCTION, e.g. ${kind}:vfs_read`);
    return [];
  }
  const { func, offset } = funcAndOffset(last.text);
  if (offset && ret) {
    bag.add('E0402', 'a kretprobe cannot have an offset', last.span, 'kretprobe fires when the function returns');
    return [];
  }
  const known = host.kernelFunctions();
  if (!known.length) {
    // /proc/kallsyms unreadable: let the kernel decide at attach time.
    if (isGlob(func)) {
      bag.add('E0409', `cannot expand '${func}': the kernel's symbols (/proc/kallsyms) are not readable`, last.span);
      return [];
    }
    return [{ kind: 'kprobe', ret, func, offset }];
  }
  const funcs = matchNames(func, known);
  if (funcs.length === 0) {
    bag.add(
      isGlob(func) ? 'E0409' : 'E0407',
      isGlob(func) ? `no kernel function matches '${func}'` : `kernel function '${func}' not found`,
      last.span,
      did(closest(func.replace(/\*/g, ''), known)),
      'kernel functions are listed in /proc/kallsyms',
    );
    return [];
  }
  if (tooMany(spec, funcs.length, bag)) return [];
  return [...new Set(funcs)].sort().map((f) => ({ kind: 'kprobe' as const, ret, func: f, offset }));
}

/** fentry:FUNC, fexit:FUNC (kfunc:/kretfunc: in bpftrace 0.17): typed arguments from BTF. */
export function resolveFentry(spec: ProbeSpecNode, ret: boolean, host: Host, bag: DiagnosticBag): AttachPoint[] {
  const parts = spec.parts;
  const kind = ret ? 'fexit' : 'fentry';
  const last = parts[parts.length - 1];
  if (parts.length < 2 || parts.length > 3 || !last?.text) {
    bag.add('E0402', `malformed ${kind} '${spec.text}'`, spec.span, `expected ${kind}:FUNCTION, e.g. ${kind}:vfs_read`);
    return [];
  }
  const known = host.kernelFunctions();
  const funcs = isGlob(last.text) ? matchNames(last.text, known) : [last.text];
  const out: AttachPoint[] = [];
  for (const func of funcs) {
    const proto = host.kernelFunctionProto(func);
    if (proto) out.push({ kind: 'fentry', ret, func, params: proto.params, retType: proto.ret });
  }
  if (out.length === 0) {
    const span: Span = last.span;
    bag.add(
      isGlob(last.text) ? 'E0409' : 'E0407',
      `kernel function '${last.text}' has no BTF type information`,
      span,
      did(closest(last.text.replace(/\*/g, ''), known)),
      'fentry/fexit need the function in the kernel BTF (/sys/kernel/btf/vmlinux)',
    );
    return [];
  }
  return tooMany(spec, out.length, bag) ? [] : out;
}
