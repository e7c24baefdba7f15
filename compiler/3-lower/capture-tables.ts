// compiler/3-lower/capture-tables.ts — what payload capture declares once per
// program: the connection table of each family (stream state and, for
// accumulate, the 2N batch buffer: R2, sized by rules.ts), the capture sink
// (ring buffer or perf buffer) and its drop counters (R11), the per-CPU
// record buffer (R5), the -c/-p process-tree map, the defines the capture
// header reads, and the sink descriptor each record is sent with. The
// capture statements (lower-capture.ts) and the close watchers and flusher
// (lower-capture-close.ts) use these names.
import type { AnalyzedProgram, CaptureInfo, ProbeInstance } from '../2-analyze/analyzed.js';
import { IDENT_RECORD } from '../manifest.js';
import { addr, id, num, type CExpr, type CGlobal, type CMapDecl, type CStmt, type CStruct } from './c-ir.js';
import type { CaptureStashes } from './lower-capture-stash.js';
import { STATS_MAP, type Resources } from './resources.js';
import { r10CaptureWakeupBytes, r2BatchBuffer, type LowerOptions } from './rules.js';

export const CAPTURE_SINK = 'capc_payload';
/** The per-CPU record buffer (R5) payloads are sent in chunks from. */
export const CHUNK_SCRATCH = 'capc_chunkbuf';
/** The process-tree map of -c/-p (stdlib/capc-scope.bpf.h). */
export const SCOPE_MAP = 'capc_scope';
const SCOPE_ENTRIES = 16384;
/** Record payload for fragments too big to batch (a header + this fits the 32 KiB per-CPU limit). */
const PASS_THROUGH_CHUNK = 16384;
/** sizeof(struct capc_conn) in stdlib/capc-capture.bpf.h (checked by _Static_assert in every program). */
const CONN_SIZE = 128;

/** A family's connection table. */
export interface Family {
  name: string;
  struct: string;
  map: string;
  zero: string;
  accSize?: number;
  bufSize: number;
  /** Offset mask of the batch buffer the accumulator flushes with (R3). */
  bufMask: number;
  valueSize: number;
  endId: number;
  fullCounter: number;
  refusedBytes: number;
}

export function familyIdent(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}

/** What capture asks of connection identity (implemented by IdentityLowering, lower-identity.ts). */
export interface CaptureIdentity {
  /** Does this probe's entry half mark its thread while the connection's socket is unknown? */
  marks(inst: ProbeInstance): boolean;
  /** Entry half: mark the thread (`connSlot`: the saved connection argument; `mark`: the stash's mark field). */
  entryMark(connSlot: CExpr, mark: CExpr, line: number): CStmt[];
  /** Return half: unmark the thread. */
  unmark(): CStmt;
  /** In a capture site or close watcher: send the connection's identity record once. */
  sinkIdent(family: string, scratch: string): CStmt | undefined;
  /** In a close watcher: forget the connection's identity. */
  forget(family: string): CStmt | undefined;
}

export class CaptureTables {
  readonly families = new Map<string, Family>();
  readonly dropRecords: number;
  readonly dropBytes: number;

  constructor(
    private readonly info: CaptureInfo,
    res: Resources,
    private readonly program: AnalyzedProgram,
    private readonly stashes: CaptureStashes,
    options: LowerOptions,
  ) {
    this.dropRecords = res.counter('capture-drop-records', CAPTURE_SINK);
    this.dropBytes = res.counter('capture-drop-bytes', CAPTURE_SINK);
    for (const [name, f] of info.families) {
      const ident = familyIdent(name);
      // struct capc_conn: 48 bytes of stream state + the 80-byte record header = 128.
      const buf = f.accumulateSize ? r2BatchBuffer(f.accumulateSize, options) : { size: 0, mask: 0 };
      const bufSize = buf.size;
      const valueSize = CONN_SIZE + bufSize;
      this.families.set(name, {
        name,
        struct: `capc_acc_${ident}`,
        map: `capc_c_${ident}`.slice(0, 15),
        zero: `capc_zero_${ident}`,
        accSize: f.accumulateSize,
        bufSize,
        bufMask: buf.mask,
        valueSize,
        endId: res.allocEventId(),
        fullCounter: res.counter('conn-table-full', name),
        refusedBytes: res.counter('capture-refused-bytes', name),
      });
    }
  }

  get hasSites(): boolean {
    return this.info.sites.length > 0;
  }

  private get sinkIsPerf(): boolean {
    return this.info.sink.kind === 'perfbuf';
  }

  /** Defines and headers; the capture header reads CAPC_MAX_CHUNK. */
  defines(): { name: string; value: string; comment?: string }[] {
    // accumulate() sends oversize fragments straight through in the largest records
    // a per-CPU buffer can hold; capture() uses its own N.
    const maxChunk = Math.max(
      ...this.info.sites.map((s) => (s.kind === 'accumulate' ? PASS_THROUGH_CHUNK : s.size)),
      // An identity record goes through the same per-CPU record buffer (capc-capture.bpf.h asserts it fits).
      IDENT_RECORD.size,
    );
    return [
      {
        name: 'CAPC_MAX_CHUNK',
        value: String(maxChunk),
        comment: 'largest record payload: the per-CPU record buffer holds a header and this many bytes',
      },
      {
        name: 'CAPC_CAPTURE_WAKEUP',
        value: `${r10CaptureWakeupBytes(this.info.sink.size)}ULL`,
        comment: 'R10: wake the reader as each quarter of the capture ring (at most 2 MiB) fills',
      },
    ];
  }

  structs(): CStruct[] {
    const out: CStruct[] = [];
    for (const f of this.families.values()) {
      const fields = [{ name: 'c', type: 'struct capc_conn', offset: 0, size: CONN_SIZE }];
      if (f.accSize)
        fields.push({ name: 'buf', type: 'char', offset: CONN_SIZE, size: f.bufSize, array: f.bufSize } as never);
      out.push({
        kind: 'struct',
        name: f.struct,
        fields,
        size: f.valueSize,
        assertLayout: true,
        comment: f.accSize
          ? f.bufSize > f.accSize
            ? `connection of family ${f.name}: stream state, the batch header, then the batch buffer, 2N = ${f.bufSize} bytes for batches of N = ${f.accSize} (R2)`
            : `connection of family ${f.name}: TEST BUILD WITHOUT R2: the buffer is only N = ${f.accSize} bytes`
          : `connection of family ${f.name}: stream state only (capture() does not batch)`,
      });
    }
    out.push(...this.stashes.structs());
    return out;
  }

  maps(): CMapDecl[] {
    const cfg = this.program.config;
    const stashes = this.stashes.maps();
    if (!this.hasSites) return stashes;
    if (this.info.scope)
      stashes.push({
        name: SCOPE_MAP,
        type: 'BPF_MAP_TYPE_HASH',
        key: '__u32',
        value: '__u8',
        maxEntries: SCOPE_ENTRIES,
        comment: 'with -c/-p: the processes (tgids) of the command and its descendants, kept by fork and exit',
      });
    const decls: CMapDecl[] = [
      this.sinkIsPerf
        ? {
            name: CAPTURE_SINK,
            type: 'BPF_MAP_TYPE_PERF_EVENT_ARRAY',
            key: 'int',
            value: '__u32',
            maxEntries: 0,
            comment: 'captured payload, one perf buffer per CPU (perfbuf sink)',
          }
        : {
            name: CAPTURE_SINK,
            type: 'BPF_MAP_TYPE_RINGBUF',
            maxEntries: this.info.sink.size,
            comment: 'captured payload: variable-size records, metadata once per batch',
          },
      {
        name: CHUNK_SCRATCH,
        type: 'BPF_MAP_TYPE_PERCPU_ARRAY',
        key: '__u32',
        value: 'struct capc_chunk_buf',
        maxEntries: 1,
        comment: 'R5: one record (header + N bytes) per CPU, for payloads sent in chunks',
      },
    ];
    for (const f of this.families.values()) {
      decls.push({
        name: f.map,
        type: 'BPF_MAP_TYPE_HASH',
        key: 'struct capc_conn_key',
        value: `struct ${f.struct}`,
        maxEntries: cfg.maxConnections,
        comment: `connections of family ${f.name}; a full table is counted and new connections go out unbatched, never silently dropped`,
      });
    }
    return [...decls, ...stashes];
  }

  globals(): CGlobal[] {
    const g: CGlobal[] = [
      {
        type: '__u64',
        name: 'capc_next_conn',
        init: '0',
        comment: 'connection ids: a reused key (SSL*, fd) never merges two connections',
      },
    ];
    for (const f of this.families.values()) {
      g.push({
        type: `static const struct ${f.struct}`,
        name: f.zero,
        init: '{}',
        comment: `zeroed value for new connections of ${f.name} (read-only data, not the stack: R5)`,
      });
    }
    return g;
  }

  /** A sink descriptor for site records (or a family's close/final records). */
  sinkInit(site: number): CExpr {
    return {
      k: 'init',
      fields: [
        ['map', addr(id(CAPTURE_SINK))],
        ['ctx', id('ctx')],
        ['wakeup', id('CAPC_CAPTURE_WAKEUP')],
        ['stats', addr(id(STATS_MAP))],
        ['drop_rec', num(this.dropRecords)],
        ['drop_bytes', num(this.dropBytes)],
        ['is_perf', num(this.sinkIsPerf ? 1 : 0)],
        ['site', num(site)],
      ],
    };
  }
}
