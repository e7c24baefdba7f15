// compiler/2-analyze/analyzed.ts — the data analysis hands to lowering: probe
// instances (one per expanded attach point) with side tables of types and
// resolved calls, the program's maps, and its configuration.
import type {
  CallExpr,
  Expr,
  FieldExpr,
  ProbeItem,
  ProbeSpecNode,
  SinkStmt,
  SourceFile,
  Span,
} from '../../grammar/ast.js';
import type { CaptureSignature, CloseSignature, FamilyName } from '../../stdlib/signatures.js';
import type { TracepointField, TracepointFormat } from '../host.js';
import type { PacketRef } from './check-packet.js';
import type { AttachPoint } from './probes.js';
import type { FormatSegment } from './printf-format.js';
import type { SyscallEvent } from './syscall-form.js';
import type { RecordField, TypeTable } from './type-table.js';
import type { AddressSpace, ResolvedType, StackMode, Type } from './types.js';
import type { BuiltinCallInfo } from '../builtins/index.js';

export interface VarInfo {
  name: string;
  type: Type;
  span: Span;
}

/** What a map holds: an aggregation, a plain integer, a string, a record, tuple or array (`value`), or a resolved value. */
export type MapKind =
  | 'count'
  | 'sum'
  | 'avg'
  | 'min'
  | 'max'
  | 'stats'
  | 'hist'
  | 'lhist'
  | 'int'
  | 'str'
  | 'value'
  /** A stack, a symbol, an address, a time...: a value capc resolves when printing. */
  | 'resolved';

export interface LhistParams {
  min: number;
  max: number;
  step: number;
}

export interface MapInfo {
  name: string;
  kind: MapKind;
  /** undefined: a scalar map (`@x`); otherwise one type per key. */
  keys: Type[] | undefined;
  /** First place the map was written, for diagnostics. */
  span: Span;
  /** lhist(): its range, the same at every write. */
  lhist?: LhistParams;
  /** String maps: the capacity of the value (the largest string stored). */
  strSize?: number;
  /** Resolved-value maps: the type of the value (every write stores the same kind). */
  resolved?: ResolvedType;
  /** `value` maps: the record, tuple or array every entry holds. */
  valueType?: Type;
  /** Integer maps first written with a typed pointer: reads give that pointer type back. */
  pointer?: Type;
  /**
   * Integer maps holding pointers: the address space every write agreed on
   * (`@filename[tid] = args->filename` keeps a user pointer, so a later
   * str(@filename[tid]) reads user memory), or 'mixed'.
   */
  space?: AddressSpace | 'mixed';
}

export type CallInfo =
  /** A builtin defined as a table entry (compiler/builtins/): its data is for its own lowering. */
  | BuiltinCallInfo
  | { fn: 'printf' | 'cat' | 'system'; segments: FormatSegment[]; format: string }
  | { fn: 'str'; size: number; space: AddressSpace; dynamicLength: boolean }
  | { fn: 'buf'; size: number; space: AddressSpace; dynamicLength: boolean }
  | { fn: 'exit'; code: number }
  | { fn: 'lhist'; params: LhistParams }
  | { fn: 'print'; top: number; div: number }
  | { fn: 'time'; format: string }
  | { fn: 'join'; delim: string; space: AddressSpace }
  | { fn: 'ntop'; family: 'arg' | 4 | 6 }
  | { fn: 'ustack' | 'kstack'; frames: number; mode: StackMode }
  | { fn: 'macaddr'; space: AddressSpace }
  | { fn: 'strftime'; format: string }
  | { fn: 'cgroup_path'; filter: string }
  /** signal(SIG): a signal number known when compiling, or (undefined) the argument's value at run time. */
  | { fn: 'signal'; sig?: number }
  /** pton("addr"): the address's 4 or 16 bytes, made when compiling. */
  | { fn: 'pton'; bytes: Uint8Array }
  | {
      fn:
        | 'count'
        | 'sum'
        | 'avg'
        | 'min'
        | 'max'
        | 'stats'
        | 'hist'
        | 'delete'
        | 'clear'
        | 'zero'
        | 'usym'
        | 'ksym'
        | 'printValue';
    };

/** A probe whose payload a capture signature describes (see stdlib/signatures.ts). */
export interface CaptureMode {
  sig: CaptureSignature;
  /**
   * 'return': the entry stashes the arguments by thread; the body runs when the
   * call returns, with the returned length. 'entry': the body runs at entry with
   * the requested length (writes only, opt-in: one trap instead of two).
   */
  at: 'return' | 'entry';
  /** Tracepoints: the sys_exit_* tracepoint paired with the probe. */
  exitFormat?: TracepointFormat;
}

/** One accumulate()/capture() statement in one probe instance. */
export interface CaptureSite {
  index: number;
  instance: number;
  stmt: SinkStmt;
  kind: 'accumulate' | 'capture';
  /** N: batch size (accumulate) or chunk size (capture); a power of two (R1). */
  size: number;
  /** Connections of one family share state: 'openssl', 'syscalls', or 'user' for the 4-argument form. */
  family: string;
  /** The 4-argument form: KEY, N, DATA, LEN given explicitly. */
  generic: boolean;
  /** 0 egress (written), 1 ingress (read). */
  direction: 0 | 1;
  /** The payload is in user memory. */
  user: boolean;
}

export interface CaptureInfo {
  sites: CaptureSite[];
  /** Per family: the accumulate size all its sites share (undefined: capture() only). */
  families: Map<string, { accumulateSize?: number; chunkSize: number; span: Span }>;
  /** pcapng: a ring buffer whose streams capc also writes to `pcapng` (a file name). */
  sink: { kind: 'ringbuf' | 'perfbuf'; size: number; pcapng?: string };
  /** Protocols `-> decode(...)` asked for (['auto'] for all). */
  decode?: string[];
  /** Captures through TLS signatures: with -c/-p they follow the process tree (capc_scope), not one pid. */
  scope: boolean;
  /**
   * TLS discovery at run time: 'capture' when the program has `uprobe:tls:`
   * probes (capc attaches them to every TLS stack it finds); 'watch' when it
   * probes TLS stacks explicitly (capc counts calls into the ones it does not
   * probe, to warn at exit); undefined otherwise.
   */
  discovery?: 'capture' | 'watch';
}

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
  /**
   * Each `p->f`, `s.f`, `t.0` and `args.NAME` of a uprobe: the record field
   * (offset, type, bitfield) or tuple element it reads.
   */
  members: Map<FieldExpr, RecordField>;
  /**
   * Expressions that stand for another: a macro or enum constant of the
   * script (its value), `sizeof` (its size), `args.NAME` of a uprobe (argN).
   */
  substitutes: Map<Expr, Expr>;
  /** Packet probes: what each `pkt...` expression reads (check-packet.ts). */
  packet?: Map<Expr, PacketRef>;
  /** What calls to builtins with a lookUp (kaddr, uaddr, cgroupid) asked the host (collect: host-lookups.ts); each entry reads its own. */
  lookups: Map<CallExpr, unknown>;
  vars: Map<string, VarInfo>;
  /** Set when the probe captures through a signature. */
  capture?: CaptureMode;
  /** Set for probes capc adds itself to see connections close. */
  closeFor?: { family: string; sig: CloseSignature };
  /** Set when the probe reads the connection's identity (laddr, raddr, lport, rport, fd). */
  usesIdentity?: boolean;
  /**
   * Set for probes capc adds itself to learn which socket a TLS connection
   * uses: SSL_set_fd, or a socket syscall made inside a captured TLS call
   * (compiler/3-lower/plan-identity.ts).
   */
  identFor?: { family: FamilyName; how: 'set-fd' | 'syscall' };
  /** Set for probes capc adds because a signature covers a sibling (SSL_write covers SSL_write_ex): the instance it comes from. */
  coveredBy?: number;
  /**
   * Set for programs capc adds for capture scope and TLS discovery: following
   * the -c/-p process tree (fork, exit), seeing new executables (exec), and
   * counting calls into TLS stacks the program does not probe (tls-watch).
   */
  internal?: 'scope-fork' | 'scope-exit' | 'exec-watch' | 'tls-watch';
  /**
   * A syscalls:* tracepoint whose syscall number is known (collect:
   * syscall-form.ts): it can run from the raw tracepoint sys_enter/sys_exit;
   * lowering chooses (lower-syscalls.ts).
   */
  syscall?: SyscallEvent;
}

/** Connection identity (plan-capture: plan-identity.ts; the kernel side is stdlib/capc-ident.bpf.h). */
export interface IdentityInfo {
  /** The families whose connections' sockets the kernel learns. */
  families: FamilyName[];
  /** Families whose probes read the identity but whose sockets capc cannot learn (Go): it stays unknown. */
  unknown?: FamilyName[];
}

export interface ProgramConfig {
  /** Capacity of str() when no size is given (bytes, including the NUL). */
  strlen: number;
  /** Entries of each hash map. */
  maxMapKeys: number;
  /** Bytes of the event ring buffer (power of two, multiple of the page size). */
  ringbufSize: number;
  /** Bytes of the capture ring (ringbuf sink) or per-CPU perf buffer (perfbuf sink). */
  /** 0: the sink's default (plan-capture.ts DEFAULT_CAPTURE_RING). */
  captureRingSize: number;
  /** Entries of each connection table (one per family). */
  maxConnections: number;
  /** A partial batch on a quiet connection is flushed after this long (ms). */
  idleFlushMs: number;
  /** Capture writes at entry (1: one trap, requested length) instead of at return (0: exact). */
  captureWritesAtEntry: number;
  /** Unread bytes in a ring that make a producer wake the consumer (R10); 0: lowering picks a quarter of the ring. */
  wakeupBytes: number;
  /** Most iterations of a while loop (R6); reaching it is counted and reported. */
  loopLimit: number;
  /** 1: a program that captures TLS through explicit probes also watches for TLS stacks it does not probe, and warns at exit. */
  tlsCheck: number;
}

export interface AnalyzedProgram {
  source: SourceFile;
  instances: ProbeInstance[];
  maps: Map<string, MapInfo>;
  config: ProgramConfig;
  positional: string[];
  /** accumulate()/capture() statements, in program order (check). */
  sites: CaptureSite[];
  /** What capture needs: families, sink, the probes that see connections close (plan-capture). */
  capture: CaptureInfo | undefined;
  /** Set when any connection's identity is learned (every capture of a known family, and identity builtins). */
  identity?: IdentityInfo;
  /** Builtins that need values from userspace at load time. */
  uses: { cpid: boolean; elapsed: boolean };
  /** The type model's names and records (lowering reads record fields through it). */
  types: TypeTable;
}
