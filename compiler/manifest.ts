// compiler/manifest.ts — the versioned contract between compiler and runtime.
// Everything the runtime must know about a compiled program — probes and how
// to attach them, maps and their key/value layouts, record layouts on each
// ring, printf formats, counters, load-time constants — is here, written by
// lowering next to the C it describes. The runtime reads it through
// compiler/index.ts. Self-contained: its types are its own (spans are the
// shared diagnostics/source.ts ones), never the grammar's or the analysis's,
// so what the runtime may rely on is exactly what is written here. The
// version changes whenever a change here would mislead a runtime built for
// the previous one; the runtime checks it before loading (manifestProblem).
import type { Span } from '../diagnostics/source.js';

export const MANIFEST_VERSION = 10;

/** Why this capc cannot use `m` (another manifest version, or not a manifest), or undefined when it can. */
export function manifestProblem(m: unknown): string | undefined {
  const version = (m as { version?: unknown } | null)?.version;
  if (typeof m !== 'object' || m === null || version === undefined) return 'it is not a capc manifest';
  if (version !== MANIFEST_VERSION)
    return `it has manifest version ${String(version)}; this capc reads version ${MANIFEST_VERSION}`;
  return undefined;
}

/** A printf conversion as the runtime formats it. */
export type Conv = 'd' | 'i' | 'u' | 'x' | 'X' | 'o' | 'c' | 's' | 'p' | 'r' | 'rx' | 'rh';

/**
 * printf format, parsed once by the compiler (compiler/2-analyze/printf-format.ts).
 * `bits`: the width an integer conversion prints at, from its length
 * modifier as C reads a 64-bit argument (none: 32, h: 16, hh: 8, l/ll/j/z/t:
 * 64), so `%x` of -1 is ffffffff and `%lx` ffffffffffffffff, as in bpftrace.
 */
export type FormatSegment =
  /** Literal bytes, as a latin1 string (one char per byte). */
  | { lit: string }
  | { conv: Conv; flags: string; width?: number; precision?: number; arg: number; bits?: 8 | 16 | 32 | 64 };

/** Protocols the runtime decodes from captured streams (`-> decode(...)`, `--decode`). */
export const DECODE_PROTOCOLS = ['postgres', 'mysql', 'http', 'redis'] as const;

export interface Manifest {
  version: typeof MANIFEST_VERSION;
  source: { name: string };
  probes: ManifestProbe[];
  maps: ManifestMap[];
  rings: ManifestRing[];
  events: ManifestEvent[];
  counters: ManifestCounter[];
  /** Load-time constants (`.rodata.capc`), filled in by the runtime before load. */
  rodata: {
    section: string;
    size: number;
    fields: { name: 'cpid' | 'start_ns' | 'scope'; offset: number; size: number }[];
  };
  /** Name of the per-CPU counter map (drops, failed map updates), indexed by counters[].index. */
  statsMap: string;
  config: { strlen: number; maxMapKeys: number; ringbufSize: number; wakeupBytes: number; loopLimit?: number };
  uses: { cpid: boolean; elapsed: boolean };
  /** Payload capture, when the program has accumulate()/capture() statements. */
  capture?: ManifestCapture;
  /** Connection identity, when the kernel learns connections' sockets (captures of known families, identity builtins). */
  identity?: ManifestIdentity;
}

export interface ManifestIdentity {
  /**
   * The families whose connections' sockets the kernel learns, and their identity table (`struct capc_conn_key`
   * -> `struct capc_ident`, IDENT_RECORD.size bytes): the TLS families share one (their keys are live objects of
   * one process), syscall capture has its own.
   */
  families: { name: string; map: string; maxEntries: number }[];
}

/** Layout of `struct capc_cap_rec` (stdlib/capc-capture.bpf.h), checked by _Static_assert in the C. */
export const CAPTURE_RECORD = {
  size: 80,
  fields: {
    id: 0,
    key: 8,
    conn: 16,
    offset: 24,
    ts: 32,
    pid: 40,
    tid: 44,
    len: 48,
    dir: 52,
    kind: 53,
    comm: 56,
    tsLast: 72,
  },
} as const;
/** data: payload; close/final: two u64 byte totals; ident: `struct capc_ident` (IDENT_RECORD). */
export const CAPTURE_KIND = { data: 0, close: 1, final: 2, ident: 3 } as const;

/**
 * Layout of `struct capc_ident` (stdlib/capc-ident.bpf.h), the payload of an
 * ident record: the connection's socket as the kernel saw it. Integers are
 * little-endian except the address bytes (network order). Checked by
 * _Static_assert in the C.
 */
export const IDENT_RECORD = {
  size: 288,
  pathSize: 108,
  fields: {
    cgroup: 0,
    ino: 8,
    fd: 16,
    tid: 20,
    state: 24,
    how: 25,
    connected: 26,
    flags: 27,
    family: 28,
    type: 30,
    lport: 32,
    rport: 34,
    lpathLen: 36,
    rpathLen: 38,
    laddr: 40,
    raddr: 56,
    lpath: 72,
    rpath: 180,
  },
  /** state: 0 not known, 1 a socket, 2 an fd that is not a socket, 3 no such fd. */
  states: { socket: 1, notSocket: 2, noFd: 3 },
  /** how: 1 the fd of a syscall capture, 2 a socket syscall inside a TLS call, 3 SSL_set_fd. */
  how: { fd: 1, syscall: 2, setFd: 3 },
  /** flags: the local port was bound by the program (a connection a listening socket accepted). */
  flags: { portBound: 1 },
} as const;

export interface ManifestCapture {
  /** `pcapng`: the kernel side is a ring buffer; capc also writes the streams to this file (`-> pcapng("FILE")`). */
  sink: { kind: 'ringbuf' | 'perfbuf'; map: string; size: number; pcapng?: string };
  /** raw_tp program capc runs (BPF_PROG_TEST_RUN) to flush idle batches; args: idle ns, final flag. */
  flushProgram: string;
  idleFlushMs: number;
  sites: ManifestCaptureSite[];
  families: ManifestCaptureFamily[];
  /** Counter indexes: records and payload bytes the sink could not take (R11). */
  dropRecords: number;
  dropBytes: number;
  /** Protocols to decode from the captured streams (`-> decode(...)`): names, or ['auto']. */
  decode?: string[];
  /** Captures through uprobe signatures: with -c/-p capc fills this tgid map with the command and its descendants. */
  scope?: { map: string };
  /**
   * TLS discovery (runtime/tls/): 'capture' attaches the `uprobe:tls:` programs
   * (attach.discover) to every TLS stack found; 'watch' attaches the tls-watch
   * counter to the stacks the program does not probe. New executables arrive
   * on `execRing` (struct capc_exec_ev); capc marks those it looked at in
   * `knownMap` (struct capc_exe_key); `watchMap` holds the counts
   * (struct capc_watch_key -> struct capc_watch_val).
   */
  discovery?: {
    mode: 'capture' | 'watch';
    execRing: string;
    execRingSize: number;
    knownMap: string;
    watchMap?: string;
  };
}

export interface ManifestCaptureSite {
  /** Record header id of this site's records. */
  id: number;
  kind: 'accumulate' | 'capture';
  size: number;
  family: string;
  direction: 0 | 1;
  /** Probe the site is in, as written, and the function/tracepoint it captures. */
  probe: string;
  span: Span;
}

export interface ManifestCaptureFamily {
  name: string;
  /** Connection table (BPF map name). */
  map: string;
  /** Record id of close/final records. */
  endId: number;
  /** Bytes per connection in the table (header + 2N buffer for accumulate). */
  valueSize: number;
  accumulateSize?: number;
  /** accumulate: bytes of the batch buffer, 2N (R2); 0 without accumulate. */
  bufferSize: number;
  maxConnections: number;
  /** Counter: fragments of new connections refused because the table was full. */
  fullCounter: number;
  /** Counter: bytes of those fragments (not captured, counted). */
  refusedBytesCounter: number;
}

export type ManifestAttach =
  | { kind: 'begin' }
  | { kind: 'end' }
  /**
   * via: a syscalls:* tracepoint run from the raw tracepoint sys_enter or
   * sys_exit; `program` is that raw tracepoint's dispatcher, shared by every
   * probe with the same `via` (attach it once: a BPF link of its own).
   */
  | { kind: 'tracepoint'; category: string; name: string; via?: 'sys_enter' | 'sys_exit' }
  | { kind: 'rawtracepoint'; name: string }
  /**
   * discover: attached by TLS discovery to every binary that has `func` (path
   * is 'tls'). retInsns: the return half of a Go capture, attached as uprobes
   * on each RET instruction of `func` (no uretprobes in Go: stacks move).
   */
  | {
      kind: 'uprobe';
      ret: boolean;
      path: string;
      func: string;
      offset: number;
      target: string;
      discover?: boolean;
      retInsns?: boolean;
    }
  | { kind: 'usdt'; path: string; provider: string; name: string; target: string }
  | { kind: 'interval'; periodNs: string }
  /** On every CPU: `hz` samples a second (frequency mode), or one every `periodNs`. */
  | { kind: 'profile'; hz?: number; periodNs?: string }
  | { kind: 'kprobe'; ret: boolean; func: string; offset: number }
  | { kind: 'fentry'; ret: boolean; func: string }
  /** software:/hardware: a perf event (PERF_TYPE_SOFTWARE / _HARDWARE, `config`) on every CPU, a sample every `period`. */
  | { kind: 'perf'; type: 'software' | 'hardware'; event: string; config: number; period: number }
  /** A hardware breakpoint (PERF_TYPE_BREAKPOINT) on `length` bytes at `address` (hex) in the -p/-c process. */
  | { kind: 'watchpoint'; address: string; length: number; mode: string }
  /** Packet probes: a BPF link on the interface (XDP, or tcx in one direction), named as capc resolved it. */
  | { kind: 'xdp'; iface: string }
  | { kind: 'tc'; iface: string; direction: 'ingress' | 'egress' };

export interface ManifestProbe {
  id: number;
  /**
   * What the program does: the user's probe, the entry half of a capture pair, a close watcher, a program of
   * the -c/-p process tree or of TLS discovery, an identity learner.
   */
  role?: 'probe' | 'capture-entry' | 'capture-return' | 'close' | 'scope' | 'exec-watch' | 'tls-watch' | 'identity';
  /** Capture programs and identity learners: the signature family (discovery attaches by family and function). */
  family?: string;
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
  /**
   * int/str: as laid out. buf: a __u32 length then the bytes. inet, usym, ustack:
   * `struct capc_inet { u64 af; u8 addr[16]; }`, `struct capc_usym { u64 addr;
   * u32 pid; u32 probe; u64 ip; }`, `struct capc_ustack { s64 id; u32 pid; u32
   * probe; u64 ip; }` (stdlib/capc.bpf.h), resolved by capc when printing.
   * kstack: `struct capc_kstack { s64 id; }`. ksym, strftime, cgroup_path: a
   * u64 (address, boot-time ns, cgroup id). macaddr: six bytes.
   * value: a record, tuple or array, laid out as `value` says.
   */
  type:
    | 'int'
    | 'str'
    | 'buf'
    | 'inet'
    | 'usym'
    | 'ustack'
    | 'kstack'
    | 'ksym'
    | 'macaddr'
    | 'strftime'
    | 'cgroup_path'
    | 'value';
  signed?: boolean;
  /** ustack, kstack: the stack trace map holding the frames, and how many it keeps. */
  stackMap?: string;
  frames?: number;
  /** ustack, kstack: printed perf's way (`address symbol+offset (module)`), not bpftrace's (`symbol+offset`). */
  mode?: 'perf';
  /** strftime: the format (an __u64 of boot-time nanoseconds). */
  format?: string;
  /** cgroup_path: which hierarchies to name (a wildcard on their names; an __u64 cgroup id). */
  filter?: string;
  /** value: how its bytes are laid out. */
  value?: ValueType;
}

/**
 * The layout of a record, tuple or array value (and of what it holds), as
 * the kernel side wrote it, so capc prints it as bpftrace does: records
 * `{ .a = 1, .b = x }`, arrays `[1,2]`, tuples `(1, x)`. Offsets are from the
 * start of the value. A bitfield is `bits.size` bits from bit `bits.offset`
 * of the little-endian bytes at `offset`. Pointers are integers.
 */
export type ValueType =
  | { t: 'int'; size: 1 | 2 | 4 | 8; signed: boolean; bits?: { offset: number; size: number } }
  | { t: 'str'; size: number }
  | { t: 'record'; size: number; fields: { name: string; offset: number; type: ValueType }[] }
  | { t: 'array'; size: number; count: number; elem: ValueType }
  | { t: 'tuple'; size: number; elems: { offset: number; type: ValueType }[] };

export type ManifestMapKind =
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
  | 'resolved';

export interface ManifestMap {
  /** `@name` as written (`@` for the anonymous map). */
  name: string;
  /** BPF map name (C identifier). */
  cName: string;
  /**
   * count/sum/int: an __s64. avg/stats: `{ s64 count; s64 total; }`. min/max:
   * `{ s64 value; s64 set; }` (a CPU's slot counts only once set). hist/lhist:
   * an __s64 count per (key, bucket). str: the string's bytes. value: a
   * record, tuple or array laid out as `value` says.
   */
  kind: ManifestMapKind;
  /** value maps: the layout of each entry's value. */
  value?: ValueType;
  perCpu: boolean;
  /** null for a scalar map (a single __u64 key of 0). `fields` are the user's keys; `size` the whole key. */
  key: { size: number; fields: LayoutField[] } | null;
  /** resolved: the value, one field at offset 0 (a stack id, an address, ...), resolved by capc as a key part is. */
  resolvedValue?: LayoutField;
  /** hist/lhist: the __u64 bucket index stored in the key after the user's keys. */
  bucket?: { offset: number };
  lhist?: { min: number; max: number; step: number };
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

/**
 * A record on a ring: `struct capc_hdr { __u32 id; __u32 flags; }` then the fields.
 * printf: formatted with `segments`. time: no fields, strftime `format` at read
 * time. join: field `n` (strings read) then `a0`..`a15`, joined by `delim`.
 * value: print(value) of field `v`.
 */
export interface ManifestEvent {
  id: number;
  /** cat, system: a printf-formatted file name or command, acted on by capc when it reads the record. */
  kind: 'printf' | 'time' | 'join' | 'value' | 'cat' | 'system' | 'helper_error';
  ring: string;
  size: number;
  fields: LayoutField[];
  segments?: FormatSegment[];
  format?: string;
  delim?: string;
  /** helper_error (-k): the helper whose failure the record reports (`probe_read_user_str`), and the line of `span`. */
  helper?: string;
  sourceLine?: string;
  span: Span;
}

export interface ManifestCounter {
  index: number;
  kind:
    | 'ring-drop'
    | 'map-full'
    | 'loop-limit'
    | 'capture-drop-records'
    | 'capture-drop-bytes'
    | 'capture-refused-bytes'
    | 'conn-table-full'
    | 'unpaired-return'
    | 'identity-unknown';
  /**
   * Ring name for ring-drop, `@map` or stack map name for map-full, `file:line` for loop-limit, family for
   * conn-table-full, probe for unpaired-return and for identity-unknown (calls whose predicate on the connection's
   * identity passed because the identity was not known yet).
   */
  subject: string;
}

/**
 * Control records (on the `control` ring): `struct capc_ctl { __u32 kind;
 * __u32 arg; __u64 pos; __u64 a; __u64 b; }`. `pos` is the events ring's
 * producer position when the record was made: capc prints every event before
 * it first, so print() and clear() keep their place among printf output.
 * exit: arg = exit code. print: arg = map index in the manifest, a = top, b =
 * divisor. clear, zero: arg = map index. 32 bytes.
 */
export const CTL_EXIT = 1;
export const CTL_PRINT = 2;
export const CTL_CLEAR = 3;
export const CTL_ZERO = 4;
/** Size of the record header on event rings. */
export const EVENT_HEADER_SIZE = 8;
