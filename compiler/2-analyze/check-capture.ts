// compiler/2-analyze/check-capture.ts — payload capture in analysis: which
// probes capture through a signature (and so become entry/return pairs),
// checking accumulate()/capture() statements and their sinks (R1 sizes,
// scalar keys), making the sites of one connection family agree, and adding
// the probes that see connections close.
import type * as A from '../../grammar/ast.js';
import { forEachExprIn, forEachStmt } from '../../grammar/walk.js';
import { CLOSE_SIGNATURES, findSignature, CAPTURE_SIGNATURES } from '../../stdlib/signatures.js';
import type { DiagnosticBag } from '../diagnostics/diagnostic.js';
import type { Host } from '../host.js';
import type { CaptureInfo, CaptureMode, CaptureSite, ProbeInstance, ProgramConfig } from './analyzed.js';
import type { CheckContext } from './context.js';
import { isInt, isStr, typeName, type Type } from './types.js';

/**
 * The capture sink's size when the program does not say. A ring buffer: 16
 * MiB, from BENCHMARKS.md's ring-size table: at wire speed (16 KiB TLS
 * writes, ~400 MB/s here) the largest burst capc's reader met — the stream's
 * rate times the longest time the reader did not get a CPU, with the client
 * and server saturating both CPUs — was 4-13 MiB on this 2-vCPU machine
 * kind when shared with other work, more when it was overloaded (the W0903
 * hint then names the ring that would have held it). A perf buffer: 4 MiB
 * per CPU (its size is per CPU).
 */
export const DEFAULT_CAPTURE_RING = { ringbuf: 16 << 20, perfbuf: 4 << 20 } as const;

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
  if (!signatureSinks && !usesCaptureNames(inst.item)) return;
  const a = inst.attach;
  const sig =
    a.kind === 'uprobe' && !a.ret
      ? findSignature({ kind: 'uprobe', func: a.func })
      : a.kind === 'tracepoint'
        ? findSignature({ kind: 'tracepoint', category: a.category, name: a.name })
        : undefined;
  if (!sig) return; // the statements report E0505 with the explicit form
  const mode: CaptureMode = { sig, at: sig.direction === 'egress' && config.captureWritesAtEntry ? 'entry' : 'return' };
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
  if (!pow2(n)) {
    cx.bag.add(
      'E0501',
      `${kind}() size ${n} is not a power of two (rule R1)`,
      nExpr.span,
      `use ${nextPow2(n)}: offsets into the buffer are masked with N-1 (R3), which needs N = 2^k`,
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
  if (s.sink.name !== 'ringbuf' && s.sink.name !== 'perfbuf') {
    cx.bag.add('E0503', `unknown sink '${s.sink.name}'`, s.sink.span, 'sinks: -> ringbuf, -> ringbuf(8M), -> perfbuf');
    return;
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

/** Make the sites agree, pick the sink, and add the probes that see connections close. */
export function finishCapture(
  sites: CaptureSite[],
  instances: ProbeInstance[],
  config: ProgramConfig,
  host: Host,
  bag: DiagnosticBag,
): CaptureInfo | undefined {
  if (!sites.length) return undefined;
  const families: CaptureInfo['families'] = new Map();
  for (const site of sites) {
    const f = families.get(site.family) ?? { chunkSize: 0, span: site.stmt.span };
    if (site.kind === 'accumulate') {
      if (f.accumulateSize !== undefined && f.accumulateSize !== site.size) {
        bag.add(
          'E0506',
          `accumulate() sizes differ for the same connections (${f.accumulateSize} and ${site.size})`,
          site.stmt.call.args[1]!.span,
          'writes and reads of one connection share one accumulator, so they batch in order: use the same size',
          `first size at line ${f.span.line}`,
        );
      }
      f.accumulateSize ??= site.size;
    }
    f.chunkSize = Math.max(f.chunkSize, site.size);
    families.set(site.family, f);
  }
  const sinks = new Set(sites.map((s) => s.stmt.sink.name));
  if (sinks.size > 1)
    bag.add(
      'E0506',
      'all captures of a program go to one sink: use -> ringbuf everywhere or -> perfbuf everywhere',
      sites[1]!.stmt.sink.span,
    );
  const kind = sites[0]!.stmt.sink.name as 'ringbuf' | 'perfbuf';
  const sizes = sites
    .map((s) => s.stmt.sink.size)
    .filter((x): x is A.Expr => !!x && x.kind === 'Int')
    .map((x) => Number((x as A.IntLit).value));
  const size = sizes.length ? Math.max(...sizes) : config.captureRingSize || DEFAULT_CAPTURE_RING[kind];

  // Close probes: every library an openssl site probes, and close(2) for syscalls.
  const addClose = (
    family: string,
    attach: ProbeInstance['attach'],
    sig: (typeof CLOSE_SIGNATURES)[number],
    from: ProbeInstance,
  ) => {
    const spec: A.ProbeSpecNode = {
      ...from.spec,
      text: `${sig.match.kind === 'uprobe' ? `uprobe:${attach.kind === 'uprobe' ? attach.path : ''}:${sig.match.func}` : `tracepoint:syscalls:${sig.match.kind === 'tracepoint' ? sig.match.name : ''}`}`,
    };
    const item: A.ProbeItem = { kind: 'Probe', specs: [spec], body: [], oneLine: false, span: from.spec.span };
    instances.push({
      id: instances.length,
      item,
      spec,
      attach,
      types: new Map(),
      calls: new Map(),
      fields: new Map(),
      vars: new Map(),
      closeFor: { family, sig },
    });
  };
  const familiesUsed = new Set(sites.map((s) => s.family));
  if (familiesUsed.has('openssl')) {
    const libs = new Map<string, ProbeInstance>();
    for (const site of sites) {
      const inst = instances[site.instance]!;
      if (site.family === 'openssl' && inst.attach.kind === 'uprobe' && !libs.has(inst.attach.path))
        libs.set(inst.attach.path, inst);
    }
    for (const [path, from] of libs) {
      const syms = host.functionSymbols(path);
      for (const sig of CLOSE_SIGNATURES.filter((c) => c.family === 'openssl')) {
        if (sig.match.kind !== 'uprobe') continue;
        if (syms.ok && !syms.value.includes(sig.match.func)) continue; // e.g. a binary without SSL_shutdown: closes go unseen
        addClose(
          'openssl',
          { kind: 'uprobe', ret: false, target: path, path, func: sig.match.func, offset: 0 },
          sig,
          from,
        );
      }
    }
  }
  if (familiesUsed.has('syscalls')) {
    const from = instances[sites.find((s) => s.family === 'syscalls')!.instance]!;
    const sig = CLOSE_SIGNATURES.find((c) => c.family === 'syscalls')!;
    const format = host.tracepoint('syscalls', 'sys_enter_close');
    if (format)
      addClose('syscalls', { kind: 'tracepoint', category: 'syscalls', name: 'sys_enter_close', format }, sig, from);
  }
  return { sites, families, sink: { kind, size } };
}
