// runtime/protocols/exchange.ts — what the protocol decoders share: the
// protocols, the limits that keep a decoder's memory bounded, and an empty
// draft to fill in. The exchange's data types are part of the event model
// (events/exchange.ts) and re-exported here for the decoders.
import { DECODE_PROTOCOLS } from '../../compiler/index.js';
import type { ExchangeDraft } from '../events/exchange.js';

export type { Endpoint, Exchange, ExchangeDraft, ProtocolName, Role, Side, Stamp } from '../events/exchange.js';
export const PROTOCOLS = DECODE_PROTOCOLS;

/** What a decoder may keep; beyond these it counts, and says what it did not keep. */
export interface Limits {
  /** Bytes of one statement kept (the rest is counted and the statement marked truncated). */
  statementBytes: number;
  /** Bytes of one protocol message parsed in full (handshakes, column definitions, errors, headers). */
  messageBytes: number;
  /** Requests waiting for their response on one connection (pipelining); later ones are not decoded. */
  pending: number;
  /** Statement bytes kept for requests waiting for a response, on one connection. */
  pendingBytes: number;
  /** Prepared statements remembered per connection (oldest forgotten first). */
  prepared: number;
  /** Column names kept per result. */
  columnNames: number;
}

export const DEFAULT_LIMITS: Limits = {
  statementBytes: 1 << 20,
  messageBytes: 64 << 10,
  pending: 1024,
  pendingBytes: 8 << 20,
  prepared: 1024,
  columnNames: 256,
};

/** An empty draft: a decoder fills in what it learns. */
export function draft(command: string, start: bigint | null): ExchangeDraft {
  return {
    command,
    statement: null,
    rows: null,
    columns: null,
    status: null,
    error: null,
    notDecoded: null,
    start,
    end: null,
    bytesOut: 0,
    bytesIn: 0,
  };
}
