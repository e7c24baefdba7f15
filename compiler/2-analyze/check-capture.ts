// compiler/2-analyze/check-capture.ts — payload capture in analysis: which
// probes capture through a signature (and so become entry/return pairs),
// checking accumulate()/capture() statements and their sinks (R1 sizes,
// scalar keys), and making the sites of one connection family agree; and the
// sibling functions a signature covers (SSL_write_ex beside SSL_write), added
// as probe instances by the collect pass so their bodies are checked like the
// user's. What capture then needs (families, the sink, the probes that see
// connections close, the -c/-p process tree and TLS discovery) is planned by
// compiler/3-lower/plan-capture.ts.
import { DECODE_PROTOCOLS } from '../manifest.js';
import type * as A from '../../grammar/ast.js';
import { forEachExprIn, forEachStmt } from '../../grammar/walk.js';
import { findSignature, CAPTURE_SIGNATURES, FAMILIES, type CaptureSignature } from '../../stdlib/signatures.js';
import { r1PowerOfTwo } from '../3-lower/rules.js';
import type { DiagnosticBag } from '../diagnostics/diagnostic.js';
import type { Host } from '../host.js';
import type { CaptureMode, CaptureSite, ProbeInstance, ProgramConfig } from './analyzed.js';
import { usesIdentityNames } from './check-identity.js';
import type { CheckContext } from './context.js';
import { isInt, isStr, typeName, type Type } from './types.js';

export const MIN_CAPTURE_SIZE = 16;
/** A record header plus N bytes must fit a per-CPU scratch value (32 KiB). */
export const MAX_CAPTURE_SIZE = 16384;
export const CAPTURE_NAMES = ['conn', 'buf', 'len'];

function usesCaptureNames(item: A.ProbeItem): boolean {
  let found = false;
  forEachExprIn(item, (e) => {
    if (e.kind === 'Ident' && CAPTURE_NAMES.includes(e.name)) found = true;
  });
  return found;
}

/** Decide whether an instance captures through a signature, before its body is checked. */
export function detectCaptureMode(inst: ProbeInstance, host: Host, config: ProgramConfig, bag: DiagnosticBag): void {
  let signatureSinks = false;
  forEachStmt(inst.item.body, (s) => {
    if (s.kind === 'Sink' && s.call.args.length <= 2) signatureSinks = true;
  });
  // Reading the connection's identity makes a probe of a known function a connection probe too.
  if (!signatureSinks && !usesCaptureNames(inst.item) && !usesIdentityNames(inst.item)) return;
  const a = inst.attach;
  const sig =
    a.kind === 'uprobe' && !a.ret
      ? findSignature({ kind: 'uprobe', func: a.func })
      : a.kind === 'tracepoint'
        ? findSignature({ kind: 'tracepoint', category: a.category, name: a.name })
        : undefined;
  if (!sig) return; // the statements report E0505 with the explicit form
  const mode = captureMode(sig, config);
  if (sig.match.kind === 'tracepoint' && mode.at === 'return') {
    const exit = host.tracepoint('syscalls', sig.exitTracepoint!);
    if (!exit) {
      bag.add(
        'E0403',
        `this kernel has no tracepoint syscalls:${sig.exitTracepoint}, which capturing ${sig.match.name} needs`,
        inst.spec.span,
      );
      return;
    }
    mode.exitFormat = exit;
  }
  inst.capture = mode;
}

function captureMode(sig: CaptureSignature, config: ProgramConfig): CaptureMode {
  // Go has no entry-time option: its return is seen at RET instructions, and the
  // entry half is what pairs it with the goroutine.
  const atEntry = sig.direction === 'egress' && config.captureWritesAtEntry && FAMILIES[sig.family].abi !== 'go';
  return { sig, at: atEntry ? 'entry' : 'return' };
}

/**
 * A capture on one function of a signature's group covers the others
 * (`uprobe:libssl:SSL_write` also captures SSL_write_ex, which Python and
 * Node 22 call instead): for each covered function the binary has and the
 * program does not probe itself, a copy of the instance is added, with the
 * same predicate and body. Runs before the bodies are checked.
 */
export function expandCoverage(instances: ProbeInstance[], host: Host, config: ProgramConfig): void {
  const probed = new Set(
    instances.map((i) => (i.attach.kind === 'uprobe' && !i.attach.ret ? `${i.attach.path}\0${i.attach.func}` : '')),
  );
  for (const inst of [...instances]) {
    const a = inst.attach;
    const sig = inst.capture?.sig;
    if (!sig?.covers || a.kind !== 'uprobe' || a.ret || a.offset) continue;
    const syms = a.discover ? undefined : host.functionSymbols(a.path);
    for (const func of sig.covers) {
      const key = `${a.path}\0${func}`;
      if (probed.has(key)) continue;
      if (syms && (!syms.ok || !syms.value.includes(func))) continue;
      const covered = findSignature({ kind: 'uprobe', func });
      if (!covered) continue;
      probed.add(key);
      instances.push({
        id: instances.length,
        item: inst.item,
        spec: inst.spec,
        attach: { ...a, func },
        types: new Map(),
        lookups: new Map(),
        calls: new Map(),
        fields: new Map(),
        vars: new Map(),
        members: new Map(),
        substitutes: new Map(),
        capture: captureMode(covered, config),
        coveredBy: inst.id,
      });
    }
  }
}

/** The type of `conn`, `buf`, `len` in a capturing probe; undefined elsewhere. */
export function captureNameType(name: string, inst: ProbeInstance): Type | undefined {
  if (!inst.capture || !CAPTURE_NAMES.includes(name)) return undefined;
  if (name === 'buf') return { k: 'int', bytes: 8, signed: false, space: 'user' };
  return { k: 'int', bytes: 8, signed: false };
}

export function captureNameHint(): string {
  const fns = CAPTURE_SIGNATURES.map((s) =>
    s.match.kind === 'uprobe' ? s.match.func : `${s.match.category}:${s.match.name}`,
  );
  return `conn, buf and len exist in probes capc knows the payload of: ${fns.join(', ')}`;
}

const pow2 = (n: number) => n > 0 && (n & (n - 1)) === 0;
const nextPow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/** Check one accumulate()/capture() statement and record it as a site. */
export function checkSink(
  s: A.SinkStmt,
  cx: CheckContext,
  checkExpr: (e: A.Expr, cx: CheckContext) => Type,
  sites: CaptureSite[],
): void {
  const call = s.call;
  const kind = call.name as 'accumulate' | 'capture';
  const args = call.args;
  if (args.length === 2 && !cx.inst.capture && (kind === 'accumulate' || kind === 'capture')) {
    const n = args[1]!.kind === 'Int' ? String((args[1] as A.IntLit).value) : 'N';
    cx.bag.add(
      'E0505',
      `capc does not know where the payload of ${cx.inst.spec.text} is`,
      call.span,
      `say it: ${kind}(KEY, ${n}, DATA, LEN) — e.g. ${kind}(arg0, ${n}, arg1, arg2) -> ringbuf`,
      `known: ${CAPTURE_SIGNATURES.map((x) => (x.match.kind === 'uprobe' ? x.match.func : `${x.match.category}:${x.match.name}`)).join(', ')}`,
    );
    return;
  }
  const types = args.map((a) => checkExpr(a, cx));
  if (kind !== 'accumulate' && kind !== 'capture') {
    cx.bag.add(
      'E0202',
      `${call.name}() cannot send to a sink`,
      call.nameSpan,
      'sinks take accumulate(...) or capture(...)',
    );
    return;
  }
  const usage = `${kind}(conn, N) in a probe capc knows (SSL_write, SSL_read, ...), or ${kind}(KEY, N, DATA, LEN[, DIR]) anywhere`;
  if (args.length !== 2 && args.length !== 4 && args.length !== 5) {
    cx.bag.add('E0301', `${kind}() takes 2, 4 or 5 arguments, got ${args.length}`, call.span, `usage: ${usage}`);
    return;
  }
  // KEY
  const keyT = types[0]!;
  if (keyT.k !== 'error' && !isInt(keyT)) {
    cx.bag.add(
      'E0504',
      `the connection key must be an integer (a pointer, an fd...), not ${typeName(keyT)}`,
      args[0]!.span,
      isStr(keyT) ? 'a string cannot identify a connection in the kernel cheaply; use the SSL* or fd' : undefined,
    );
    return;
  }
  // N
  const nExpr = args[1]!;
  if (nExpr.kind !== 'Int') {
    cx.bag.add('E0501', `${kind}() size must be an integer literal`, nExpr.span, 'e.g. 1024');
    return;
  }
  const n = Number(nExpr.value);
  const up = r1PowerOfTwo(n);
  if (up !== undefined) {
    cx.bag.add(
      'E0501',
      `${kind}() size ${n} is not a power of two (rule R1)`,
      nExpr.span,
      `use ${up}: offsets into the buffer are masked with N-1 (R3), which needs N = 2^k`,
    );
    return;
  }
  if (n < MIN_CAPTURE_SIZE || n > MAX_CAPTURE_SIZE) {
    cx.bag.add(
      'E0502',
      `${kind}() size ${n} is outside ${MIN_CAPTURE_SIZE}..${MAX_CAPTURE_SIZE}`,
      nExpr.span,
      `a record (${MAX_CAPTURE_SIZE} bytes at most) is built in per-CPU memory, which the kernel limits to 32 KiB; larger payloads are sent as several records, never truncated`,
    );
    return;
  }
  // sink
  if (s.sink.name !== 'ringbuf' && s.sink.name !== 'perfbuf' && s.sink.name !== 'pcapng') {
    cx.bag.add(
      'E0503',
      `unknown sink '${s.sink.name}'`,
      s.sink.span,
      'sinks: -> ringbuf, -> ringbuf(8M), -> perfbuf, -> pcapng("FILE")',
    );
    return;
  }
  if (s.sink.extra) {
    cx.bag.add('E0503', `-> ${s.sink.name} takes one argument, its size`, s.sink.extra.span);
    return;
  }
  if (s.sink.name === 'pcapng' && s.sink.file?.kind !== 'Str') {
    cx.bag.add(
      'E0503',
      '-> pcapng needs the file to write, as a string literal',
      s.sink.file?.span ?? s.sink.span,
      'e.g. -> pcapng("tls.pcapng"), or -> pcapng("tls.pcapng", 16M) for a 16 MiB ring',
    );
    return;
  }
  if (s.sink.then) {
    const t = s.sink.then;
    if (t.name !== 'decode') {
      cx.bag.add(
        'E0503',
        `unknown stage '${t.name}' after the sink`,
        t.span,
        'after a sink: -> decode(postgres, mysql)',
      );
      return;
    }
    for (const p of t.protocols)
      if (p.name !== 'auto' && !(DECODE_PROTOCOLS as readonly string[]).includes(p.name))
        cx.bag.add(
          'E0508',
          `capc does not decode '${p.name}'`,
          p.span,
          `decode(auto) or a list of: ${DECODE_PROTOCOLS.join(', ')}`,
        );
  }
  if (s.sink.size) {
    const sz = s.sink.size;
    checkExpr(sz, cx);
    if (sz.kind !== 'Int' || !pow2(Number(sz.value)) || Number(sz.value) < 4096 || Number(sz.value) > 2 ** 30) {
      const v = sz.kind === 'Int' ? Number(sz.value) : 0;
      cx.bag.add(
        'E0503',
        `sink size must be a power of two from 4K to 1G`,
        sz.span,
        v
          ? `use ${nextPow2(Math.max(4096, v)) >= 1 << 20 ? `${nextPow2(v) >> 20}M` : `${nextPow2(Math.max(4096, v)) >> 10}K`}`
          : undefined,
      );
      return;
    }
  }
  const inst = cx.inst;
  if (args.length === 2) {
    if (!inst.capture) {
      cx.bag.add(
        'E0505',
        `capc does not know where the payload of ${inst.spec.text} is`,
        call.span,
        `say it: ${kind}(KEY, ${n}, DATA, LEN) — e.g. ${kind}(arg0, ${n}, arg1, arg2) -> ringbuf`,
        `known: ${CAPTURE_SIGNATURES.map((x) => (x.match.kind === 'uprobe' ? x.match.func : `${x.match.category}:${x.match.name}`)).join(', ')}`,
      );
      return;
    }
    const sig = inst.capture.sig;
    sites.push({
      index: sites.length,
      instance: inst.id,
      stmt: s,
      kind,
      size: n,
      family: sig.family,
      generic: false,
      direction: sig.direction === 'egress' ? 0 : 1,
      user: true,
    });
    return;
  }
  for (const [i, what] of [
    [2, 'DATA (a pointer)'],
    [3, 'LEN'],
  ] as const) {
    const t = types[i]!;
    if (t.k !== 'error' && !isInt(t))
      cx.bag.add(
        'E0507',
        `${kind}() argument ${i + 1}, ${what}, must be an integer, not ${typeName(t)}`,
        args[i]!.span,
      );
  }
  let direction: 0 | 1 = 0;
  if (args[4]) {
    const d = args[4];
    if (d.kind !== 'Int' || (d.value !== 0n && d.value !== 1n)) {
      cx.bag.add(
        'E0507',
        `${kind}() direction must be 0 (egress: written, sent) or 1 (ingress: read, received)`,
        d.span,
      );
      return;
    }
    direction = Number(d.value) as 0 | 1;
  }
  const dataT = types[2]!;
  const k = inst.attach.kind;
  const user = dataT.k === 'int' && dataT.space ? dataT.space === 'user' : k === 'uprobe';
  sites.push({
    index: sites.length,
    instance: inst.id,
    stmt: s,
    kind,
    size: n,
    family: 'user',
    generic: true,
    direction,
    user,
  });
}

/** The sites of one family share an accumulator, and all sites one sink: report where they disagree (E0506). */
export function checkCaptureSites(sites: CaptureSite[], bag: DiagnosticBag): void {
  const first = new Map<string, CaptureSite>();
  for (const site of sites) {
    if (site.kind !== 'accumulate') continue;
    const f = first.get(site.family);
    if (!f) {
      first.set(site.family, site);
      continue;
    }
    if (f.size !== site.size)
      bag.add(
        'E0506',
        `accumulate() sizes differ for the same connections (${f.size} and ${site.size})`,
        site.stmt.call.args[1]!.span,
        'writes and reads of one connection share one accumulator, so they batch in order: use the same size',
        `first size at line ${familySpan(sites, site.family).line}`,
      );
  }
  const sinkText = (x: A.SinkSpec) => {
    const file = pcapngFile(x);
    return file !== undefined ? `pcapng(${JSON.stringify(file)})` : x.name;
  };
  const sinks = new Set(sites.map((s) => sinkText(s.stmt.sink)));
  if (sinks.size > 1)
    bag.add(
      'E0506',
      `all captures of a program go to one sink: ${[...sinks].map((x) => `-> ${x}`).join(' and ')} differ`,
      sites.find((s) => sinkText(s.stmt.sink) !== sinkText(sites[0]!.stmt.sink))!.stmt.sink.span,
      'use the same sink everywhere (-> pcapng("FILE") is the ring buffer plus the file)',
    );
}

/** Where a family first appears: its first site's statement. */
export function familySpan(sites: CaptureSite[], family: string): A.Span {
  return sites.find((s) => s.family === family)!.stmt.span;
}

/** The file of a `-> pcapng("FILE")` sink (undefined for any other sink). */
export function pcapngFile(x: A.SinkSpec): string | undefined {
  return x.name === 'pcapng' && x.file?.kind === 'Str' ? Buffer.from(x.file.value).toString('utf8') : undefined;
}
