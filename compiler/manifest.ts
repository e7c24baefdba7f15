// compiler/manifest.ts — the versioned contract between compiler and runtime.
// Everything the runtime must know about a compiled program — probes and how
// to attach them, maps and their key/value layouts, record layouts on each
// ring, printf formats, counters, load-time constants — is here, written by
// lowering next to the C it describes. The runtime imports only these types.
import type { Span } from '../grammar/ast.js';
import type { FormatSegment } from './2-analyze/printf-format.js';

export const MANIFEST_VERSION = 1;

export interface Manifest {
  version: typeof MANIFEST_VERSION;
  source: { name: string };
  probes: ManifestProbe[];
  maps: ManifestMap[];
  rings: ManifestRing[];
  events: ManifestEvent[];
  counters: ManifestCounter[];
  /** Load-time constants (`.rodata.capc`), filled in by the runtime before load. */
  rodata: { section: string; size: number; fields: { name: 'cpid' | 'start_ns'; offset: number; size: number }[] };
  /** Name of the per-CPU counter map (drops, failed map updates), indexed by counters[].index. */
  statsMap: string;
  config: { strlen: number; maxMapKeys: number; ringbufSize: number; wakeupBytes: number };
  uses: { cpid: boolean; elapsed: boolean };
}

export type ManifestAttach =
  | { kind: 'begin' }
  | { kind: 'end' }
  | { kind: 'tracepoint'; category: string; name: string }
  | { kind: 'uprobe'; ret: boolean; path: string; func: string; offset: number; target: string }
  | { kind: 'interval'; periodNs: string };

export interface ManifestProbe {
  id: number;
  /** BPF program (C function) name. */
  program: string;
  /** Canonical probe name, e.g. `tracepoint:syscalls:sys_enter_openat`. */
  name: string;
  /** The spec as written in the source. */
  spec: string;
  span: Span;
  attach: ManifestAttach;
}

export interface LayoutField {
  name: string;
  offset: number;
  size: number;
  type: 'int' | 'str';
  signed?: boolean;
}

export interface ManifestMap {
  /** `@name` as written (`@` for the anonymous map). */
  name: string;
  /** BPF map name (C identifier). */
  cName: string;
  kind: 'count' | 'sum' | 'int';
  perCpu: boolean;
  /** null for a scalar map (a single __u64 key of 0). */
  key: { size: number; fields: LayoutField[] } | null;
  valueSize: number;
  valueSigned: boolean;
  maxEntries: number;
  /** Counter that records failed updates (map full). */
  fullCounter: number;
}

export interface ManifestRing {
  /** BPF map name. */
  name: string;
  role: 'events' | 'control';
  size: number;
}

/** A record on a ring: `struct capc_hdr { __u32 id; __u32 flags; }` then the fields. */
export interface ManifestEvent {
  id: number;
  kind: 'printf';
  ring: string;
  size: number;
  fields: LayoutField[];
  segments: FormatSegment[];
  span: Span;
}

export interface ManifestCounter {
  index: number;
  kind: 'ring-drop' | 'map-full';
  /** Ring name for ring-drop, `@map` name for map-full. */
  subject: string;
}

/** Control records (on the `control` ring): `struct capc_ctl { __u32 kind; __u32 arg; }`. */
export const CTL_EXIT = 1;
/** Size of the record header on event rings. */
export const EVENT_HEADER_SIZE = 8;
