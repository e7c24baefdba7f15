// compiler/3-lower/resources.ts — program-wide resources lowering allocates:
// BPF maps for user maps, event record layouts and ids, counters (R11), the
// event and control rings, and the per-CPU scratch area (R5). It produces the
// matching C declarations and manifest entries together, so they agree.
import type { AnalyzedProgram, CaptureSite, MapInfo } from '../2-analyze/analyzed.js';
import type { CaptureLowering } from './lower-capture.js';
import { isStr, type Type } from '../2-analyze/types.js';
import type { LayoutField, ManifestCounter, ManifestEvent, ManifestMap, ManifestRing } from '../manifest.js';
import { EVENT_HEADER_SIZE } from '../manifest.js';
import type { CField, CMapDecl, CStruct } from './c-ir.js';
import { layoutStruct, toCStruct, type FieldSpec, type StructLayout } from './layout.js';

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
  perCpu: boolean;
  fullCounter: number;
}

export function toLayoutFields(l: StructLayout): LayoutField[] {
  return l.fields.map((f) =>
    f.what.kind === 'int'
      ? { name: f.name, offset: f.offset, size: f.size, type: 'int', signed: f.what.signed }
      : { name: f.name, offset: f.offset, size: f.size, type: 'str' },
  );
}

export function fieldKindOf(t: Type): FieldSpec['what'] {
  if (isStr(t)) return { kind: 'str', size: t.size };
  if (t.k === 'int') return { kind: 'int', bytes: 8, signed: t.signed || !!t.literal };
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

  /** Set when the program captures payload. */
  capture: CaptureLowering | undefined;
  readonly captureSites: CaptureSite[];
  /** Positional parameters ($1...), resolved to constants at compile time. */
  readonly positional: string[];

  constructor(private readonly program: AnalyzedProgram) {
    this.positional = program.positional;
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

  dropCounter(ring: string): number {
    return this.counter('ring-drop', ring);
  }

  private declareUserMap(info: MapInfo, n: number): void {
    const base = info.name === '@' ? 'anon' : info.name.slice(1).replace(/[^A-Za-z0-9_]/g, '_');
    const cName = `m${n}_${base}`.slice(0, 15); // BPF object names hold 15 characters
    const perCpu = info.kind === 'count' || info.kind === 'sum';
    const fullCounter = this.counter('map-full', info.name);
    let keyStruct: string | undefined;
    let keyLayout: StructLayout | undefined;
    if (info.keys) {
      keyStruct = `capc_key_${cName}`;
      keyLayout = layoutStruct(info.keys.map((t, i) => ({ name: `k${i}`, what: fieldKindOf(t) })));
      this.structs.push(toCStruct(keyStruct, keyLayout, `key of ${info.name}`));
    }
    this.userMaps.set(info.name, { info, cName, keyStruct, keyLayout, perCpu, fullCounter });
    this.maps.push({
      name: cName,
      type: perCpu ? 'BPF_MAP_TYPE_PERCPU_HASH' : 'BPF_MAP_TYPE_HASH',
      key: keyStruct ? `struct ${keyStruct}` : '__u64',
      value: '__s64',
      maxEntries: info.keys ? this.program.config.maxMapKeys : 1,
      comment: `${info.name}: ${info.kind === 'int' ? 'plain integer' : `${info.kind}()`} map${perCpu ? ', one value per CPU summed by capc (R8)' : ''}`,
    });
  }

  /** A record layout on the events ring; returns its id and C struct name. */
  addEvent(kind: 'printf', fields: FieldSpec[], extra: Omit<ManifestEvent, 'id' | 'kind' | 'ring' | 'size' | 'fields'>): { id: number; struct: string; layout: StructLayout } {
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
      { name: EVENTS_RING, type: 'BPF_MAP_TYPE_RINGBUF', maxEntries: this.program.config.ringbufSize, comment: 'printf and other records for the consumer' },
      { name: CTL_RING, type: 'BPF_MAP_TYPE_RINGBUF', maxEntries: CTL_RING_SIZE, comment: 'control records (exit); kept apart so floods of events cannot delay or drop them' },
      { name: STATS_MAP, type: 'BPF_MAP_TYPE_PERCPU_ARRAY', key: '__u32', value: '__u64', maxEntries: Math.max(1, this.counters.length), comment: 'R11: drop and map-full counters, one slot per CPU, summed by capc' },
    ];
    if (this.scratch.length) {
      decls.push({ name: SCRATCH_MAP, type: 'BPF_MAP_TYPE_PERCPU_ARRAY', key: '__u32', value: 'union capc_scratch', maxEntries: 1, comment: 'R5: per-CPU scratch for strings and large keys, so nothing large lives on the 512-byte stack' });
    }
    return decls;
  }

  scratchUnion(): CStruct | undefined {
    if (!this.scratch.length) return undefined;
    const size = Math.max(8, ...this.scratch.map((s) => s.struct.size));
    return {
      kind: 'union',
      name: 'capc_scratch',
      fields: [{ name: '_align', type: '__u64', offset: 0, size: 8 }, ...this.scratch.map((s) => ({ name: s.member, type: `struct ${s.struct.name}`, offset: 0, size: s.struct.size }))],
      size: Math.ceil(size / 8) * 8,
      comment: 'one member per probe program; programs never nest on a CPU, so they can share the space',
      assertLayout: false,
    };
  }

  manifestMaps(): ManifestMap[] {
    return [...this.userMaps.values()].map((m) => ({
      name: m.info.name,
      cName: m.cName,
      kind: m.info.kind,
      perCpu: m.perCpu,
      key: m.keyLayout ? { size: m.keyLayout.size, fields: toLayoutFields(m.keyLayout) } : null,
      valueSize: 8,
      valueSigned: true,
      maxEntries: m.info.keys ? this.program.config.maxMapKeys : 1,
      fullCounter: m.fullCounter,
    }));
  }
}
