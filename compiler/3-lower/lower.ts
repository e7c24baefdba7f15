// compiler/3-lower/lower.ts — phase 3: AnalyzedProgram → C program + manifest.
// One BPF program per probe instance; the resources they share (rings,
// counters, maps, scratch) are allocated once. Every decision the runtime
// must mirror (record layouts, map keys, counters, attach points) is written
// into the manifest here, next to the C that embodies it.
import type { AnalyzedProgram, ProbeInstance } from '../2-analyze/analyzed.js';
import { probeName, type AttachPoint } from '../2-analyze/probes.js';
import { fieldShape } from '../2-analyze/tracepoint-fields.js';
import { isComposite, isResolved, isStr, sizeOf, typeName } from '../2-analyze/types.js';
import type { TracepointFormat } from '../host.js';
import { MANIFEST_VERSION, type Manifest, type ManifestAttach, type ManifestProbe } from '../manifest.js';
import {
  addr,
  bin,
  call,
  id,
  num,
  un,
  type CExpr,
  type CField,
  type CFunction,
  type CProgram,
  type CStruct,
} from './c-ir.js';
import { FnBuilder, type Lowerers } from './fn-builder.js';
import { cIntType, layoutStruct, toCStruct } from './layout.js';
import { lowerInt, lowerStrInto, lowerStrRef, strVarSlot, varName } from './lower-expr.js';
import { buildMapKey } from './lower-map.js';
import { STRINGS } from './lower-strings.js';
import { lowerStmts } from './lower-stmt.js';
import { CaptureLowering } from './lower-capture.js';
import { ScopeLowering } from './lower-capture-scope.js';
import { DEFAULT_CAPTURE_RING } from './plan-capture.js';
import { FAMILIES } from '../../stdlib/signatures.js';
import { IdentityLowering } from './lower-identity.js';
import { readsAddress, splitIdentityConjuncts } from '../2-analyze/check-identity.js';
import { Resources, STATS_MAP } from './resources.js';
import { r10WakeupBytes, type LowerOptions } from './rules.js';
import { isPacketAttach, lowerPacketPrologue, packetSection, packetStructs, withVerdict } from './lower-packet.js';
import type { SyscallEvent, SyscallFormOptions } from '../2-analyze/syscall-form.js';
import {
  bodyParams,
  dispatcherName,
  dispatchers,
  planSyscallForm,
  PROG_CTX,
  type DispatchedBody,
} from './lower-syscalls.js';

export interface Lowered {
  c: CProgram;
  manifest: Manifest;
}

export function lower(program: AnalyzedProgram, options: LowerOptions & SyscallFormOptions = {}): Lowered {
  const res = new Resources(program);
  res.helperChecks = options.helperChecks ?? 0;
  // Capture lowering is needed for sites, and for probes that only use conn/buf/len (entry/return pairs).
  const capturing =
    program.capture ??
    (program.instances.some((i) => i.capture)
      ? {
          sites: [],
          families: new Map(),
          sink: { kind: 'ringbuf' as const, size: program.config.captureRingSize || DEFAULT_CAPTURE_RING.ringbuf },
          scope: false,
        }
      : undefined);
  const capture = capturing ? new CaptureLowering(capturing, res, program, options) : undefined;
  const wakeupBytes = r10WakeupBytes(program.config.ringbufSize, program.config.wakeupBytes);
  const hasSites = !!capture?.hasSites;
  const identity = program.identity ? new IdentityLowering(program.identity, res, program, capture) : undefined;
  capture?.useIdentity(identity);
  // The -c/-p process tree and TLS discovery (plan-capture-scope.ts): their maps and programs.
  const scope = hasSites && program.capture!.scope ? new ScopeLowering(program.capture!, res) : undefined;
  const lowerers: Lowerers = {
    mapKey: buildMapKey,
    int: lowerInt,
    strInto: lowerStrInto,
    strRef: lowerStrRef,
    captureSink: capture ? (b, s, site) => capture.sink(b, s, site) : undefined,
    identity,
    strings: STRINGS,
  };
  const functions: CFunction[] = [];
  const probes: ManifestProbe[] = [];
  const tpStructs = new Map<string, CStruct>();
  const needStruct = (f: TracepointFormat) => {
    const key = `${f.category}:${f.name}`;
    if (!tpStructs.has(key)) tpStructs.set(key, tracepointStruct(f));
  };
  // Syscall tracepoints run from the raw tracepoints sys_enter/sys_exit (lower-syscalls.ts).
  const raw = planSyscallForm(program, options);
  const dispatched: DispatchedBody[] = [];
  for (const inst of program.instances) {
    if (inst.attach.kind === 'tracepoint') needStruct(inst.attach.format);
    if (inst.capture?.exitFormat) needStruct(inst.capture.exitFormat);
    const event = raw.get(inst);
    if (event && inst.attach.kind === 'tracepoint') {
      const { fn, probe, body } = lowerDispatched(inst, event, res, capture, lowerers, options);
      functions.push(fn);
      probes.push(probe);
      dispatched.push(body);
      continue;
    }
    for (const { fn, probe } of lowerInstance(inst, res, capture, scope, identity, lowerers, options)) {
      functions.push(fn);
      probes.push(probe);
    }
  }
  functions.push(...dispatchers(dispatched));
  if (hasSites) functions.push(...capture!.flusher());
  const scratchUnion = res.scratchUnion();
  const structs: CStruct[] = [
    ...packetStructs(program.instances),
    ...tpStructs.values(),
    ...res.structs,
    ...(capture?.structs() ?? []),
    ...res.scratch.map((s) => s.struct),
  ];
  if (hasSites) structs.push(capture!.flushArgsStruct());
  if (scratchUnion) structs.push(scratchUnion);

  const c: CProgram = {
    sourceName: program.source.name,
    includes: ['capc.bpf.h'],
    defines: [
      {
        name: 'CAPC_WAKEUP_BYTES',
        value: `${wakeupBytes}ULL`,
        comment: 'R10: unread bytes that make a producer wake the reader',
      },
      ...(hasSites ? capture!.defines() : []),
    ],
    // libbpf's USDT support: argument specs in maps it fills at attach time.
    lateIncludes: [
      ...(hasSites ? ['capc-capture.bpf.h'] : identity ? ['capc-ident.bpf.h'] : []),
      ...(scope ? ['capc-scope.bpf.h'] : []),
      ...(program.instances.some((i) => i.attach.kind === 'usdt') ? ['bpf/usdt.bpf.h'] : []),
      ...(program.instances.some((i) => isPacketAttach(i.attach)) ? ['capc-packet.bpf.h'] : []),
    ],
    structs,
    maps: [
      ...res.runtimeMaps(),
      ...(capture?.maps() ?? []),
      ...(scope?.maps() ?? []),
      ...(identity?.maps() ?? []),
      ...res.maps,
    ],
    globals: [
      {
        type: 'const volatile struct capc_ro',
        name: 'capc_ro',
        section: '.rodata.capc',
        init: '{}',
        comment: 'load-time constants, filled in by capc before loading',
      },
      { type: 'volatile __u32', name: 'capc_exiting', init: '0', comment: 'set by exit(): from then on only END runs' },
      ...(hasSites ? capture!.globals() : []),
      ...(identity?.globals() ?? []),
      ...[...res.kernelSymbols].sort().map((name) => ({
        type: 'extern const void',
        name,
        attribute: '__ksym',
        comment: 'kaddr(): resolved by libbpf from /proc/kallsyms when the program loads',
      })),
    ],
    functions,
  };
  const manifest: Manifest = {
    version: MANIFEST_VERSION,
    source: { name: program.source.name },
    probes,
    maps: res.manifestMaps(),
    rings: res.rings,
    events: res.events,
    counters: res.counters,
    rodata: {
      section: '.rodata.capc',
      size: 24,
      fields: [
        { name: 'cpid', offset: 0, size: 8 },
        { name: 'start_ns', offset: 8, size: 8 },
        { name: 'scope', offset: 16, size: 8 },
      ],
    },
    statsMap: STATS_MAP,
    config: {
      strlen: program.config.strlen,
      maxMapKeys: program.config.maxMapKeys,
      ringbufSize: program.config.ringbufSize,
      wakeupBytes,
      loopLimit: program.config.loopLimit,
    },
    uses: { ...program.uses },
    capture: hasSites ? { ...capture!.manifest(), ...scope?.manifest() } : undefined,
    identity: identity?.manifest(),
  };
  return { c, manifest };
}

function programName(inst: ProbeInstance): string {
  return `capc_p${inst.id}`;
}

function manifestAttach(a: AttachPoint): ManifestAttach {
  switch (a.kind) {
    case 'begin':
    case 'end':
      return { kind: a.kind };
    case 'tracepoint':
      return { kind: 'tracepoint', category: a.category, name: a.name };
    case 'rawtracepoint':
      return { kind: 'rawtracepoint', name: a.name };
    case 'uprobe':
      return {
        kind: 'uprobe',
        ret: a.ret,
        path: a.path,
        func: a.func,
        offset: a.offset,
        target: a.target,
        ...(a.discover ? { discover: true } : {}),
        ...(a.retInsns ? { retInsns: true } : {}),
      };
    case 'usdt':
      return { kind: 'usdt', path: a.path, provider: a.provider, name: a.name, target: a.target };
    case 'interval':
      return { kind: 'interval', periodNs: a.periodNs.toString() };
    case 'profile':
      return a.hz !== undefined ? { kind: 'profile', hz: a.hz } : { kind: 'profile', periodNs: a.periodNs!.toString() };
    case 'kprobe':
      return { kind: 'kprobe', ret: a.ret, func: a.func, offset: a.offset };
    case 'fentry':
      return { kind: 'fentry', ret: a.ret, func: a.func };
    case 'software':
    case 'hardware':
      return { kind: 'perf', type: a.kind, event: a.event, config: a.config, period: a.period };
    case 'watchpoint':
      return { kind: 'watchpoint', address: `0x${a.address.toString(16)}`, length: a.length, mode: a.mode };
    case 'xdp':
      return { kind: 'xdp', iface: a.iface };
    case 'tc':
      return { kind: 'tc', iface: a.iface, direction: a.direction };
  }
}

function sectionAndParams(a: AttachPoint): { section: string; params: string } {
  switch (a.kind) {
    case 'begin':
    case 'end':
      // Run once by capc through BPF_PROG_TEST_RUN, as bpftrace does.
      return { section: 'raw_tp', params: 'void *ctx' };
    case 'tracepoint':
      return { section: `tracepoint/${a.category}/${a.name}`, params: `struct ${tpStructName(a.format)} *ctx` };
    case 'rawtracepoint':
      return { section: `raw_tp/${a.name}`, params: 'struct bpf_raw_tracepoint_args *ctx' };
    case 'uprobe':
      return { section: a.ret ? 'uretprobe' : 'uprobe', params: 'struct pt_regs *ctx' };
    case 'usdt':
      return { section: 'usdt', params: 'struct pt_regs *ctx' };
    case 'interval':
    case 'profile':
    case 'software':
    case 'hardware':
    case 'watchpoint':
      return { section: 'perf_event', params: 'struct bpf_perf_event_data *ctx' };
    case 'kprobe':
      return { section: `${a.ret ? 'kretprobe' : 'kprobe'}/${a.func}`, params: 'struct pt_regs *ctx' };
    case 'fentry':
      // BTF-typed arguments, one u64 slot each; fexit also has the return value after them.
      return { section: `${a.ret ? 'fexit' : 'fentry'}/${a.func}`, params: 'unsigned long long *ctx' };
    case 'xdp':
    case 'tc':
      return packetSection(a);
  }
}

interface LoweredProbe {
  fn: CFunction;
  probe: ManifestProbe;
}

function manifestProbe(
  inst: ProbeInstance,
  program: string,
  attach: AttachPoint,
  role: ManifestProbe['role'],
): ManifestProbe {
  const family = inst.capture?.sig.family ?? inst.closeFor?.family ?? inst.identFor?.family;
  return {
    id: inst.id,
    role,
    program,
    name: probeName(attach),
    spec: inst.spec.text,
    span: inst.spec.span,
    attach: manifestAttach(attach),
    ...(family ? { family } : {}),
  };
}

/** One BPF program per instance; two for a return-time capture (entry + return). */
function lowerInstance(
  inst: ProbeInstance,
  res: Resources,
  captureLowering: CaptureLowering | undefined,
  scope: ScopeLowering | undefined,
  identity: IdentityLowering | undefined,
  lowerers: Lowerers,
  options: LowerOptions,
): LoweredProbe[] {
  const name = programName(inst);
  const { section, params } = sectionAndParams(inst.attach);
  if (inst.identFor) {
    const fn: CFunction = {
      section,
      name,
      params,
      body: identity!.learnerBody(inst),
      comment:
        inst.identFor.how === 'set-fd'
          ? `${inst.spec.text}: capc learns which socket an SSL uses`
          : `${inst.spec.text}: a socket syscall of a thread marked inside a TLS call names the connection's socket; with no call marked every syscall stops at one load, others at a compare or one lookup`,
      src: inst.spec.span.line,
    };
    return [{ fn, probe: manifestProbe(inst, name, inst.attach, 'identity') }];
  }
  if (inst.internal) {
    const what = {
      'scope-fork': 'capc follows the -c/-p process tree: fork',
      'scope-exit': 'capc follows the -c/-p process tree: exit',
      'exec-watch': 'TLS discovery: executables capc has not looked at',
      'tls-watch': 'calls into TLS stacks this program does not probe, counted',
    }[inst.internal];
    const fn: CFunction = { section, name, params, body: scope!.body(inst), comment: what, src: inst.spec.span.line };
    const role = inst.internal === 'scope-fork' || inst.internal === 'scope-exit' ? 'scope' : inst.internal;
    return [{ fn, probe: manifestProbe(inst, name, inst.attach, role) }];
  }
  if (inst.closeFor) {
    const fn: CFunction = {
      section,
      name,
      params,
      body: captureLowering!.closeBody(inst),
      comment: `${inst.spec.text}: capc watches connections of ${inst.closeFor.family} close`,
      src: inst.spec.span.line,
    };
    return [{ fn, probe: manifestProbe(inst, name, inst.attach, 'close') }];
  }
  const capture = inst.capture;
  if (capture && capture.at === 'return') {
    // Entry half on the probe as written; the user's body runs at the return half.
    const entry = { ...captureLowering!.entryFunction(inst, params), section, name: `${name}e` };
    // Go: no uretprobe (the Go runtime moves stacks, and a uretprobe rewrites a return
    // address on one); the return half is a uprobe on each RET instruction instead.
    const retAttach: AttachPoint =
      inst.attach.kind === 'uprobe'
        ? FAMILIES[capture.sig.family].returns === 'ret-insns'
          ? { ...inst.attach, ret: false, retInsns: true }
          : { ...inst.attach, ret: true }
        : { kind: 'tracepoint', category: 'syscalls', name: capture.sig.exitTracepoint!, format: capture.exitFormat! };
    const ret = sectionAndParams(retAttach);
    const fn = lowerBody(
      inst,
      res,
      lowerers,
      options,
      captureLowering,
      ret.section,
      ret.params,
      name,
      `${inst.spec.text}: runs when ${capture.sig.match.kind === 'uprobe' ? capture.sig.match.func : capture.sig.match.name} returns, with the bytes it really moved`,
    );
    return [
      { fn: entry, probe: manifestProbe(inst, entry.name, inst.attach, 'capture-entry') },
      { fn, probe: manifestProbe(inst, name, retAttach, 'capture-return') },
    ];
  }
  const fn = lowerBody(
    inst,
    res,
    lowerers,
    options,
    captureLowering,
    section,
    params,
    name,
    `${inst.spec.text}${inst.spec.text !== probeName(inst.attach) ? ` -> ${probeName(inst.attach)}` : ''}`,
  );
  return [{ fn, probe: manifestProbe(inst, name, inst.attach, 'probe') }];
}

/** A syscall probe's body, called by its raw tracepoint's dispatcher with the record rebuilt (lower-syscalls.ts). */
function lowerDispatched(
  inst: ProbeInstance,
  event: SyscallEvent,
  res: Resources,
  captureLowering: CaptureLowering | undefined,
  lowerers: Lowerers,
  options: LowerOptions,
): LoweredProbe & { body: DispatchedBody } {
  const a = inst.attach as Extract<AttachPoint, { kind: 'tracepoint' }>;
  const name = programName(inst);
  const struct = tpStructName(a.format);
  const fn = lowerBody(
    inst,
    res,
    lowerers,
    options,
    captureLowering,
    undefined,
    bodyParams(struct),
    name,
    `${inst.spec.text}${inst.spec.text !== probeName(a) ? ` -> ${probeName(a)}` : ''} (run by ${dispatcherName(event.event)}, syscall ${event.nr})`,
    PROG_CTX,
  );
  fn.returns = '__always_inline int';
  const probe = manifestProbe(inst, dispatcherName(event.event), a, 'probe');
  probe.attach = { kind: 'tracepoint', category: a.category, name: a.name, via: event.event };
  return { fn, probe, body: { inst, event, format: a.format, fn: name, struct } };
}

function lowerBody(
  inst: ProbeInstance,
  res: Resources,
  lowerers: Lowerers,
  options: LowerOptions,
  captureLowering: CaptureLowering | undefined,
  section: string | undefined,
  params: string,
  name: string,
  comment: string,
  progCtx?: CExpr,
): CFunction {
  const b = new FnBuilder(inst, res, lowerers);
  if (progCtx) b.progCtx = progCtx;
  b.src = inst.spec.span.line;
  if (inst.capture) captureLowering!.prologue(b);
  // Variables: integers are zeroed locals; strings get a scratch slot with an empty string.
  for (const v of inst.vars.values()) {
    if (isStr(v.type)) {
      const slot = strVarSlot(b, v.name, v.type.size);
      b.emit({ k: 'expr', e: bin('=', { k: 'index', e: slot, i: num(0) }, num(0)) });
    } else if (v.type.k === 'int') {
      b.local(v.type.signed ? '__s64' : '__u64', varName(v.name), { comment: v.name });
    } else if (isComposite(v.type)) {
      // Records, tuples and arrays live in scratch (R5), zeroed like every variable.
      const n = sizeOf(v.type);
      const slot = b.scratch(varName(v.name), 'char', n, n);
      b.compositeVars.set(v.name, slot);
      b.emit({ k: 'expr', e: call('capc_zero', slot, num(n)) });
    } else if (isResolved(v.type) || v.type.k === 'buf') {
      // A value capc resolves when printing (an address, a stack id, a time) or buf() bytes: kept raw, as in a
      // record, in scratch (R5), zeroed like every variable.
      const what = res.fieldKind(v.type);
      const layout = layoutStruct([{ name: 'v', what }]);
      const struct = `capc_var${inst.id}_${varName(v.name)}`;
      res.structs.push(toCStruct(struct, layout, `${v.name}: ${typeName(v.type)}`));
      const slot = b.scratch(varName(v.name), `struct ${struct}`, layout.size);
      b.heldVars.set(v.name, { slot, what, size: layout.fields[0]!.size });
      b.emit({ k: 'expr', e: call('capc_zero', addr(slot), num(layout.size)) });
    }
  }
  if (inst.attach.kind !== 'end') {
    b.guard.push({ k: 'if', c: id('capc_exiting'), then: [{ k: 'return', e: num(0) }], src: inst.spec.span.line });
  }
  // Packet probes: parse the headers the body reads, each checked against data_end (R12).
  if (isPacketAttach(inst.attach)) lowerPacketPrologue(b, options);
  const pred = inst.item.predicate;
  // The identity is looked up after the parts of the predicate that do not read it (comm, pid...).
  const parts = pred && inst.usesIdentity ? splitIdentityConjuncts(pred) : { plain: pred ? [pred] : [], identity: [] };
  for (const p of parts.plain) {
    b.src = p.span.line;
    const c = lowerInt(b, p);
    b.emit({ k: 'if', c: un('!', c.e), then: [{ k: 'return', e: num(0) }] });
  }
  if (inst.usesIdentity) lowerers.identity!.load(b);
  for (const p of parts.identity) {
    b.src = p.span.line;
    if (readsAddress(p)) lowerers.identity!.predicate(b, p);
    else {
      const c = lowerInt(b, p);
      b.emit({ k: 'if', c: un('!', c.e), then: [{ k: 'return', e: num(0) }] });
    }
  }
  lowerStmts(b, inst.item.body);
  const finished = b.finish();
  const { scratch } = finished;
  const body = isPacketAttach(inst.attach) ? withVerdict(inst.attach, finished.body) : finished.body;
  if (scratch) {
    const struct: CStruct = {
      kind: 'struct',
      name: `capc_scratch_${scratch.member}`,
      fields: scratch.fields,
      size: scratch.size,
      assertLayout: false,
      comment: `scratch of ${name}`,
    };
    res.scratch.push({ member: scratch.member, struct });
  }
  return { section, name, params, body, comment, src: inst.spec.span.line };
}

export function tpStructName(f: TracepointFormat): string {
  return `capc_tp_${f.category}_${f.name}`.replace(/[^A-Za-z0-9_]/g, '_');
}

/** The tracepoint record as the kernel's format file lays it out (offsets are checked by _Static_assert). */
function tracepointStruct(f: TracepointFormat): CStruct {
  const fields: CField[] = [
    { name: 'common', type: '__u8', array: 8, offset: 0, size: 8, comment: 'common_type, flags, preempt_count, pid' },
  ];
  let end = 8;
  let pad = 0;
  for (const field of [...f.fields].sort((a, b) => a.offset - b.offset)) {
    if (field.offset < end) continue;
    if (field.offset > end)
      fields.push({
        name: `_pad${pad++}`,
        type: '__u8',
        array: field.offset - end,
        offset: end,
        size: field.offset - end,
      });
    const shape = fieldShape(field);
    const safeName = field.name.replace(/[^A-Za-z0-9_]/g, '_');
    let size = field.size;
    switch (shape.shape) {
      case 'int':
        fields.push({
          name: safeName,
          type: cIntType(shape.bytes, shape.signed),
          offset: field.offset,
          size: shape.bytes,
          comment: field.type,
        });
        size = shape.bytes;
        break;
      case 'pointer':
        fields.push({ name: safeName, type: '__u64', offset: field.offset, size: 8, comment: field.type });
        size = 8;
        break;
      case 'char-array':
        fields.push({ name: safeName, type: 'char', array: shape.length, offset: field.offset, size: shape.length });
        size = shape.length;
        break;
      case 'int-array':
        // A misaligned array cannot be declared with its element type; its elements are then read by offset.
        if (field.offset % shape.bytes === 0)
          fields.push({
            name: safeName,
            type: cIntType(shape.bytes, shape.signed),
            array: shape.count,
            offset: field.offset,
            size: field.size,
            comment: field.type,
          });
        else
          fields.push({
            name: safeName,
            type: '__u8',
            array: field.size,
            offset: field.offset,
            size: field.size,
            comment: `${field.type} (misaligned)`,
          });
        break;
      case 'data-loc-string':
      case 'data-loc-array':
        fields.push({
          name: safeName,
          type: '__u32',
          offset: field.offset,
          size: 4,
          comment: '__data_loc: offset | length << 16',
        });
        size = 4;
        break;
      case 'inline-string':
        // `char name[]` at the end: read from ctx + offset, no member needed.
        continue;
      case 'unsupported':
        fields.push({
          name: safeName,
          type: '__u8',
          array: field.size,
          offset: field.offset,
          size: field.size,
          comment: field.type,
        });
        break;
    }
    end = field.offset + size;
  }
  const total = Math.max(end, ...f.fields.map((x) => x.offset + x.size));
  if (total > end)
    fields.push({ name: `_pad${pad++}`, type: '__u8', array: total - end, offset: end, size: total - end });
  return {
    kind: 'struct',
    name: tpStructName(f),
    fields,
    size: alignTo(total, maxAlign(fields)),
    comment: `tracepoint ${f.category}:${f.name}, from its format file`,
    assertLayout: true,
  };
}

function maxAlign(fields: CField[]): number {
  return Math.max(
    1,
    ...fields.map((f) =>
      f.type === 'char' || f.type.startsWith('__u8') ? 1 : f.array !== undefined ? f.size / f.array : f.size,
    ),
  );
}
function alignTo(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
