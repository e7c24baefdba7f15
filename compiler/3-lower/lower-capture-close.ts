// compiler/3-lower/lower-capture-close.ts — how captured connections end
// (R9): the probes capc adds on each captured family's close calls
// (SSL_shutdown, SSL_free, close(2)...), which flush the connection's batch
// and send its byte totals, and the flusher, a raw_tp program capc runs on a
// timer for idle batches and once more at exit for every connection still
// open. The flushing itself is capc_conn_end and capc_acc_idle in
// stdlib/capc-capture.bpf.h; the masks are the tables' (rules.ts).
import type { ProbeInstance } from '../2-analyze/analyzed.js';
import {
  addr,
  arrow,
  bin,
  call,
  cast,
  dot,
  id,
  num,
  type CExpr,
  type CFunction,
  type CStmt,
  type CStruct,
} from './c-ir.js';
import { CHUNK_SCRATCH, familyIdent, type CaptureIdentity, type CaptureTables } from './capture-tables.js';
import { abiArg } from './lower-capture-stash.js';

/** A probe capc adds on SSL_shutdown/SSL_free/close(2): end the connection. */
export function closeBody(tables: CaptureTables, identity: CaptureIdentity | undefined, inst: ProbeInstance): CStmt[] {
  const { family, sig } = inst.closeFor!;
  const f = tables.families.get(family);
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
  const forget = identity?.forget(family);
  // Identity only (no capture of this family): forget the closed connection's socket.
  if (!f) return [key, ...(forget ? [forget] : []), { k: 'return', e: num(0), src: line }];
  const ident = identity?.sinkIdent(family, CHUNK_SCRATCH);
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
    { k: 'decl', type: 'struct capc_sink', name: 'capc_s', init: tables.sinkInit(f.endId), src: line },
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
export function flusher(tables: CaptureTables): CFunction[] {
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
  for (const f of tables.families.values()) {
    const cb = `capc_flush_${familyIdent(f.name)}`.slice(0, 40);
    const mask = f.bufMask;
    const c = addr(arrow(id('a'), 'c'));
    const sinkFields = (tables.sinkInit(f.endId) as Extract<CExpr, { k: 'init' }>).fields.map(
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
export function flushArgsStruct(): CStruct {
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
