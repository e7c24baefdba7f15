// compiler/2-analyze/probes-user.ts — user-space probes: uprobe/uretprobe on
// a function of a binary or library (symbols from its ELF tables, wildcards,
// +OFFSET) and usdt on the static probes of its .note.stapsdt section.
import type { ProbeSpecNode, Span } from '../../grammar/ast.js';
import { closest, type DiagnosticBag } from '../diagnostics/diagnostic.js';
import type { Host, UsdtProbe } from '../host.js';
import { captureFunctions, TLS_FAMILIES } from '../../stdlib/signatures.js';
import { isGlob, matchNames } from './probe-match.js';
import type { AttachPoint, ResolveOptions } from './probes.js';

const did = (sugg: string[]) => (sugg.length ? `did you mean ${sugg.map((s) => `'${s}'`).join(', ')}?` : undefined);

/** The file behind a uprobe/usdt target, or undefined (reported). */
function resolveTarget(
  target: { text: string; span: Span },
  host: Host,
  bag: DiagnosticBag,
  opts: ResolveOptions,
): string | undefined {
  const resolved = host.resolveBinary(target.text, opts.pid);
  if (!resolved.ok) {
    bag.add(
      'E0406',
      resolved.error,
      target.span,
      resolved.candidates.length ? `candidates: ${resolved.candidates.slice(0, 5).join(', ')}` : undefined,
      'give an absolute path, a library name known to ldconfig (libssl, libc), or a program on PATH',
    );
    return undefined;
  }
  return resolved.value;
}

export function resolveUprobe(
  spec: ProbeSpecNode,
  ret: boolean,
  host: Host,
  bag: DiagnosticBag,
  opts: ResolveOptions,
): AttachPoint[] {
  const parts = spec.parts;
  const kind = ret ? 'uretprobe' : 'uprobe';
  if (
    parts.length < 3 ||
    !parts[1]!.text ||
    !parts
      .slice(2)
      .map((p) => p.text)
      .join(':')
  ) {
    bag.add(
      'E0402',
      `malformed ${kind} '${spec.text}'`,
      spec.span,
      `expected ${kind}:BINARY:FUNCTION, e.g. ${kind}:libssl:SSL_write or ${kind}:/usr/bin/bash:readline`,
    );
    return [];
  }
  const target = parts[1]!;
  // C++ names may contain `::`; everything after the target is the function.
  const funcText = parts
    .slice(2)
    .map((p) => p.text)
    .join(':');
  const funcSpan: Span = { ...parts[2]!.span, end: spec.span.end, endCol: spec.span.endCol };
  const m = /^(.*?)(?:\+(0x[0-9a-fA-F]+|\d+))?$/.exec(funcText)!;
  const func = m[1]!;
  const offset = m[2] ? Number(m[2]) : 0;
  if (offset && ret) {
    bag.add(
      'E0402',
      'a uretprobe cannot have an offset',
      funcSpan,
      'return probes fire when the function returns; use uprobe:BINARY:FUNC+OFFSET for an offset',
    );
    return [];
  }
  if (target.text === 'tls') return resolveTls(spec, ret, func, offset, funcSpan, bag);
  const path = resolveTarget(target, host, bag, opts);
  if (!path) return [];
  const syms = host.functionSymbols(path);
  if (!syms.ok) {
    bag.add('E0406', syms.error, target.span);
    return [];
  }
  const names = syms.value;
  const funcs = matchNames(func, names);
  if (funcs.length === 0 && !isGlob(func)) {
    const moved = definedByNeeded(func, path, host);
    if (moved) {
      bag.add(
        'W0103',
        `function '${func}' is not in ${path}: probing it in ${moved}, which ${path} needs`,
        funcSpan,
        `the dynamic linker finds ${func} there for programs that link ${target.text}; write uprobe:${moved}:${func} to say so`,
      );
      return [{ kind: 'uprobe' as const, ret, target: target.text, path: moved, func, offset }];
    }
  }
  if (funcs.length === 0) {
    bag.add(
      isGlob(func) ? 'E0409' : 'E0407',
      isGlob(func) ? `no function in ${path} matches '${func}'` : `function '${func}' not found in ${path}`,
      funcSpan,
      did(closest(func.replace(/\*/g, ''), names)),
      `capc looked in the dynamic and static symbol tables of ${path}`,
    );
    return [];
  }
  const ifuncs = new Set(host.ifuncSymbols(path));
  const resolvers = [...new Set(funcs)].filter((f) => ifuncs.has(f)).sort();
  const kept = [...new Set(funcs)].filter((f) => !ifuncs.has(f)).sort();
  if (resolvers.length) {
    // An IFUNC's symbol is its resolver (run once per process). The host lists only those whose implementation
    // it cannot find on this machine: the others are probed where their resolver sends calls.
    if (!isGlob(func) || !kept.length) {
      bag.add('E0414', ifuncMessage(resolvers, path), funcSpan, ...ifuncHints(resolvers, names));
      return [];
    }
    bag.add(
      'W0104',
      `${ifuncMessage(resolvers, path)}: skipped, the pattern's ${kept.length} other function${kept.length === 1 ? '' : 's'} remain${kept.length === 1 ? 's' : ''}`,
      funcSpan,
      ...ifuncHints(resolvers, names),
    );
  }
  return kept.map((f) => ({ kind: 'uprobe' as const, ret, target: target.text, path, func: f, offset }));
}

/** E0414/W0104: IFUNC symbols (`strlen` in glibc) name a resolver, not the function a call runs. */
export function ifuncMessage(resolvers: string[], path: string): string {
  const list = resolvers.length > 6 ? `${resolvers.slice(0, 6).join(', ')}, ...` : resolvers.join(', ');
  return resolvers.length === 1
    ? `${list} in ${path} is an IFUNC: its symbol is the resolver that picks an implementation when a process starts, not the function its callers run, and capc cannot find which one it picks here`
    : `${resolvers.length} IFUNCs in ${path} (${list}): their symbols are resolvers that pick an implementation when a process starts, not the functions their callers run, and capc cannot find which ones they pick here`;
}

/** The instruction-set suffixes of glibc's IFUNC implementations (`__strlen_avx2`, `__memcpy_evex_unaligned_erms`). */
const IMPLEMENTATION =
  /^(sse\w*|ssse3\w*|avx\w*|evex\w*|erms|generic|unaligned\w*|bmi2|fma\w*|rtm|power\w*|z\d+|vx\w*)$/;

/** The implementations an IFUNC picks from, by glibc's naming, when the file names them (not `__strncat_chk`). */
export function ifuncImplementations(func: string, names: string[]): string[] {
  const prefix = `__${func.replace(/^_+/, '')}_`;
  return names.filter((x) => x.startsWith(prefix) && IMPLEMENTATION.test(x.slice(prefix.length))).sort();
}

export function ifuncHints(resolvers: string[], names: string[]): string[] {
  const hints: string[] = [];
  for (const f of resolvers.slice(0, 3)) {
    const impl = ifuncImplementations(f, names);
    if (impl.length) hints.push(`probe the implementation this CPU runs instead: one of ${impl.join(', ')}`);
  }
  if (!hints.length)
    hints.push(
      `this file has no symbols for the implementations (glibc's are local, e.g. __${resolvers[0]!.replace(/^_+/, '')}_avx2, and stripped; a build with them, such as a debug build, names them): probe a function that calls it, or a function that is not an IFUNC`,
    );
  hints.push(
    "capc asks its own process which implementation a resolver picks, so it finds it for the libraries it has loaded itself (glibc's libc); bpftrace 0.17 attaches to the resolver, which fires about once per process",
  );
  return hints;
}

/**
 * The library `path` needs (DT_NEEDED, one level) that defines `func`: where
 * the dynamic linker finds it for a program linking `path`. glibc 2.34 moved
 * libpthread's functions into libc and left libpthread.so.0 a stub, so
 * bpftrace's threadsnoop.bt (uprobe:libpthread:pthread_create) probes libc.
 */
function definedByNeeded(func: string, path: string, host: Host): string | undefined {
  for (const lib of host.neededLibraries(path)) {
    const syms = host.functionSymbols(lib);
    if (syms.ok && syms.value.includes(func)) return lib;
  }
  return undefined;
}

/**
 * `uprobe:tls:FUNC`: FUNC (a glob) among the capture functions of every TLS
 * stack capc knows. Which binaries have them is found when the program runs
 * (discovery), so nothing is resolved here.
 */
function resolveTls(
  spec: ProbeSpecNode,
  ret: boolean,
  func: string,
  offset: number,
  funcSpan: Span,
  bag: DiagnosticBag,
): AttachPoint[] {
  const names = TLS_FAMILIES.flatMap((f) => captureFunctions(f));
  if (ret || offset) {
    bag.add(
      'E0402',
      `${ret ? 'uretprobe:tls' : 'an offset in uprobe:tls'} is not supported`,
      spec.span,
      'uprobe:tls:FUNC already runs when the call returns, with the bytes it moved (conn, buf, len)',
    );
    return [];
  }
  const funcs = matchNames(func, names);
  if (!funcs.length) {
    bag.add(
      isGlob(func) ? 'E0409' : 'E0407',
      `no TLS function capc knows matches '${func}'`,
      funcSpan,
      did(closest(func.replace(/\*/g, ''), names)),
      `uprobe:tls: knows ${names.join(', ')}`,
    );
    return [];
  }
  return funcs.map((f) => ({
    kind: 'uprobe' as const,
    ret: false,
    target: 'tls',
    path: 'tls',
    func: f,
    offset: 0,
    discover: true,
  }));
}

/** usdt:TARGET:PROVIDER:NAME, or usdt:TARGET:NAME when one provider has that name. */
export function resolveUsdt(spec: ProbeSpecNode, host: Host, bag: DiagnosticBag, opts: ResolveOptions): AttachPoint[] {
  const parts = spec.parts;
  if (parts.length < 3 || parts.length > 4 || parts.some((p) => !p.text)) {
    bag.add(
      'E0402',
      `malformed usdt probe '${spec.text}'`,
      spec.span,
      'expected usdt:BINARY:PROVIDER:NAME, e.g. usdt:/usr/bin/python3:python:gc__start',
    );
    return [];
  }
  const target = parts[1]!;
  const provider = parts.length === 4 ? parts[2]! : undefined;
  const name = parts[parts.length - 1]!;
  const path = resolveTarget(target, host, bag, opts);
  if (!path) return [];
  const probes = host.usdtProbes(path);
  if (!probes.ok) {
    bag.add('E0406', probes.error, target.span);
    return [];
  }
  if (probes.value.length === 0) {
    bag.add(
      'E0407',
      `${path} has no USDT probes (no .note.stapsdt section)`,
      target.span,
      "list a binary's probes with: capc list usdt:BINARY:*",
    );
    return [];
  }
  const provMatch = provider
    ? new Set(matchNames(provider.text, [...new Set(probes.value.map((p) => p.provider))]))
    : undefined;
  const seen = new Set<string>();
  const matches: UsdtProbe[] = [];
  for (const p of probes.value) {
    if (provMatch && !provMatch.has(p.provider)) continue;
    if (!matchNames(name.text, [p.name]).length) continue;
    const key = `${p.provider}:${p.name}`;
    if (!seen.has(key)) {
      seen.add(key);
      matches.push(p);
    }
  }
  if (matches.length === 0) {
    const all = probes.value.map((p) => `${p.provider}:${p.name}`);
    const want = provider ? `${provider.text}:${name.text}` : name.text;
    bag.add(
      isGlob(want) ? 'E0409' : 'E0407',
      `no USDT probe '${want}' in ${path}`,
      provider ? { ...provider.span, end: name.span.end, endCol: name.span.endCol } : name.span,
      did(closest(want.replace(/\*/g, ''), provider ? all : probes.value.map((p) => p.name))),
      `its probes: ${[...new Set(all)].slice(0, 8).join(', ')}${all.length > 8 ? ', ...' : ''}`,
    );
    return [];
  }
  if (!provider && !isGlob(name.text) && new Set(matches.map((m) => m.provider)).size > 1) {
    bag.add(
      'E0402',
      `USDT probe '${name.text}' exists in several providers of ${path}`,
      name.span,
      `name the provider: ${matches.map((m) => `usdt:${target.text}:${m.provider}:${m.name}`).join(', ')}`,
    );
    return [];
  }
  return matches
    .sort((a, b) => (a.provider + ':' + a.name < b.provider + ':' + b.name ? -1 : 1))
    .map((p) => ({
      kind: 'usdt' as const,
      target: target.text,
      path,
      provider: p.provider,
      name: p.name,
      args: p.args,
    }));
}
