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

export type CapEvent =
  /** Probes are about to be attached (bpftrace prints "Attaching N probes..."). */
  | { kind: 'attaching'; probes: number }
  /** Formatted printf output, exactly the bytes to print. */
  | { kind: 'printf'; text: Buffer }
  /** Records a ring could not accept (R11), since the last report. */
  | { kind: 'lost'; ring: string; count: number }
  /** Map updates that failed because the map was full, since the last report. */
  | { kind: 'map-full'; map: string; count: number; maxEntries: number }
  /** Every non-empty map, at exit (or on print()). */
  | { kind: 'maps'; maps: MapSnapshot[]; atExit: boolean };

export interface Renderer {
  event(e: CapEvent): void;
  /** Flush and finish (after the last event). */
  end(): void;
}
