// runtime/protocols/connection.ts — decoding one captured connection: find
// its protocol and which end the traced process is from the first bytes
// (the client's egress carries requests; a server's ingress does), then feed
// both directions to that protocol's conversation in the order they were
// captured, and turn what it reports into exchanges with the connection's
// two ends. Bytes seen before a protocol is recognised are counted, never
// guessed at: a connection picked up mid-conversation is recognised at a
// later turn whose bytes start a message.
import type { Conversation } from './conversation.js';
import {
  DEFAULT_LIMITS,
  type Endpoint,
  type Exchange,
  type ExchangeDraft,
  type Limits,
  type ProtocolName,
  type Role,
  type Side,
  type Stamp,
} from './exchange.js';
import { protocolModule, type ProtocolModule } from './registry.js';

/** What capc knows about a connection: its process, and its socket's ends once the kernel has learned them. */
export interface ConnIdentity {
  id: number;
  pid: number;
  comm: string;
  /** The socket's local and peer ends (a unix socket: its path, no port); null while not known. */
  local: { addr: string; port: number | null } | null;
  peer: { addr: string; port: number | null } | null;
  /** The process at the other end, when capc captures that end of the conversation too. */
  peerProcess?: { pid: number; comm: string } | null;
}

export interface DecodeOptions {
  /** Protocols to try. */
  protocols: ProtocolName[];
  /** The user named exactly one protocol: weaker signs will do, and a connection that is not it is reported. */
  forced: boolean;
  limits?: Limits;
}

/** Bytes of one direction looked at to recognise a protocol, and turns tried, at most. */
const DETECT_BYTES = 512;
const DETECT_TURNS = 6;

export class ConnectionDecoder {
  private conv: Conversation | undefined;
  private module: ProtocolModule | undefined;
  private side: Side | undefined;
  private lastDir: 0 | 1 | undefined;
  private state: 'detecting' | 'decoding' | 'unknown' = 'detecting';
  /** The run of chunks (one direction, since its turn began) being looked at. */
  private candidate: { dir: 0 | 1; chunks: { data: Buffer; stamp: Stamp }[]; bytes: number } | undefined;
  private turns = 0;
  /** Bytes not decoded because no protocol was recognised (yet); of those, bytes lost before it was. */
  skipped = 0;
  private lostEarly = 0;
  exchanges = 0;
  notDecoded = 0;

  constructor(
    readonly conn: ConnIdentity,
    private readonly opts: DecodeOptions,
    private readonly out: (x: Exchange) => void,
  ) {}

  get protocol(): ProtocolName | undefined {
    return this.module?.name;
  }

  get recognised(): boolean {
    return this.state === 'decoding';
  }

  /** Which end the traced process is, once the protocol is recognised. */
  get tracedSide(): Side | undefined {
    return this.side;
  }

  /** Given up: not a protocol capc decodes. */
  get gaveUp(): boolean {
    return this.state === 'unknown';
  }

  /** The connection's ends or the other end's process became known (or changed): later exchanges carry them. */
  identityChanged(): void {
    this.ends = undefined;
  }

  /** Captured bytes of direction `dir` (0 egress, 1 ingress), in stream order. */
  data(dir: 0 | 1, data: Buffer, stamp: Stamp): void {
    const turn = this.lastDir !== undefined && this.lastDir !== dir;
    const firstEver = this.lastDir === undefined;
    this.lastDir = dir;
    if (this.state === 'decoding') {
      this.conv!.data(this.role(dir), data, stamp, turn);
      return;
    }
    if (this.state === 'unknown') {
      this.skipped += data.length;
      return;
    }
    if (turn || firstEver || !this.candidate) {
      if (this.candidate) this.skipped += this.candidate.bytes;
      if (!turn && !firstEver) {
        // More of a direction already judged: not the start of a turn.
        this.skipped += data.length;
        return;
      }
      this.candidate = { dir, chunks: [], bytes: 0 };
      this.turns++;
    }
    const c = this.candidate;
    c.chunks.push({ data, stamp });
    c.bytes += data.length;
    this.tryDetect();
  }

  /** Bytes of `dir` lost (the kernel could not deliver them). */
  loss(dir: 0 | 1, bytes: number): void {
    if (this.state === 'decoding') {
      this.conv!.hole(this.role(dir), bytes);
      return;
    }
    this.skipped += bytes;
    this.lostEarly += bytes;
    if (this.candidate?.dir === dir) {
      this.skipped += this.candidate.bytes;
      this.candidate = undefined;
    }
  }

  /** The connection ended (`why`: closed, its process exited, capc stopped). */
  end(why: string): void {
    if (this.state === 'decoding') this.conv!.end(why);
    else if (this.state === 'detecting' && (this.opts.forced || this.hinted()) && this.turns) this.notThisProtocol();
  }

  private role(dir: 0 | 1): Role {
    return (dir === 0) === (this.side === 'client') ? 'client' : 'server';
  }

  /**
   * Recognise the protocol from a turn's first bytes. Content decides when it
   * is sure (every protocol tried strictly); otherwise the protocol the
   * server's port suggests (or the one the user forced) is tried with weaker
   * signs.
   */
  private tryDetect(): void {
    const c = this.candidate!;
    const first = c.chunks.length === 1 ? c.chunks[0]!.data : Buffer.concat(c.chunks.map((x) => x.data));
    const head = first.subarray(0, DETECT_BYTES);
    const hinted = this.hinted();
    const tries: { name: ProtocolName; relaxed: boolean }[] = this.opts.forced
      ? this.opts.protocols.map((name) => ({ name, relaxed: true }))
      : [
          ...this.opts.protocols.map((name) => ({ name, relaxed: false })),
          ...(hinted ?? []).map((name) => ({ name, relaxed: true })),
        ];
    let more = false;
    for (const { name, relaxed } of tries) {
      const m = protocolModule(name);
      const v = m.detect(head, relaxed);
      if (v === 'more') more = true;
      if (v !== 'client' && v !== 'server') continue;
      // The bytes are `v`'s; sent by the traced process (egress) or to it.
      const by: Role = v;
      this.side = (c.dir === 0) === (by === 'client') ? 'client' : 'server';
      this.module = m;
      this.state = 'decoding';
      this.conv = m.create({ emit: (x) => this.report(x), limits: this.opts.limits ?? DEFAULT_LIMITS }, first, by);
      this.candidate = undefined;
      if (this.lostEarly)
        // Bytes were lost before the protocol was recognised: what they held is not known.
        this.report(
          this.notDecodedDraft(
            `${this.lostEarly} bytes lost before ${m.name} was recognised (${this.skipped} bytes not decoded)`,
          ),
        );
      for (const ch of c.chunks) this.conv.data(by, ch.data, ch.stamp, false);
      return;
    }
    if (more && c.bytes < DETECT_BYTES) return;
    // Not a protocol start: wait for the next turn (a connection picked up mid-conversation).
    this.skipped += c.bytes;
    this.candidate = undefined;
    if (this.turns >= DETECT_TURNS) {
      if (this.opts.forced || hinted) this.notThisProtocol();
      this.state = 'unknown';
    }
  }

  /**
   * The protocol the server's port suggests (5432 PostgreSQL, 3306 MySQL,
   * 6379 Redis, 80/8080 HTTP...): the peer's port when the traced process is
   * the client, its own when it is the server. Which end it is, is not known
   * yet: the peer's port is looked at first.
   */
  private hinted(): ProtocolName[] | undefined {
    for (const port of [this.conn.peer?.port ?? null, this.conn.local?.port ?? null]) {
      if (port === null) continue;
      const name = this.opts.protocols.find((p) => protocolModule(p).ports.includes(port));
      if (name) return [name];
    }
    return undefined;
  }

  private notThisProtocol(): void {
    this.state = 'unknown';
    // A forced protocol, or the one the server's port suggests.
    const name = (this.hinted() ?? this.opts.protocols).join(', ');
    this.report(
      this.notDecodedDraft(
        `not ${name}: no message of it found in the first ${DETECT_TURNS} turns of the conversation`,
      ),
    );
  }

  private notDecodedDraft(why: string): ExchangeDraft {
    return {
      command: '(not decoded)',
      statement: null,
      rows: null,
      columns: null,
      status: null,
      error: null,
      notDecoded: why,
      start: null,
      end: null,
      bytesOut: 0,
      bytesIn: 0,
    };
  }

  private endpoint(mine: boolean): Endpoint {
    const c = this.conn;
    const at = mine ? c.local : c.peer;
    const other = mine ? undefined : c.peerProcess;
    return {
      addr: at?.addr ?? null,
      port: at?.port ?? null,
      pid: mine ? c.pid : (other?.pid ?? null),
      comm: mine ? c.comm : (other?.comm ?? null),
    };
  }

  /** The two ends, made once per connection (again if the process name or the identity changes). */
  private ends: { comm: string; client: Endpoint; server: Endpoint } | undefined;

  private report(d: ExchangeDraft): void {
    const side = this.side ?? 'client';
    if (!this.ends || this.ends.comm !== this.conn.comm)
      this.ends = {
        comm: this.conn.comm,
        client: this.endpoint(side === 'client'),
        server: this.endpoint(side === 'server'),
      };
    const login = this.conv?.login;
    // Built field by field: one object shape for every exchange (spreading drafts made this the hot spot).
    const x: Exchange = {
      protocol: this.module?.name ?? this.opts.protocols[0]!,
      conn: this.conn.id,
      side,
      client: this.ends.client,
      server: this.ends.server,
      user: login?.user ?? null,
      database: login?.database ?? null,
      command: d.command,
      statement: d.statement,
      statementTruncated: d.statementTruncated,
      fingerprint: d.fingerprint !== undefined ? d.fingerprint : (this.module?.fingerprint(d) ?? null),
      rows: d.rows,
      columns: d.columns,
      columnNames: d.columnNames,
      status: d.status,
      error: d.error,
      notDecoded: d.notDecoded,
      notes: d.notes,
      details: d.details,
      start: d.start,
      end: d.end,
      bytesOut: d.bytesOut,
      bytesIn: d.bytesIn,
      latencyNs: d.start !== null && d.end !== null && d.end >= d.start ? Number(d.end - d.start) : null,
    };
    this.exchanges++;
    if (x.notDecoded) this.notDecoded++;
    this.out(x);
  }
}
