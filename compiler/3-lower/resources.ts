// compiler/3-lower/resources.ts — program-wide resources lowering allocates:
// BPF maps for user maps (one value layout per aggregation kind), stack trace
// maps, event record layouts and ids, counters (R11), the event and control
// rings, and the per-CPU scratch area (R5). It produces the matching C
// declarations and manifest entries together, so they agree.
import type { AnalyzedProgram, CaptureSite, MapInfo } from '../2-analyze/analyzed.js';
import type { TypeTable } from '../2-analyze/type-table.js';
import { alignOf, isComposite, isStr, sizeOf, typeName as typeNameOf, type Type } from '../2-analyze/types.js';
import type { LayoutField, ManifestCounter, ManifestEvent, ManifestMap, ManifestRing } from '../manifest.js';
import { EVENT_HEADER_SIZE } from '../manifest.js';
import type { Span } from '../../diagnostics/source.js';
import type { CField, CMapDecl, CStruct } from './c-ir.js';
import { layoutStruct, toCStruct, type FieldKind, type FieldSpec, type StructLayout } from './layout.js';
import { r8PerCpu } from './rules.js';
import { valueTypeOf } from './value-types.js';

export const EVENTS_RING = 'capc_events';
export const CTL_RING = 'capc_ctl';
export const STATS_MAP = 'capc_stats';
export const SCRATCH_MAP = 'capc_scratch';
const CTL_RING_SIZE = 16384;

export interface UserMap {
  info: MapInfo;
  cName: string;
  /** Key struct type name, or undefined for a scalar map (key: a __u64 0). */
  keyStruct?: string;
  keyLayout?: StructLayout;
  /** C type of the value. */
  valueType: string;
  valueSize: number;
  /** resolved maps: the value's layout (the runtime resolves it as it does a key part). */
  valueField?: LayoutField;
  perCpu: boolean;
  fullCounter: number;
}

export function toLayoutFields(l: StructLayout): LayoutField[] {
  return l.fields.map((f): LayoutField => {
    const w = f.what;
    const base = { name: f.name, offset: f.offset, size: f.size };
    switch (w.kind) {
      case 'int':
        return { ...base, type: 'int', signed: w.signed };
      case 'str':
      case 'bytes':
        return { ...base, type: 'str' };
      case 'ustack':
      case 'kstack':
        return { ...base, type: w.kind, stackMap: w.stackMap, frames: w.frames, ...(w.mode ? { mode: w.mode } : {}) };
      case 'strftime':
        return { ...base, type: 'strftime', format: w.format };
      case 'cgroup_path':
        return { ...base, type: 'cgroup_path', filter: w.filter };
      case 'value':
        return { ...base, type: 'value', value: w.value };
      default:
        return { ...base, type: w.kind };
    }
  });
}

/** Field kind of a value of type `t` (ustack needs Resources.fieldKind: it names a stack map). */
export function fieldKindOf(t: Type, keepWidth = false, types?: TypeTable): FieldKind {
  if (isStr(t)) return { kind: 'str', size: t.size };
  if (isComposite(t)) {
    if (!types) throw new Error('internal: a composite field needs the type table');
    return { kind: 'value', size: sizeOf(t), align: alignOf(t), value: valueTypeOf(t, types) };
  }
  // Records keep an integer's declared width (printf formats it as C would); keys widen to 64 bits.
  if (t.k === 'int')
    return { kind: 'int', bytes: keepWidth && !t.literal ? t.bytes : 8, signed: t.signed || !!t.literal };
  if (t.k === 'buf') return { kind: 'buf', size: t.size };
  if (t.k === 'inet' || t.k === 'usym' || t.k === 'ksym' || t.k === 'macaddr') return { kind: t.k };
  if (t.k === 'strftime') return { kind: 'strftime', format: t.format };
  if (t.k === 'cgroup_path') return { kind: 'cgroup_path', filter: t.filter };
  throw new Error(`internal: no field kind for ${t.k}`);
}

export class Resources {
  readonly structs: CStruct[] = [];
  readonly maps: CMapDecl[] = [];
  readonly userMaps = new Map<string, UserMap>();
  readonly events: ManifestEvent[] = [];
  readonly counters: ManifestCounter[] = [];
  readonly rings: ManifestRing[] = [];
  private nextEventId = 1;
  /** Per-instance scratch structs, members of `union capc_scratch`. */
  readonly scratch: { member: string; struct: CStruct }[] = [];
  /** Stack trace maps, one per depth and space (ustack(n), kstack(n)), with their failure counters. */
  /** Kernel symbols kaddr() takes the address of: `extern const void SYM __ksym;`, resolved by libbpf at load. */
  readonly kernelSymbols = new Set<string>();
  readonly stackMaps = new Map<string, { name: string; counter: number; frames: number; kernel: boolean }>();

  readonly captureSites: CaptureSite[];
  /** Positional parameters ($1...), resolved to constants at compile time. */
  readonly positional: string[];
  /** Most iterations a while loop makes (R6). */
  readonly loopLimit: number;
  readonly sourceName: string;
  /** The program's text (-k reports a failed helper call with its line). */
  readonly sourceText: string;
  /** Default string capacity (bytes with the NUL). */
  readonly strlen: number;

  constructor(private readonly program: AnalyzedProgram) {
    this.positional = program.positional;
    this.loopLimit = program.config.loopLimit;
    this.sourceName = program.source.name;
    this.sourceText = program.source.text;
    this.strlen = program.config.strlen;
    this.captureSites = program.capture?.sites ?? [];
    this.rings.push({ name: EVENTS_RING, role: 'events', size: program.config.ringbufSize });
    this.rings.push({ name: CTL_RING, role: 'control', size: CTL_RING_SIZE });
    this.counter('ring-drop', EVENTS_RING);
    this.counter('ring-drop', CTL_RING);
    let n = 0;
    for (const m of program.maps.values()) this.declareUserMap(m, n++);
  }

  counter(kind: ManifestCounter['kind'], subject: string): number {
    const existing = this.counters.find((c) => c.kind === kind && c.subject === subject);
    if (existing) return existing.index;
    const index = this.counters.length;
    this.counters.push({ index, kind, subject });
    return index;
  }

  /** -k (1) / -kk (2): which failed helper calls are reported (helper-checks.ts); 0 without the option. */
  helperChecks = 0;
  private readonly helperSites = new Map<string, number>();

  /** The record id of a checked helper call at `span` (one record layout per site: the error code). */
  helperSite(helper: string, span: Span): number {
    const key = `${helper}@${span.start}-${span.end}`;
    let id = this.helperSites.get(key);
    if (id === undefined) {
      const lines = this.sourceText.split('\n');
      id = this.addEvent('helper_error', [{ name: 'rc', what: { kind: 'int', bytes: 8, signed: true } }], {
        span,
        helper,
        sourceLine: lines[span.line - 1] ?? '',
      }).id;
      this.helperSites.set(key, id);
    }
    return id;
  }

  dropCounter(ring: string): number {
    return this.counter('ring-drop', ring);
  }

  /** Field kind of a value of type `t`; a stack gets the stack map of its depth. `record`: keep integer widths. */
  fieldKind(t: Type, record = false): FieldKind {
    if (t.k === 'ustack' || t.k === 'kstack') {
      const m = this.stackMap(t.frames, t.k === 'kstack');
      return { kind: t.k, frames: t.frames, stackMap: m.name, ...(t.mode === 'perf' ? { mode: 'perf' as const } : {}) };
    }
    return fieldKindOf(t, record, this.program.types);
  }

  /** The stack trace map for user (or kernel) stacks of `frames` frames (value: frames * 8 bytes). */
  stackMap(frames: number, kernel = false): { name: string; counter: number } {
    const id = `${kernel ? 'k' : 'u'}${frames}`;
    let m = this.stackMaps.get(id);
    if (!m) {
      const name = `capc_${kernel ? 'kstk' : 'stk'}${frames}`;
      m = { name, counter: this.counter('map-full', `${kernel ? 'kstack' : 'ustack'}(${frames})`), frames, kernel };
      this.stackMaps.set(id, m);
    }
    return m;
  }

  private declareUserMap(info: MapInfo, n: number): void {
    const base = info.name === '@' ? 'anon' : info.name.slice(1).replace(/[^A-Za-z0-9_]/g, '_');
    const cName = `m${n}_${base}`.slice(0, 15); // BPF object names hold 15 characters
    const perCpu = r8PerCpu(info.kind);
    const fullCounter = this.counter('map-full', info.name);
    const isHist = info.kind === 'hist' || info.kind === 'lhist';
    let keyStruct: string | undefined;
    let keyLayout: StructLayout | undefined;
    if (info.keys || isHist) {
      keyStruct = `capc_key_${cName}`;
      const specs: FieldSpec[] = (info.keys ?? []).map((t, i) => ({ name: `k${i}`, what: this.fieldKind(t) }));
      // hist/lhist: the bucket is part of the key, one counter per (key, bucket), as in bpftrace.
      if (isHist) specs.push({ name: 'bucket', what: { kind: 'int', bytes: 8, signed: false } });
      keyLayout = layoutStruct(specs);
      this.structs.push(toCStruct(keyStruct, keyLayout, `key of ${info.name}${isHist ? ' (and the bucket)' : ''}`));
    }
    let valueType = '__s64';
    let valueSize = 8;
    let valueField: LayoutField | undefined;
    if (info.kind === 'avg' || info.kind === 'stats') [valueType, valueSize] = ['struct capc_avg', 16];
    else if (info.kind === 'min' || info.kind === 'max') [valueType, valueSize] = ['struct capc_minmax', 16];
    else if (info.kind === 'value') {
      const t = info.valueType!;
      valueSize = sizeOf(t);
      valueType = `struct capc_val_${cName}`;
      this.structs.push(
        toCStruct(
          `capc_val_${cName}`,
          layoutStruct([{ name: 'v', what: this.fieldKind(t) }]),
          `value of ${info.name}: ${typeNameOf(t)}`,
        ),
      );
      valueSize = Math.max(8, Math.ceil(valueSize / 8) * 8);
    } else if (info.kind === 'str') {
      valueSize = info.strSize ?? this.program.config.strlen;
      valueType = `struct capc_val_${cName}`;
      this.structs.push(
        toCStruct(
          `capc_val_${cName}`,
          layoutStruct([{ name: 'v', what: { kind: 'str', size: valueSize } }]),
          `value of ${info.name}: a string`,
        ),
      );
      valueSize = Math.max(8, Math.ceil(valueSize / 8) * 8);
    } else if (info.kind === 'resolved' && info.resolved) {
      // A value capc resolves when printing: its raw form (a stack id, an address...), as in a record.
      const layout = layoutStruct([{ name: 'v', what: this.fieldKind(info.resolved) }]);
      valueType = `struct capc_val_${cName}`;
      valueSize = layout.size;
      valueField = toLayoutFields(layout)[0];
      this.structs.push(toCStruct(valueType.slice(7), layout, `value of ${info.name}: ${typeNameOf(info.resolved)}`));
    }
    this.userMaps.set(info.name, {
      info,
      cName,
      keyStruct,
      keyLayout,
      valueType,
      valueSize,
      valueField,
      perCpu,
      fullCounter,
    });
    const what =
      info.kind === 'int'
        ? 'plain integer'
        : info.kind === 'str'
          ? 'string'
          : info.kind === 'value'
            ? typeNameOf(info.valueType!)
            : `${info.kind}()`;
    this.maps.push({
      name: cName,
      type: perCpu ? 'BPF_MAP_TYPE_PERCPU_HASH' : 'BPF_MAP_TYPE_HASH',
      key: keyStruct ? `struct ${keyStruct}` : '__u64',
      value: valueType,
      maxEntries: info.keys || isHist ? this.program.config.maxMapKeys : 1,
      comment: `${info.name}: ${what} map${perCpu ? ', one value per CPU combined by capc (R8)' : ''}`,
    });
  }

  /** A record layout on the events ring; returns its id and C struct name. */
  addEvent(
    kind: ManifestEvent['kind'],
    fields: FieldSpec[],
    extra: Omit<ManifestEvent, 'id' | 'kind' | 'ring' | 'size' | 'fields'>,
  ): { id: number; struct: string; layout: StructLayout } {
    const id = this.allocEventId();
    const struct = `capc_ev${id}`;
    const layout = layoutStruct(fields, EVENT_HEADER_SIZE);
    const hdr: CField = { name: 'hdr', type: 'struct capc_hdr', offset: 0, size: EVENT_HEADER_SIZE };
    this.structs.push(toCStruct(struct, layout, `record ${id}: ${kind} at line ${extra.span.line}`, [hdr]));
    this.events.push({ id, kind, ring: EVENTS_RING, size: layout.size, fields: toLayoutFields(layout), ...extra });
    return { id, struct, layout };
  }

  /** Record ids share one space across printf records and capture sites. */
  allocEventId(): number {
    return this.nextEventId++;
  }

  userMap(name: string): UserMap {
    const m = this.userMaps.get(name);
    if (!m) throw new Error(`internal: map ${name} was not declared`);
    return m;
  }

  /** Maps every program has: the two rings, counters, and scratch if any instance needs it. */
  runtimeMaps(): CMapDecl[] {
    const decls: CMapDecl[] = [
      {
        name: EVENTS_RING,
        type: 'BPF_MAP_TYPE_RINGBUF',
        maxEntries: this.program.config.ringbufSize,
        comment: 'printf and other records for the consumer',
      },
      {
        name: CTL_RING,
        type: 'BPF_MAP_TYPE_RINGBUF',
        maxEntries: CTL_RING_SIZE,
        comment: 'control records (exit); kept apart so floods of events cannot delay or drop them',
      },
      {
        name: STATS_MAP,
        type: 'BPF_MAP_TYPE_PERCPU_ARRAY',
        key: '__u32',
        value: '__u64',
        maxEntries: Math.max(1, this.counters.length),
        comment: 'R11: drop and map-full counters, one slot per CPU, summed by capc',
      },
    ];
    for (const m of this.stackMaps.values()) {
      decls.push({
        name: m.name,
        type: 'BPF_MAP_TYPE_STACK_TRACE',
        keySize: 4,
        valueSize: m.frames * 8,
        maxEntries: this.program.config.maxMapKeys,
        comment: `${m.kernel ? 'kernel' : 'user'} stacks of up to ${m.frames} frames, symbolised by capc`,
      });
    }
    if (this.scratch.length) {
      decls.push({
        name: SCRATCH_MAP,
        type: 'BPF_MAP_TYPE_PERCPU_ARRAY',
        key: '__u32',
        value: 'union capc_scratch',
        maxEntries: 1,
        comment: 'R5: per-CPU scratch for strings and large keys, so nothing large lives on the 512-byte stack',
      });
    }
    return decls;
  }

  scratchUnion(): CStruct | undefined {
    if (!this.scratch.length) return undefined;
    const size = Math.max(8, ...this.scratch.map((s) => s.struct.size));
    return {
      kind: 'union',
      name: 'capc_scratch',
      fields: [
        { name: '_align', type: '__u64', offset: 0, size: 8 },
        ...this.scratch.map((s) => ({
          name: s.member,
          type: `struct ${s.struct.name}`,
          offset: 0,
          size: s.struct.size,
        })),
      ],
      size: Math.ceil(size / 8) * 8,
      comment: 'one member per probe program; programs never nest on a CPU, so they can share the space',
      assertLayout: false,
    };
  }

  manifestMaps(): ManifestMap[] {
    return [...this.userMaps.values()].map((m) => {
      const fields = m.keyLayout ? toLayoutFields(m.keyLayout) : [];
      const bucket = fields.find((f) => f.name === 'bucket' && (m.info.kind === 'hist' || m.info.kind === 'lhist'));
      const out: ManifestMap = {
        name: m.info.name,
        cName: m.cName,
        kind: m.info.kind,
        perCpu: m.perCpu,
        key: m.keyLayout ? { size: m.keyLayout.size, fields: fields.filter((f) => f !== bucket) } : null,
        valueSize: m.valueSize,
        valueSigned: true,
        maxEntries: m.info.keys || bucket ? this.program.config.maxMapKeys : 1,
        fullCounter: m.fullCounter,
      };
      if (bucket) out.bucket = { offset: bucket.offset };
      if (m.valueField) out.resolvedValue = m.valueField;
      if (m.info.kind === 'value') out.value = valueTypeOf(m.info.valueType!, this.program.types);
      if (m.info.lhist) out.lhist = { ...m.info.lhist };
      return out;
    });
  }

  /** Position of a map in the manifest (control records name maps by it). */
  mapIndex(name: string): number {
    return [...this.userMaps.keys()].indexOf(name);
  }
}
