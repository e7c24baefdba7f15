// runtime/events/exchange.ts — the exchange event's data: one request/response
// pair a protocol decoder (runtime/protocols/) recognised in a connection's
// streams (a statement and its result, an HTTP request and its response, a
// Redis command and its reply, a login), with the connection's two ends.
// Part of the one event model (events/model.ts); pure data.
import { DECODE_PROTOCOLS } from '../../compiler/index.js';

export type ProtocolName = (typeof DECODE_PROTOCOLS)[number];

/** Which end of the connection the traced process is (whose egress carries the requests: the client). */
export type Side = 'client' | 'server';

/** Who sent a byte: the client (requests) or the server (responses). */
export type Role = 'client' | 'server';

/**
 * One end of a connection. `addr`/`port` are the socket's (IPv4, IPv6, or a
 * unix socket's path with no port), from the connection's identity: null
 * while the kernel has not told capc which socket it is. `pid`/`comm` are
 * known for the end capc traced, and for the other end when capc captures
 * that end of the conversation too; null otherwise.
 */
export interface Endpoint {
  addr: string | null;
  port: number | null;
  pid: number | null;
  comm: string | null;
}

/** Kernel timestamps (ns, CLOCK_MONOTONIC) of a chunk of bytes: its first and last fragment. */
export interface Stamp {
  first: bigint;
  last: bigint;
}

/** What a decoder says about one exchange; the connection driver adds who and where. */
export interface ExchangeDraft {
  /** The protocol operation: `query`, `execute`, `login`, `init_db`, `GET`, `SET`... */
  command: string;
  /** The request as sent (SQL text, `GET /path`, `SET key value`), or null when there is none or it was lost. */
  statement: string | null;
  /** The statement is longer than what was kept (Limits.statementBytes): this is its beginning. */
  statementTruncated?: boolean;
  /** Set by decoders that fingerprint from what they parsed (HTTP, Redis); SQL is fingerprinted from the text. */
  fingerprint?: string | null;
  /** Rows returned (or affected, when the server reports that instead); null when not a row-returning exchange. */
  rows: number | null;
  columns: number | null;
  columnNames?: string[];
  /** What the server said: a command tag (`SELECT 3`), `OK`, an HTTP status (`200 OK`), a reply type. */
  status: string | null;
  /** The server's error (`42P01: relation "x" does not exist`, `1064 (42000): ...`, `404 Not Found`). */
  error: string | null;
  /** Why (part of) this exchange could not be decoded; null when it was. */
  notDecoded: string | null;
  /** Extra facts: `copy in`, `upgraded to websocket`, `suspended`... */
  notes?: string[];
  /** Protocol-specific details (HTTP host and version, MySQL statement id...). */
  details?: Record<string, string | number | boolean>;
  /** Kernel time of the request's first byte and of the response's last (null when the response never came). */
  start: bigint | null;
  end: bigint | null;
  /** Bytes the client sent for this exchange, and the bytes of the server's answer. */
  bytesOut: number;
  bytesIn: number;
}

export interface Exchange extends Omit<ExchangeDraft, 'fingerprint'> {
  protocol: ProtocolName;
  /** capc's connection id (the `conn N` of capture output). */
  conn: number;
  /** Which end capc traced (both ends traced: the client's; protocols/stage.ts). */
  side: Side;
  client: Endpoint;
  server: Endpoint;
  user: string | null;
  database: string | null;
  fingerprint: string | null;
  /** From the request's first byte to the response's last, from kernel timestamps; null when unknown. */
  latencyNs: number | null;
}
