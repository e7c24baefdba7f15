// compiler/3-lower/lower-capture.ts — lowers payload capture: the connection
// tables (one per family, with the 2N batch buffer for accumulate: R2), the
// entry half of each capture pair (its arguments kept until the return:
// lower-capture-stash.ts), the
// prologue of the return half (only successful calls, the returned length),
// accumulate()/capture() statements, the probes that see connections close,
// and the flusher capc runs on a timer for idle batches (R9) and at exit.
// The logic itself is hand-written C in stdlib/capc-capture.bpf.h.
import type * as A from '../../grammar/ast.js';
import type { AnalyzedProgram, CaptureInfo, CaptureSite, ProbeInstance } from '../2-analyze/analyzed.js';
import { probeName } from '../2-analyze/probes.js';
import { IDENT_RECORD, type ManifestCapture } from '../manifest.js';
import type { CaptureSignature } from '../../stdlib/signatures.js';
import {
  addr,
  arrow,
  bin,
  call,
  cast,
  dot,
  id,
  num,
  un,
  type CExpr,
  type CFunction,
  type CGlobal,
  type CMapDecl,
  type CStmt,
  type CStruct,
} from './c-ir.js';
import type { FnBuilder } from './fn-builder.js';
import { abiArg, byGoroutine, CaptureStashes } from './lower-capture-stash.js';
import { lowerInt } from './lower-expr.js';
import { STATS_MAP, type Resources } from './resources.js';
import { r10CaptureWakeupBytes, r11Count, r2BatchBuffer, r2r4AccumulatorRules, type LowerOptions } from './rules.js';

export const CAPTURE_SINK = 'capc_payload';
const CHUNK_SCRATCH = 'capc_chunkbuf';
const SCOPE_ENTRIES = 16384;
/** Record payload for fragments too big to batch (a header + this fits the 32 KiB per-CPU limit). */
const PASS_THROUGH_CHUNK = 16384;
/** sizeof(struct capc_conn) in stdlib/capc-capture.bpf.h (checked by _Static_assert in every program). */
const CONN_SIZE = 128;

interface Family {
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

function familyIdent(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}

/** The process-tree map of -c/-p (stdlib/capc-scope.bpf.h). */
export const SCOPE_MAP = 'capc_scope';

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

export class CaptureLowering {
  readonly families = new Map<string, Family>();
  private identity: CaptureIdentity | undefined;
  private readonly siteIds = new Map<CaptureSite, number>();
  private readonly stashes: CaptureStashes;
  readonly dropRecords: number;
  readonly dropBytes: number;

  constructor(
    private readonly info: CaptureInfo,
    res: Resources,
    private readonly program: AnalyzedProgram,
    private readonly options: LowerOptions = {},
  ) {
    this.stashes = new CaptureStashes(res, () => this.identity);
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
    for (const site of info.sites) this.siteIds.set(site, res.allocEventId());
  }

  /** Connection identity, when the program learns it: capture sends it and marks threads for it. */
  useIdentity(identity: CaptureIdentity | undefined): void {
    this.identity = identity;
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
  private sinkInit(site: number): CExpr {
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

  // ---- capture pairs -----------------------------------------------------

  /**
   * Calls capc does not capture at all, checked at entry: outside the -c/-p
   * process tree, or failing the signature's guard (NSS: not an SSL descriptor).
   */
  private entryChecks(sig: CaptureSignature, line: number): CStmt[] {
    const out: CStmt[] = [];
    if (this.info.scope && sig.match.kind === 'uprobe') {
      out.push({ k: 'decl', type: '__u32', name: 'capc_tgid', init: call('capc_pid'), src: line });
      out.push({
        k: 'if',
        c: bin(
          '&&',
          bin('&', dot(id('capc_ro'), 'scope'), id('CAPC_SCOPE_TREE')),
          un('!', call('bpf_map_lookup_elem', addr(id(SCOPE_MAP)), addr(id('capc_tgid')))),
        ),
        then: [{ k: 'return', e: num(0) }],
        src: line,
      });
    }
    if (sig.guard) {
      const g = sig.guard;
      out.push({
        k: 'if',
        c: un(
          '!',
          call('capc_guard', abiArg(sig, sig.args.indexOf(sig.connArg)), num(g.ptrAt), num(g.valueAt), num(g.equals)),
        ),
        then: [{ k: 'return', e: num(0) }],
        src: line,
      });
    }
    return out;
  }

  /** The entry half: save the arguments until the call returns (lower-capture-stash.ts). */
  entryFunction(inst: ProbeInstance, params: string): CFunction {
    const line = inst.spec.span.line;
    const sig = inst.capture!.sig;
    const body: CStmt[] = [
      { k: 'if', c: id('capc_exiting'), then: [{ k: 'return', e: num(0) }], src: line },
      ...this.entryChecks(sig, line),
      ...this.stashes.save(inst, line),
    ];
    body.push({ k: 'return', e: num(0), src: line });
    return {
      section: '',
      name: '',
      params,
      body,
      comment: `${sig.doc}: entry, keep the arguments until it returns`,
      src: line,
    };
  }

  /**
   * Instances that may wrap this one's call (or be wrapped by it) on the same
   * connection and buffer (signature `nests`, same binary): their stashes are
   * checked at return so the bytes are captured once, by the outer call.
   */
  private nestedSiblings(inst: ProbeInstance): ProbeInstance[] {
    const sig = inst.capture!.sig;
    const a = inst.attach;
    if (!sig.nests?.length || a.kind !== 'uprobe') return [];
    return this.program.instances.filter((o) => {
      const oa = o.attach;
      return (
        o !== inst &&
        o.capture?.at === 'return' &&
        oa.kind === 'uprobe' &&
        !oa.ret &&
        oa.path === a.path &&
        sig.nests!.includes(oa.func) &&
        byGoroutine(o.capture.sig) === byGoroutine(sig)
      );
    });
  }

  /**
   * The start of the return half (or of an entry-time capture): find the saved
   * arguments, give up on failed calls, and bind conn, buf, len (and retval).
   */
  prologue(b: FnBuilder): void {
    const inst = b.inst;
    const mode = inst.capture!;
    const sig = mode.sig;
    const argIdx = (name: string) => sig.args.indexOf(name);
    const src = inst.spec.span.line;
    b.src = src;
    if (mode.at === 'entry') {
      const arg = (name: string): CExpr => abiArg(sig, argIdx(name), name);
      for (const st of this.entryChecks(sig, src)) b.emit(st);
      b.emit({
        k: 'decl',
        type: '__u64',
        name: 'capc_conn',
        init: arg(sig.connArg),
        comment: 'entry-time capture: the requested length',
      });
      b.emit({ k: 'decl', type: '__u64', name: 'capc_buf', init: arg(sig.bufArg) });
      b.emit({ k: 'decl', type: '__u64', name: 'capc_len', init: arg(sig.sizeArg) });
      return;
    }
    for (const st of this.stashes.load(inst)) b.emit(st);
    const ret: CExpr =
      sig.match.kind === 'uprobe'
        ? sig.length.bits === 32
          ? cast('__s64', cast('__s32', call('PT_REGS_RC', id('ctx'))))
          : cast('__s64', call('PT_REGS_RC', id('ctx')))
        : cast('__s64', arrow(id('ctx'), 'ret'));
    b.emit({ k: 'decl', type: '__s64', name: 'capc_ret', init: ret });
    const saved = (name: string): CExpr => ({ k: 'index', e: dot(id('capc_st'), 'a'), i: num(argIdx(name)) });
    b.emit({ k: 'decl', type: '__u64', name: 'capc_conn', init: saved(sig.connArg) });
    b.emit({ k: 'decl', type: '__u64', name: 'capc_buf', init: saved(sig.bufArg) });
    for (const o of this.nestedSiblings(inst)) {
      const os = this.stashes.of(o);
      const osig = o.capture!.sig;
      const f = (o.attach as { func: string }).func;
      b.emit({
        k: 'block',
        comment: `inside ${f} on the same connection and buffer: ${f} captures these bytes`,
        body: [
          {
            k: 'decl',
            type: `struct ${os.struct.name} *`,
            name: 'capc_o',
            init: this.stashes.get(os),
          },
          {
            k: 'if',
            c: bin(
              '&&',
              this.stashes.present(os, 'capc_o'),
              bin(
                '&&',
                bin(
                  '==',
                  { k: 'index', e: arrow(id('capc_o'), 'a'), i: num(osig.args.indexOf(osig.connArg)) },
                  id('capc_conn'),
                ),
                bin(
                  '==',
                  { k: 'index', e: arrow(id('capc_o'), 'a'), i: num(osig.args.indexOf(osig.bufArg)) },
                  id('capc_buf'),
                ),
              ),
            ),
            then: [{ k: 'return', e: num(0) }],
          },
        ],
      });
    }
    if (sig.length.from === 'retval') {
      b.emit({ k: 'if', c: bin('<=', id('capc_ret'), num(0)), then: [{ k: 'return', e: num(0) }] });
      b.emit({
        k: 'decl',
        type: '__u64',
        name: 'capc_len',
        init: id('capc_ret'),
        comment: 'the length the call returned, never the one requested',
      });
    } else {
      b.emit({ k: 'if', c: bin('!=', id('capc_ret'), num(1)), then: [{ k: 'return', e: num(0) }] });
      b.emit({
        k: 'decl',
        type: '__u64',
        name: 'capc_len',
        init: num(0),
        comment: 'the length the call wrote to its size_t * argument',
      });
      b.emit({
        k: 'expr',
        e: call(
          'bpf_probe_read_user',
          addr(id('capc_len')),
          { k: 'sizeof', of: 'capc_len' },
          cast('void *', saved(sig.args[sig.length.outArg]!)),
        ),
      });
    }
  }

  // ---- statements -----------------------------------------------------------

  sink(b: FnBuilder, s: A.SinkStmt, site: CaptureSite): void {
    const f = this.families.get(site.family)!;
    const siteId = this.siteIds.get(site)!;
    const args = s.call.args;
    const key = lowerInt(b, args[0]!).e;
    const data = site.generic ? lowerInt(b, args[2]!).e : id('capc_buf');
    const len = site.generic ? lowerInt(b, args[3]!).e : id('capc_len');
    const what = `${site.kind}(${site.generic ? 'KEY, ' : 'conn, '}${site.size}${site.generic ? ', DATA, LEN' : ''}) -> ${s.sink.name}`;
    const a = id('capc_a');
    const ident = this.identity?.sinkIdent(site.family, CHUNK_SCRATCH);
    const inner: CStmt[] = [
      { k: 'decl', type: 'struct capc_sink', name: 'capc_s', init: this.sinkInit(siteId) },
      ...(ident ? [ident] : []),
      site.kind === 'accumulate'
        ? {
            k: 'expr',
            e: call(
              'capc_accumulate',
              addr(id('capc_s')),
              addr(arrow(a, 'c')),
              arrow(a, 'buf'),
              dot(id('capc_ck'), 'key'),
              cast('const char *', data),
              len,
              num(site.direction),
              cast('struct capc_acc_rules', r2r4AccumulatorRules(site.size, this.options)),
              num(site.user ? 1 : 0),
              addr(id(CHUNK_SCRATCH)),
            ),
            comment: 'R1-R4, R9-R11: sizes and masks from rules.ts, applied in stdlib/capc-capture.bpf.h',
          }
        : {
            k: 'expr',
            e: call(
              'capc_capture',
              addr(id('capc_s')),
              addr(arrow(a, 'c')),
              dot(id('capc_ck'), 'key'),
              cast('const char *', data),
              len,
              num(site.direction),
              num(site.size),
              num(site.user ? 1 : 0),
              addr(id(CHUNK_SCRATCH)),
            ),
            comment: `${site.size}-byte records, never truncated`,
          },
    ];
    b.emit({
      k: 'block',
      comment: `${what}: site ${siteId}`,
      body: [
        {
          k: 'decl',
          type: 'struct capc_conn_key',
          name: 'capc_ck',
          init: {
            k: 'init',
            fields: [
              ['key', key],
              ['tgid', call('capc_pid')],
            ],
          },
          src: b.src,
        },
        {
          k: 'decl',
          type: `struct ${f.struct} *`,
          name: 'capc_a',
          init: cast(
            `struct ${f.struct} *`,
            call(
              'capc_conn_get',
              addr(id(f.map)),
              addr(id('capc_ck')),
              addr(id(f.zero)),
              addr(id('capc_next_conn')),
              addr(id(STATS_MAP)),
              num(f.fullCounter),
            ),
          ),
          src: b.src,
        },
        {
          k: 'if',
          c: a,
          then: inner,
          else: [
            r11Count(
              STATS_MAP,
              f.refusedBytes,
              'R11: no room for this connection: its bytes are counted, not captured',
              len,
            ),
          ],
          src: b.src,
        },
      ],
    });
  }

  // ---- close and flush ---------------------------------------------------

  /** A probe capc adds on SSL_shutdown/SSL_free/close(2): end the connection. */
  closeBody(inst: ProbeInstance): CStmt[] {
    const { family, sig } = inst.closeFor!;
    const f = this.families.get(family);
    const line = inst.spec.span.line;
    const key: CStmt = {
      k: 'decl',
      type: 'struct capc_conn_key',
      name: 'capc_ck',
      init: {
        k: 'init',
        fields: [
          ['key', abiArg(sig, sig.argIndex, sig.connArg)],
          ['tgid', call('capc_pid')],
        ],
      },
      src: line,
    };
    const forget = this.identity?.forget(family);
    // Identity only (no capture of this family): forget the closed connection's socket.
    if (!f) return [key, ...(forget ? [forget] : []), { k: 'return', e: num(0), src: line }];
    const ident = this.identity?.sinkIdent(family, CHUNK_SCRATCH);
    return [
      key,
      {
        k: 'decl',
        type: `struct ${f.struct} *`,
        name: 'capc_a',
        init: call('bpf_map_lookup_elem', addr(id(f.map)), addr(id('capc_ck'))),
        src: line,
      },
      {
        k: 'if',
        c: { k: 'un', op: '!', e: id('capc_a') },
        then: [...(forget ? [forget] : []), { k: 'return', e: num(0) }],
        src: line,
      },
      { k: 'decl', type: 'struct capc_sink', name: 'capc_s', init: this.sinkInit(f.endId), src: line },
      ...(ident ? [ident] : []),
      ...(forget ? [forget] : []),
      {
        k: 'if',
        c: bin(
          '!=',
          call('__sync_val_compare_and_swap', addr(dot(arrow(id('capc_a'), 'c'), 'busy')), num(0), num(1)),
          num(0),
        ),
        then: [
          {
            k: 'expr',
            e: bin('=', dot(arrow(id('capc_a'), 'c'), 'closed'), num(1)),
            comment: 'busy elsewhere: the flusher ends it',
          },
          { k: 'return', e: num(0) },
        ],
        src: line,
      },
      {
        k: 'if',
        c: call(
          'capc_conn_end',
          addr(id('capc_s')),
          addr(arrow(id('capc_a'), 'c')),
          dot(id('capc_ck'), 'key'),
          id('CAPC_REC_CLOSE'),
          num(f.bufMask),
        ),
        then: [
          {
            k: 'expr',
            e: bin('=', dot(arrow(id('capc_a'), 'c'), 'closed'), num(1)),
            comment: 'the sink is full: the flusher sends the totals later',
          },
          { k: 'expr', e: bin('=', dot(arrow(id('capc_a'), 'c'), 'busy'), num(0)) },
        ],
        else: [
          {
            k: 'expr',
            e: call('bpf_map_delete_elem', addr(id(f.map)), addr(id('capc_ck'))),
            comment: 'the key may be reused: the next connection gets a new id',
          },
        ],
        src: line,
      },
      { k: 'return', e: num(0), src: line },
    ];
  }

  /** The flusher: per family a for_each callback, and the raw_tp program capc runs. */
  flusher(): CFunction[] {
    const fns: CFunction[] = [];
    const body: CStmt[] = [
      {
        k: 'decl',
        type: 'struct capc_flush_args',
        name: 'fa',
        init: {
          k: 'init',
          fields: [
            ['idle_ns', { k: 'index', e: id('ctx'), i: num(0) }],
            ['final', { k: 'index', e: id('ctx'), i: num(1) }],
            ['ctx', id('ctx')],
            ['remaining', num(0)],
          ],
        },
      },
    ];
    for (const f of this.families.values()) {
      const cb = `capc_flush_${familyIdent(f.name)}`.slice(0, 40);
      const mask = f.bufMask;
      const c = addr(arrow(id('a'), 'c'));
      const sinkFields = (this.sinkInit(f.endId) as Extract<CExpr, { k: 'init' }>).fields.map(
        ([k, v]): [string, CExpr] => [k, k === 'ctx' ? arrow(id('fa'), 'ctx') : v],
      );
      fns.push({
        name: cb,
        returns: 'long',
        params: `void *map, struct capc_conn_key *k, struct ${f.struct} *a, struct capc_flush_args *fa`,
        comment: `flush idle batches of ${f.name} connections (R9); at exit, send every connection's totals`,
        body: [
          { k: 'decl', type: 'struct capc_sink', name: 'capc_s', init: { k: 'init', fields: sinkFields } },
          {
            k: 'if',
            c: bin('||', arrow(id('fa'), 'final'), dot(arrow(id('a'), 'c'), 'closed')),
            then: [
              {
                k: 'if',
                c: bin(
                  '!=',
                  call('__sync_val_compare_and_swap', addr(dot(arrow(id('a'), 'c'), 'busy')), num(0), num(1)),
                  num(0),
                ),
                then: [
                  { k: 'expr', e: bin('+=', arrow(id('fa'), 'remaining'), num(1)) },
                  { k: 'return', e: num(0) },
                ],
              },
              {
                k: 'if',
                c: call(
                  'capc_conn_end',
                  addr(id('capc_s')),
                  c,
                  arrow(id('k'), 'key'),
                  {
                    k: 'cond',
                    c: dot(arrow(id('a'), 'c'), 'closed'),
                    t: id('CAPC_REC_CLOSE'),
                    f: id('CAPC_REC_FINAL'),
                  },
                  num(mask),
                ),
                then: [
                  {
                    k: 'expr',
                    e: bin('=', dot(arrow(id('a'), 'c'), 'busy'), num(0)),
                    comment: 'the sink is full: try again on the next pass',
                  },
                  { k: 'expr', e: bin('+=', arrow(id('fa'), 'remaining'), num(1)) },
                ],
                else: [{ k: 'expr', e: call('bpf_map_delete_elem', id('map'), id('k')) }],
              },
              { k: 'return', e: num(0) },
            ],
          },
          ...(f.accSize
            ? [
                {
                  k: 'expr',
                  e: call(
                    'capc_acc_idle',
                    addr(id('capc_s')),
                    c,
                    arrow(id('k'), 'key'),
                    arrow(id('fa'), 'idle_ns'),
                    num(mask),
                    num(0),
                  ),
                } as CStmt,
              ]
            : []),
          { k: 'return', e: num(0) },
        ],
      });
      body.push({ k: 'expr', e: call('bpf_for_each_map_elem', addr(id(f.map)), id(cb), addr(id('fa')), num(0)) });
    }
    body.push({ k: 'comment', text: 'connections still to end: capc runs the final pass again' });
    body.push({ k: 'return', e: cast('int', arrow(id('fa_p'), 'remaining')) });
    body.splice(1, 0, { k: 'decl', type: 'struct capc_flush_args *', name: 'fa_p', init: addr(id('fa')) });
    fns.push({
      section: 'raw_tp',
      name: 'capc_flush',
      params: '__u64 *ctx',
      body,
      comment:
        'run by capc every idle_flush_ms/2 (args: idle ns, final): no tracing program may use timers, so userspace keeps time',
    });
    return fns;
  }

  /** struct capc_flush_args, used by the flusher. */
  flushArgsStruct(): CStruct {
    return {
      kind: 'struct',
      name: 'capc_flush_args',
      fields: [
        { name: 'idle_ns', type: '__u64', offset: 0, size: 8 },
        { name: 'final', type: '__u64', offset: 8, size: 8 },
        { name: 'ctx', type: 'void *', offset: 16, size: 8 },
        { name: 'remaining', type: '__u64', offset: 24, size: 8 },
      ],
      size: 32,
      assertLayout: false,
    };
  }

  siteId(site: CaptureSite): number {
    return this.siteIds.get(site)!;
  }

  manifest(): ManifestCapture {
    return {
      sink: {
        kind: this.info.sink.kind,
        map: CAPTURE_SINK,
        size: this.info.sink.size,
        ...(this.info.sink.pcapng !== undefined ? { pcapng: this.info.sink.pcapng } : {}),
      },
      flushProgram: 'capc_flush',
      idleFlushMs: this.program.config.idleFlushMs,
      sites: this.info.sites.map((s) => {
        const inst = this.program.instances[s.instance]!;
        return {
          id: this.siteIds.get(s)!,
          kind: s.kind,
          size: s.size,
          family: s.family,
          direction: s.direction,
          probe: probeName(inst.attach),
          span: s.stmt.span,
        };
      }),
      families: [...this.families.values()].map((f) => ({
        name: f.name,
        map: f.map,
        endId: f.endId,
        valueSize: f.valueSize,
        accumulateSize: f.accSize,
        bufferSize: f.bufSize,
        maxConnections: this.program.config.maxConnections,
        fullCounter: f.fullCounter,
        refusedBytesCounter: f.refusedBytes,
      })),
      dropRecords: this.dropRecords,
      dropBytes: this.dropBytes,
      ...(this.info.decode ? { decode: this.info.decode } : {}),
    };
  }
}
