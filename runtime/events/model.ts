// runtime/events/model.ts — the one event model every output consumes (text,
// JSON lines, and the terminal UI). The session produces these; renderers
// never look at raw records or the manifest.
import type { ManifestMapKind, ValueType } from '../../compiler/index.js';
import type { Span } from '../../diagnostics/source.js';
import type { Exchange } from './exchange.js';

/**
 * A value capc resolved for printing: a symbol, an address (ntop), or a stack
 * (`frames`, innermost first). Its text is what a key shows (`toString()`).
 */
export class ResolvedPart {
  constructor(
    readonly text: string,
    readonly frames?: string[],
    /** How a stack's frames are indented in a map key (perf's frames carry their own tab). */
    readonly keyIndent = '    ',
  ) {}
  toString(): string {
    return this.text;
  }
}

export type KeyPart = bigint | Buffer | ResolvedPart;

/** A record, tuple or array: its bytes and their layout (printed by runtime/format/values.ts). */
export interface CompositeValue {
  value: ValueType;
  bytes: Buffer;
}

/** A decoded field: an integer, a string's bytes, a resolved value (symbol, stack, address), buf() bytes, or a composite. */
export type PrintfValue = bigint | Buffer | ResolvedPart | { buf: Buffer } | CompositeValue;

export interface MapEntry {
  key: KeyPart[];
  /**
   * count/sum/int/min/max: the value. avg/stats: the average (total / count).
   * hist/lhist: the total count. str: 0 (the string is in `str`).
   */
  value: bigint;
  /** avg/stats: the combined count and total. */
  avg?: { count: bigint; total: bigint };
  /** hist/lhist: counts per bucket (hist: index 0 is `(..., 0)`, 1 is `[0]`, k+2 is `[2^k, 2^(k+1))`; lhist: 0 below min, then one per step, then `[max, ...)`). */
  buckets?: bigint[];
  /** str: the string's bytes. */
  str?: Buffer;
  /** resolved: the stack, symbol, address... as capc resolved it (value 0). */
  resolved?: ResolvedPart;
  /** value: the record, tuple or array's bytes (laid out as the snapshot's `value`). */
  raw?: Buffer;
}

export interface MapSnapshot {
  name: string;
  kind: ManifestMapKind;
  /** False for a scalar map (`@x`): printed without brackets. */
  keyed: boolean;
  entries: MapEntry[];
  /** lhist: the range, for bucket labels. */
  lhist?: { min: number; max: number; step: number };
  /** value maps: the layout of each entry's value. */
  value?: ValueType;
}

/** One end of a connection: an address and port (inet, inet6), or a unix socket's path. */
export interface Endpoint {
  addr?: string;
  port?: number;
  /** unix: the path ('' when unnamed; an abstract name starts with '@'). */
  path?: string;
}

/**
 * The socket behind a captured connection, as the kernel saw it (stdlib/capc-ident.bpf.h),
 * seen from the traced process: `local` is its own end, `peer` the other one.
 */
export interface ConnIdent {
  /** socket: an open socket; not-socket: the fd is a file, a pipe or a terminal; no-fd: the fd was not open when capc looked. */
  state: 'socket' | 'not-socket' | 'no-fd';
  /** How capc learned it: the fd of a syscall capture, a socket syscall inside a TLS call, or SSL_set_fd. */
  learned: 'fd' | 'tls-syscall' | 'SSL_set_fd';
  /** The socket's fd in the process. */
  fd: number;
  /** inet, inet6, unix (another address family: its number); undefined when not a socket. */
  family?: 'inet' | 'inet6' | 'unix' | number;
  /** A socket: stream, dgram, seqpacket (another type: its number). Not a socket: pipe, file, char device... */
  type?: string | number;
  local?: Endpoint;
  peer?: Endpoint;
  /** The socket has a peer. */
  connected: boolean;
  /**
   * inet: its local port was bound by the program, as a connection a listening socket accepted has it (and a
   * client that bound its port first); false for a port connect() chose. Which end opened the connection.
   */
  portBound: boolean;
  /** Inode of the socket (socket:[inode] in /proc/PID/fd, `ss -e`). */
  inode: number;
  /** cgroup v2 id of the process when capc learned it. */
  cgroup: number;
  /** The thread capc learned it from. */
  tid: number;
}

/** A captured connection, as the reader knows it. */
export interface ConnInfo {
  /** Connection id, unique in the session (a reused key gets a new one). */
  id: number;
  /** The script's key: an SSL*, an fd... */
  key: bigint;
  pid: number;
  comm: string;
  /** The probe that first saw it. */
  probe: string;
  family: string;
  /** Its socket, once the kernel has learned it (it may come after the first bytes); undefined: not known. */
  ident?: ConnIdent;
}

/** A TLS stack discovery found and attached to. */
export interface TlsStackInfo {
  /** e.g. "OpenSSL 3", "Go crypto/tls (go1.19.8) in server". */
  name: string;
  family: string;
  /** The library or program the probes are on. */
  path: string;
  /** Processes in scope seen using it. */
  pids: number[];
  /** Probes attached to it. */
  probes: number;
}

/** A process that called into a TLS stack the program does not probe (counted by the tls-watch program). */
export interface MissedTls {
  pid: number;
  comm: string;
  stack: string;
  path: string;
  /** Calls per function. */
  calls: Record<string, number>;
  /** Probes that would capture it. */
  probe: string;
}

export type CapEvent =
  /** Probes are about to be attached (bpftrace prints "Attaching N probes..."). */
  | { kind: 'attaching'; probes: number }
  /** Detaching has taken over half a second (each tracepoint waits for the kernel): said once, so a slow exit does not look hung. */
  | { kind: 'detaching'; probes: number }
  /** Formatted printf output, exactly the bytes to print. */
  /** `latin1`: the same bytes as a latin1 string, when the decoder made one (see printf-event.ts). */
  | { kind: 'printf'; text: Buffer; readonly latin1?: string }
  /** Records a ring could not accept (R11), since the last report. */
  | { kind: 'lost'; ring: string; count: number }
  /** A while loop that reached its iteration limit (`where` is file:line), since the last report. */
  | { kind: 'loop-limit'; where: string; count: number; limit: number }
  /**
   * Calls whose predicate on the connection's identity passed only because the identity was not known yet, at
   * exit (W0910), for programs that do not capture: a capturing program's capture summary carries the count.
   */
  | { kind: 'identity-unknown'; count: number }
  /**
   * What an exporter (pcapng, metrics, otlp) could not export since the last report: `count` more
   * `unit` (packets, records, scrapes), `bytes` of payload in them when known, the last `reason`.
   */
  | { kind: 'export-loss'; sink: string; target: string; count: number; unit: string; bytes?: number; reason?: string }
  /** Map updates that failed because the map was full, since the last report. */
  | { kind: 'map-full'; map: string; count: number; maxEntries: number }
  /** The probes are detached and the rings drained; END runs next. What follows is the session's closing output. */
  | { kind: 'stopping' }
  /** Every non-empty map, at exit; or one map on print(@m, top, div) (top 0: all). */
  | { kind: 'maps'; maps: MapSnapshot[]; atExit: boolean; top?: number; div?: number }
  /** time(fmt): the formatted time, exactly the bytes to print. */
  | { kind: 'time'; text: Buffer }
  /** join(argv): the joined strings (text output adds a newline). */
  | { kind: 'join'; text: Buffer }
  /** print(value): its text, and its JSON (a number or a string). */
  | { kind: 'value'; text: Buffer; json: string }
  /** A cat() or system() record, decoded: the file name or command; the session performs it (output/cat-system.ts). */
  | { kind: 'action'; action: 'cat' | 'system'; arg: Buffer }
  /** cat(): the file's bytes (at most 10,240). */
  | { kind: 'cat'; text: Buffer }
  /** system(): what the command wrote to its stdout. */
  | { kind: 'system'; text: Buffer }
  /** -k/-kk: a helper call failed (its code `rc`, negative) at `span` of the script named `source`. */
  | { kind: 'helper-error'; helper: string; rc: number; span: Span; sourceLine: string; source: string }
  /** A cat() that could not read its file: bpftrace's message. */
  | { kind: 'action-error'; action: 'cat'; message: string }
  /**
   * Captured bytes, in stream order, for one direction of a connection: `len`
   * bytes at `offset` (absent: data.length). `data` holds them when an output
   * asked for them (see Renderer.payloadNeed); otherwise it is empty (the
   * bytes went to the stream files, or are older than what the terminal UI
   * keeps). `ts`/`tsLast`: kernel times of the first and last fragment.
   */
  | {
      kind: 'capture';
      conn: ConnInfo;
      dir: 0 | 1;
      offset: number;
      data: Buffer;
      len?: number;
      ts: bigint;
      tsLast: bigint;
      tid: number;
      site: number;
    }
  /** The kernel learned a connection's socket (conn.ident is set from now on). */
  | { kind: 'capture-conn'; conn: ConnInfo }
  /** Bytes of a stream that never arrived (the kernel counted them as dropped). */
  | { kind: 'capture-loss'; conn: ConnInfo; dir: 0 | 1; offset: number; bytes: number }
  /** A connection closed (or was still open when capc stopped). */
  /** closed: a close was traced; exited: its process exited without one (ended after a quiet while); neither: still open at exit. */
  | {
      kind: 'capture-end';
      conn: ConnInfo;
      closed: boolean;
      exited?: boolean;
      bytes: [number, number];
      lost: [number, number];
    }
  /** A request and its response, decoded from a connection's streams (--decode; runtime/protocols/). */
  | { kind: 'exchange'; x: Exchange }
  /** Decoding totals at exit. */
  | {
      kind: 'decode-summary';
      /** Connections whose protocol was recognised, by protocol; and those that were not. */
      recognised: Record<string, number>;
      unrecognised: number;
      exchanges: number;
      notDecoded: number;
      /** Bytes of connections (or parts of them) no decoder read. */
      skippedBytes: number;
      /** Exchanges seen from both ends of one conversation, shown once from the client's side (not in `exchanges`). */
      paired: number;
    }
  /** TLS stacks discovery attached to (`uprobe:tls:`, --tls): at start, then new ones as they appear (late). */
  | { kind: 'tls-stacks'; stacks: TlsStackInfo[]; late: boolean }
  /** TLS capc found but cannot probe (stripped, unsupported Go, functions missing), with what it tried. */
  | { kind: 'tls-problem'; message: string }
  /** At exit: processes whose TLS calls went through stacks the program does not probe. */
  | { kind: 'tls-missed'; processes: MissedTls[] }
  /** Capture totals at exit: what the kernel dropped and what the reader saw lost. */
  | {
      kind: 'capture-summary';
      connections: number;
      bytes: [number, number];
      records: number;
      lostBytes: number;
      droppedBytes: number;
      droppedRecords: number;
      refusedConnections: number;
      unpairedReturns: number;
      /** When bytes were dropped: the capture ring (a power of two) that would have held the largest burst. */
      neededRing?: number;
      /** The capture ring's size. */
      ringSize?: number;
      /** Calls whose predicate on the connection's identity passed because the identity was not known yet. */
      identityUnknown: number;
      /** What the program captures from, for the "no connection" warning (probe names). */
      probed?: string[];
    };

/** How much captured payload an output needs in 'capture' events: all of it, each stream's most recent `tail` bytes, or none. */
export type PayloadNeed = 'all' | 'none' | { tail: number };

/** Stream files whose bytes the session writes itself, off the main thread, straight from ring memory. */
export interface DirectStreamBytes {
  /**
   * The file of this stream is open: write its bytes to `fd` (which is then
   * the writer's to close), the byte at stream offset `base` at the file's
   * start (0, but for a continuation file: runtime/output/stream-files.ts).
   */
  adopt(conn: number, dir: 0 | 1, fd: number, base: number): void;
  /** No file for this stream: its bytes are not written. */
  skip(conn: number, dir: 0 | 1): void;
  /** The stream is over: close its file once what is waiting for it is written. */
  release(conn: number, dir: 0 | 1): void;
}

export interface Renderer {
  event(e: CapEvent): void;
  /** Flush and finish (after the last event). */
  end(): void;
  /** What of the captured payload this output needs (absent: all of it). */
  payloadNeed?(): PayloadNeed;
  /**
   * True when the output only writes printf text as bytes (plain text to a
   * file, pipe or tty), so the text of many printf records may come as one
   * event: the session then formats them natively (runtime/format/native-printf.ts).
   */
  printfRuns?(): boolean;
  /** Offered when the session can write stream files itself; an output that writes them takes it (returns true). */
  useDirectStreamBytes?(bytes: DirectStreamBytes): boolean;
}

/** The most any of several outputs needs. */
export function combinedNeed(needs: PayloadNeed[]): PayloadNeed {
  if (needs.includes('all')) return 'all';
  const tails = needs.filter((n): n is { tail: number } => typeof n === 'object').map((n) => n.tail);
  return tails.length ? { tail: Math.max(...tails) } : 'none';
}
