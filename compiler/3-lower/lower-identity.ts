// compiler/3-lower/lower-identity.ts — lowers connection identity: the
// identity tables (keyed like the connection tables: one the TLS families
// share, one for syscall capture), the per-thread map that marks threads
// inside a TLS call, the probes that learn a TLS connection's socket
// (SSL_set_fd, and the socket syscalls a marked thread makes), the identity
// builtins (laddr, raddr, lport, rport, fd) and predicates that read them,
// the identity record a captured connection sends once, and forgetting a
// closed connection's identity. What is learned where is planned by
// plan-identity.ts.
// The logic is hand-written C in stdlib/capc-ident.bpf.h.
// Predicates that read the identity are lowered by lower-identity-predicate.ts.
import type * as A from '../../grammar/ast.js';
import type { AnalyzedProgram, IdentityInfo, ProbeInstance } from '../2-analyze/analyzed.js';
import { probeName } from '../2-analyze/probes.js';
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
  type CGlobal,
  type CMapDecl,
  type CStmt,
} from './c-ir.js';
import type { FnBuilder, IdentityReader, IntVal } from './fn-builder.js';
import type { CaptureIdentity } from './capture-tables.js';
import type { CaptureLowering } from './lower-capture.js';
import { addressMatch, identityPredicate } from './lower-identity-predicate.js';
import type { ManifestIdentity } from '../manifest.js';
import type { Resources } from './resources.js';

/** Per-thread mark: the SSL* a thread is inside an SSL call on, while its socket is still to be learned. */
const IN_SSL_MAP = 'capc_in_ssl';
const IDENT_ZERO = 'capc_ident_zero';
/** SSL calls in progress whose thread is marked: 0 (the steady state) lets every syscall go at one load. */
const MARKED = 'capc_marked';
const MARK_ENTRIES = 16384;
/** Local copy of what builtins read, and whether it is known (set by load()). */
const IDC = 'capc_idc';
const IDK = 'capc_idk';

type Family = IdentityInfo['families'][number];

/** The identity table of a family's connections: TLS keys are live objects of one process, so their families share one. */
function identityMap(family: string): string {
  return family === 'syscalls' ? 'capc_i_syscalls' : 'capc_i_tls';
}

export class IdentityLowering implements CaptureIdentity, IdentityReader {
  private readonly families: Set<Family>;
  /** Some probe learns sockets from syscalls: return-time TLS probes mark their threads. */
  readonly marking: boolean;

  constructor(
    info: IdentityInfo,
    private readonly res: Resources,
    private readonly program: AnalyzedProgram,
    private readonly capture: CaptureLowering | undefined,
  ) {
    this.families = new Set(info.families);
    this.marking = program.instances.some((i) => i.identFor?.how === 'syscall');
  }

  has(family: string): boolean {
    return this.families.has(family as Family);
  }

  /** The identity table of a family. */
  map(family: string): string {
    return identityMap(family);
  }

  /** Does this probe's entry half mark its thread (a TLS call captured at return, of a family learned so)? */
  marks(inst: ProbeInstance): boolean {
    const family = inst.capture?.sig.family;
    return this.marking && !!family && family !== 'syscalls' && this.has(family) && inst.capture!.at === 'return';
  }

  maps(): CMapDecl[] {
    const byMap = new Map<string, Family[]>();
    for (const f of this.families) byMap.set(this.map(f), [...(byMap.get(this.map(f)) ?? []), f]);
    const decls: CMapDecl[] = [...byMap].map(([name, fams]) => ({
      name,
      type: 'BPF_MAP_TYPE_LRU_HASH',
      key: 'struct capc_conn_key',
      value: 'struct capc_ident',
      maxEntries: this.program.config.maxConnections,
      comment: `identity of ${fams.join(', ')} connections (socket, addresses, fd), learned once per connection; forgotten at close (least recently used first when full: it is learned again)`,
    }));
    if (this.marking)
      decls.push({
        name: IN_SSL_MAP,
        type: 'BPF_MAP_TYPE_LRU_HASH',
        key: '__u64',
        value: '__u64',
        maxEntries: MARK_ENTRIES,
        comment:
          'threads inside a TLS call whose socket is not known yet: pid_tgid -> its connection key (SSL*, session...)',
      });
    return decls;
  }

  globals(): CGlobal[] {
    return [
      {
        type: 'static const struct capc_ident',
        name: IDENT_ZERO,
        init: '{}',
        comment: 'zeroed identity for new entries (read-only data, not the stack: R5)',
      },
      ...(this.marking
        ? [
            {
              type: '__u64',
              name: MARKED,
              init: '0',
              comment:
                'TLS calls in progress whose thread is marked in capc_in_ssl; 0 once every socket is known, and then every syscall stops at this load (a marked call whose return is never seen leaves it above 0: only slower, never wrong)',
            },
          ]
        : []),
    ];
  }

  // ---- learning a TLS connection's socket ------------------------------------

  /** SSL_set_fd(ssl, fd), or a socket syscall of a thread marked inside a TLS call. */
  learnerBody(inst: ProbeInstance): CStmt[] {
    const line = inst.spec.span.line;
    const how = inst.identFor!.how;
    const map = addr(id(this.map(inst.identFor!.family)));
    const key = (k: CExpr, tgid: CExpr): CStmt => ({
      k: 'decl',
      type: 'struct capc_conn_key',
      name: 'capc_ck',
      init: {
        k: 'init',
        fields: [
          ['key', k],
          ['tgid', tgid],
        ],
      },
      src: line,
    });
    if (how === 'set-fd') {
      const body: CStmt[] = [
        key(cast('__u64', call('PT_REGS_PARM1', id('ctx'))), call('capc_pid')),
        {
          k: 'expr',
          e: call(
            'capc_ident_learn',
            map,
            addr(id('capc_ck')),
            cast('__s64', cast('__s32', call('PT_REGS_PARM2', id('ctx')))),
            id('CAPC_LEARN_SET_FD'),
            addr(id(IDENT_ZERO)),
          ),
          comment: 'the SSL reads and writes this fd from now on',
          src: line,
        },
      ];
      const conns = this.capture?.families.get('openssl');
      if (conns)
        body.push(
          {
            k: 'decl',
            type: `struct ${conns.struct} *`,
            name: 'capc_a',
            init: call('bpf_map_lookup_elem', addr(id(conns.map)), addr(id('capc_ck'))),
            src: line,
          },
          {
            k: 'if',
            c: id('capc_a'),
            then: [
              {
                k: 'expr',
                e: bin('=', dot(arrow(id('capc_a'), 'c'), 'ident'), num(0)),
                comment: 'an SSL reused on another socket: its records carry the new identity',
              },
            ],
            src: line,
          },
        );
      body.push({ k: 'return', e: num(0), src: line });
      return body;
    }
    return [
      {
        k: 'if',
        c: bin(
          '||',
          un('!', id(MARKED)),
          un('!', call('capc_ident_syscall', { k: 'index', e: arrow(id('ctx'), 'args'), i: num(1) })),
        ),
        then: [{ k: 'return', e: num(0) }],
        src: line,
      },
      { k: 'comment', text: 'a socket syscall: is this thread inside a TLS call whose socket is not known yet?' },
      { k: 'decl', type: '__u64', name: 'capc_id', init: call('bpf_get_current_pid_tgid'), src: line },
      {
        k: 'decl',
        type: '__u64 *',
        name: 'capc_ssl',
        init: call('bpf_map_lookup_elem', addr(id(IN_SSL_MAP)), addr(id('capc_id'))),
        src: line,
      },
      {
        k: 'if',
        c: un('!', id('capc_ssl')),
        then: [{ k: 'return', e: num(0) }],
        src: line,
      },
      key(un('*', id('capc_ssl')), bin('>>', id('capc_id'), num(32))),
      {
        k: 'if',
        c: call(
          'capc_ident_learn',
          map,
          addr(id('capc_ck')),
          cast(
            '__s64',
            cast(
              '__s32',
              call(
                'PT_REGS_PARM1_CORE_SYSCALL',
                cast('struct pt_regs *', { k: 'index', e: arrow(id('ctx'), 'args'), i: num(0) }),
              ),
            ),
          ),
          id('CAPC_LEARN_SYSCALL'),
          addr(id(IDENT_ZERO)),
        ),
        then: [
          {
            k: 'expr',
            e: call('bpf_map_delete_elem', addr(id(IN_SSL_MAP)), addr(id('capc_id'))),
            comment: 'learned: the rest of this call is not watched',
          },
        ],
        src: line,
      },
      { k: 'return', e: num(0), src: line },
    ];
  }

  /** Entry half of a TLS call: mark the thread while the connection's socket is unknown (`mark`, the stash's field, tells the return). */
  entryMark(connSlot: CExpr, mark: CExpr, line: number): CStmt[] {
    return [
      {
        k: 'decl',
        type: 'struct capc_conn_key',
        name: 'capc_ik',
        init: {
          k: 'init',
          fields: [
            ['key', connSlot],
            ['tgid', bin('>>', id('capc_id'), num(32))],
          ],
        },
        src: line,
      },
      {
        k: 'if',
        c: call('capc_ident_wanted', addr(id(identityMap('tls'))), addr(id('capc_ik'))),
        then: [
          {
            k: 'expr',
            e: call(
              'bpf_map_update_elem',
              addr(id(IN_SSL_MAP)),
              addr(id('capc_id')),
              addr(dot(id('capc_ik'), 'key')),
              id('BPF_ANY'),
            ),
            comment: "identity: the socket syscall this call makes names the connection's socket",
          },
          { k: 'expr', e: bin('=', mark, num(1)) },
          { k: 'expr', e: call('__sync_fetch_and_add', addr(id(MARKED)), num(1)) },
        ],
        src: line,
      },
    ];
  }

  /** Return half: the call is over, the thread is no longer watched. */
  unmark(): CStmt {
    return {
      k: 'if',
      c: dot(id('capc_st'), 'mark'),
      then: [
        {
          k: 'expr',
          e: call('bpf_map_delete_elem', addr(id(IN_SSL_MAP)), addr(id('capc_id'))),
          comment: 'identity: the TLS call is over',
        },
        { k: 'expr', e: call('__sync_fetch_and_sub', addr(id(MARKED)), num(1)) },
      ],
    };
  }

  // ---- reading it -------------------------------------------------------------

  /** Copy the connection's identity for the builtins and predicates of this probe (capc_idc, capc_idk). */
  load(b: FnBuilder): void {
    const family = b.inst.capture!.sig.family;
    const map = addr(id(this.map(family)));
    b.emit({ k: 'decl', type: 'struct capc_ident_core', name: IDC, init: { k: 'zeroinit' } });
    if (!this.has(family)) {
      // Go: capc does not learn the socket (plan-identity.ts); the identity stays unknown.
      b.emit({ k: 'expr', e: bin('=', dot(id(IDC), 'fd'), num(-1)) });
      b.emit({ k: 'decl', type: '__u64', name: IDK, init: num(0), comment: `identity: not learned for ${family}` });
      return;
    }
    b.emit({
      k: 'decl',
      type: 'struct capc_conn_key',
      name: 'capc_ik',
      init: {
        k: 'init',
        fields: [
          ['key', id('capc_conn')],
          ['tgid', call('capc_pid')],
        ],
      },
    });
    const entry =
      family === 'syscalls'
        ? call('capc_ident_of_fd', map, addr(id('capc_ik')), addr(id(IDENT_ZERO)))
        : call('bpf_map_lookup_elem', map, addr(id('capc_ik')));
    b.emit({
      k: 'decl',
      type: '__u64',
      name: IDK,
      init: call('capc_ident_load', entry, addr(id(IDC)), num(family === 'syscalls' ? 0 : 1)),
      comment:
        family === 'syscalls'
          ? "identity: the fd's socket, looked up the first time (capc-ident.bpf.h)"
          : 'identity: 1 once the socket syscalls inside TLS calls (or SSL_set_fd) have named the socket',
    });
  }

  /** lport, rport, fd: unknown reads 0 (fd: -1). */
  value(b: FnBuilder, name: string): IntVal {
    // Syscall capture: the key is the fd itself.
    if (name === 'fd' && b.inst.capture?.sig.family === 'syscalls')
      return { e: cast('__s64', cast('__s32', id('capc_conn'))), unsigned: false };
    if (name === 'fd') return { e: cast('__s64', dot(id(IDC), 'fd')), unsigned: false };
    return { e: cast('__u64', dot(id(IDC), name)), unsigned: true };
  }

  /** laddr, raddr as a printable address (struct capc_inet). */
  inet(name: string, dst: CExpr): CStmt {
    return { k: 'expr', e: call('capc_inet_ident', addr(dst), addr(id(IDC)), num(name === 'raddr' ? 1 : 0)) };
  }

  /** `raddr == "10.0.0.0/8"` (lower-identity-predicate.ts). */
  addrCompare(e: A.BinaryExpr): IntVal {
    return addressMatch(e, IDC);
  }

  /** A predicate that reads the identity, three-valued while it is unknown (lower-identity-predicate.ts). */
  predicate(b: FnBuilder, pred: A.Expr): void {
    identityPredicate(b, pred, {
      known: IDK,
      counter: this.res.counter('identity-unknown', probeName(b.inst.attach)),
      source: this.program.source.text,
    });
  }

  manifest(): ManifestIdentity {
    return {
      families: [...this.families].map((f) => ({
        name: f,
        map: this.map(f),
        maxEntries: this.program.config.maxConnections,
      })),
    };
  }

  // ---- capture and close ------------------------------------------------------

  /** In a capture site: send the connection's identity record once (capc_conn_ident in capc-capture.bpf.h). */
  sinkIdent(family: string, scratch: string): CStmt | undefined {
    if (!this.has(family)) return undefined;
    return {
      k: 'if',
      c: un('!', dot(arrow(id('capc_a'), 'c'), 'ident')),
      then: [
        {
          k: 'expr',
          e: call(
            'capc_conn_ident',
            addr(id('capc_s')),
            addr(arrow(id('capc_a'), 'c')),
            addr(id(this.map(family))),
            addr(id('capc_ck')),
            family === 'syscalls' ? cast('__s64', dot(id('capc_ck'), 'key')) : num(-1),
            addr(id(IDENT_ZERO)),
            addr(id(scratch)),
          ),
          comment: 'identity: once per connection, before its data',
        },
      ],
    };
  }

  /** In a close watcher: the key may be reused by another socket. */
  forget(family: string): CStmt | undefined {
    if (!this.has(family)) return undefined;
    return {
      k: 'expr',
      e: call('bpf_map_delete_elem', addr(id(this.map(family))), addr(id('capc_ck'))),
      comment: "identity: forgotten at close (the key's next connection may be another socket)",
    };
  }
}
