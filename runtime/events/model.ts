// runtime/events/model.ts — the one event model every output consumes (text,
// JSON lines, and the terminal UI). The session produces these; renderers
// never look at raw records or the manifest.

export type KeyPart = bigint | Buffer;

export interface MapEntry {
  key: KeyPart[];
  value: bigint;
}

export interface MapSnapshot {
  name: string;
  kind: 'count' | 'sum' | 'int';
  /** False for a scalar map (`@x`): printed without brackets. */
  keyed: boolean;
  entries: MapEntry[];
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
}

export type CapEvent =
  /** Probes are about to be attached (bpftrace prints "Attaching N probes..."). */
  | { kind: 'attaching'; probes: number }
  /** Formatted printf output, exactly the bytes to print. */
  | { kind: 'printf'; text: Buffer }
  /** Records a ring could not accept (R11), since the last report. */
  | { kind: 'lost'; ring: string; count: number }
  /** Map updates that failed because the map was full, since the last report. */
  | { kind: 'map-full'; map: string; count: number; maxEntries: number }
  /** The probes are detached and the rings drained; END runs next. What follows is the session's closing output. */
  | { kind: 'stopping' }
  /** Every non-empty map, at exit (or on print()). */
  | { kind: 'maps'; maps: MapSnapshot[]; atExit: boolean }
  /** Captured bytes, in stream order, for one direction of a connection. */
  | { kind: 'capture'; conn: ConnInfo; dir: 0 | 1; offset: number; data: Buffer; ts: bigint; tid: number; site: number }
  /** Bytes of a stream that never arrived (the kernel counted them as dropped). */
  | { kind: 'capture-loss'; conn: ConnInfo; dir: 0 | 1; offset: number; bytes: number }
  /** A connection closed (or was still open when capc stopped). */
  | { kind: 'capture-end'; conn: ConnInfo; closed: boolean; bytes: [number, number]; lost: [number, number] }
  /** Capture totals at exit: what the kernel dropped and what the reader saw lost. */
  | { kind: 'capture-summary'; connections: number; bytes: [number, number]; records: number; lostBytes: number; droppedBytes: number; droppedRecords: number; refusedConnections: number; unpairedReturns: number };

export interface Renderer {
  event(e: CapEvent): void;
  /** Flush and finish (after the last event). */
  end(): void;
}
