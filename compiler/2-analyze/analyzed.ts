// compiler/2-analyze/analyzed.ts — the data analysis hands to lowering: probe
// instances (one per expanded attach point) with side tables of types and
// resolved calls, the program's maps, and its configuration.
import type { CallExpr, Expr, FieldExpr, ProbeItem, ProbeSpecNode, SourceFile, Span } from '../../grammar/ast.js';
import type { TracepointField } from '../host.js';
import type { AttachPoint } from './probes.js';
import type { FormatSegment } from './printf-format.js';
import type { AddressSpace, Type } from './types.js';

export interface VarInfo { name: string; type: Type; span: Span }

export type MapKind = 'count' | 'sum' | 'int';

export interface MapInfo {
  name: string;
  kind: MapKind;
  /** undefined: a scalar map (`@x`); otherwise one type per key. */
  keys: Type[] | undefined;
  /** First place the map was written, for diagnostics. */
  span: Span;
}

export type CallInfo =
  | { fn: 'printf'; segments: FormatSegment[]; format: string }
  | { fn: 'str'; size: number; space: AddressSpace; dynamicLength: boolean }
  | { fn: 'exit'; code: number }
  | { fn: 'count' | 'sum' | 'delete' };

export interface ProbeInstance {
  /** Position in program order; names the BPF program (`capc_p<id>`). */
  id: number;
  item: ProbeItem;
  spec: ProbeSpecNode;
  attach: AttachPoint;
  types: Map<Expr, Type>;
  calls: Map<CallExpr, CallInfo>;
  /** Tracepoint field behind each `args->field`. */
  fields: Map<FieldExpr, TracepointField>;
  vars: Map<string, VarInfo>;
}

export interface ProgramConfig {
  /** Capacity of str() when no size is given (bytes, including the NUL). */
  strlen: number;
  /** Entries of each hash map. */
  maxMapKeys: number;
  /** Bytes of the event ring buffer (power of two, multiple of the page size). */
  ringbufSize: number;
  /** Unread bytes in a ring that make a producer wake the consumer (R10). */
  wakeupBytes: number;
}

export interface AnalyzedProgram {
  source: SourceFile;
  instances: ProbeInstance[];
  maps: Map<string, MapInfo>;
  config: ProgramConfig;
  positional: string[];
  /** Builtins that need values from userspace at load time. */
  uses: { cpid: boolean; elapsed: boolean };
}
