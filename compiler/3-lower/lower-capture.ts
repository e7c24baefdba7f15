// compiler/3-lower/lower-capture.ts — lowers payload capture, the entry point
// lower.ts uses: the accumulate()/capture() statements at their sites (each
// site's sizes and masks from rules.ts, the batching itself hand-written C in
// stdlib/capc-capture.bpf.h) and the capture part of the manifest. The rest
// has a file each: the connection tables, the sink and their declarations
// (capture-tables.ts), the two halves of a capture pair (lower-capture-pair.ts,
// lower-capture-stash.ts), the close watchers and the idle flusher (R9,
// lower-capture-close.ts).
import type * as A from '../../grammar/ast.js';
import type { AnalyzedProgram, CaptureInfo, CaptureSite, ProbeInstance } from '../2-analyze/analyzed.js';
import { probeName } from '../2-analyze/probes.js';
import type { ManifestCapture } from '../manifest.js';
import {
  addr,
  arrow,
  call,
  cast,
  dot,
  id,
  num,
  type CFunction,
  type CGlobal,
  type CMapDecl,
  type CStmt,
  type CStruct,
} from './c-ir.js';
import type { FnBuilder } from './fn-builder.js';
import { CaptureStashes } from './lower-capture-stash.js';
import { lowerInt } from './lower-expr.js';
import { STATS_MAP, type Resources } from './resources.js';
import { r11Count, r2r4AccumulatorRules, type LowerOptions } from './rules.js';
import { CAPTURE_SINK, CaptureTables, CHUNK_SCRATCH, type CaptureIdentity, type Family } from './capture-tables.js';
import { closeBody, flushArgsStruct, flusher } from './lower-capture-close.js';
import { capturePrologue, entryFunction, type PairContext } from './lower-capture-pair.js';

export class CaptureLowering {
  private identity: CaptureIdentity | undefined;
  private readonly siteIds = new Map<CaptureSite, number>();
  private readonly stashes: CaptureStashes;
  private readonly tables: CaptureTables;

  constructor(
    private readonly info: CaptureInfo,
    res: Resources,
    private readonly program: AnalyzedProgram,
    private readonly options: LowerOptions = {},
  ) {
    this.stashes = new CaptureStashes(res, () => this.identity);
    this.tables = new CaptureTables(info, res, program, this.stashes, options);
    for (const site of info.sites) this.siteIds.set(site, res.allocEventId());
  }

  /** The connection table of each captured family (capture-tables.ts). */
  get families(): ReadonlyMap<string, Family> {
    return this.tables.families;
  }

  /** Connection identity, when the program learns it: capture sends it and marks threads for it. */
  useIdentity(identity: CaptureIdentity | undefined): void {
    this.identity = identity;
  }

  get hasSites(): boolean {
    return this.tables.hasSites;
  }

  /** Defines and headers; the capture header reads CAPC_MAX_CHUNK. */
  defines(): { name: string; value: string; comment?: string }[] {
    return this.tables.defines();
  }

  structs(): CStruct[] {
    return this.tables.structs();
  }

  maps(): CMapDecl[] {
    return this.tables.maps();
  }

  globals(): CGlobal[] {
    return this.tables.globals();
  }

  // ---- capture pairs (lower-capture-pair.ts) ------------------------------

  private get pair(): PairContext {
    return { stashes: this.stashes, program: this.program, scope: !!this.info.scope };
  }

  /** The entry half: save the arguments until the call returns (lower-capture-stash.ts). */
  entryFunction(inst: ProbeInstance, params: string): CFunction {
    return entryFunction(this.pair, inst, params);
  }

  /** The start of the return half (or of an entry-time capture): bind conn, buf, len (and retval). */
  prologue(b: FnBuilder): void {
    capturePrologue(this.pair, b);
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
      { k: 'decl', type: 'struct capc_sink', name: 'capc_s', init: this.tables.sinkInit(siteId) },
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

  // ---- close and flush (lower-capture-close.ts) --------------------------

  /** A probe capc adds on SSL_shutdown/SSL_free/close(2): end the connection. */
  closeBody(inst: ProbeInstance): CStmt[] {
    return closeBody(this.tables, this.identity, inst);
  }

  /** The flusher: per family a for_each callback, and the raw_tp program capc runs. */
  flusher(): CFunction[] {
    return flusher(this.tables);
  }

  /** struct capc_flush_args, used by the flusher. */
  flushArgsStruct(): CStruct {
    return flushArgsStruct();
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
      dropRecords: this.tables.dropRecords,
      dropBytes: this.tables.dropBytes,
      ...(this.info.decode ? { decode: this.info.decode } : {}),
    };
  }
}
