// runtime/protocols/stage.ts — decoding as a stage between the capture
// reader and the outputs: it watches the captured streams (data, loss
// markers, ends) go by, keeps one ConnectionDecoder per connection, and adds
// an `exchange` event for each request/response pair. The raw capture
// events pass on unchanged (or are held back when only exchanges are wanted).
// At the capture summary it ends the connections still open and adds the
// decoding totals. No I/O.
//
// A connection's ends come from its identity (the socket the kernel learned;
// `capture-conn` when it arrives after the first bytes). When both ends of
// one TCP conversation are captured on this machine (a client and a server
// on loopback, or both traced), the two connections are one conversation:
// one's local address and port are the other's peer. Its exchanges are then
// shown once, from the client's side (its latency is what the client waited,
// the network included), with the server's process filled in; the server's
// side only counts them (`paired` in the summary). A conversation is paired
// by its two addresses and ports, so it takes identities of inet sockets on
// both ends; unix sockets (whose client end is usually unnamed) are not paired.
// An end that has ended is remembered a while (the last ENDED_KEPT), since
// the server's last response often reaches capc after the client closed.
import type { CapEvent, ConnInfo, Endpoint, PayloadNeed, Renderer } from '../events/model.js';
import { ConnectionDecoder, type ConnIdentity, type DecodeOptions } from './connection.js';
import type { Exchange, Side, Stamp } from './exchange.js';

/** Ended ends of conversations remembered for pairing (the oldest forgotten first). */
const ENDED_KEPT = 4096;

/** What pairing needs of one end: a live decoder, or what was left of one when its connection ended. */
interface SocketEnd {
  conn: { pid: number; comm: string };
  gaveUp: boolean;
  tracedSide: Side | undefined;
}

/** The kernel times of a capture record's first and last fragment. */
function stampOf(e: { ts: bigint; tsLast: bigint }): Stamp {
  return { first: e.ts, last: e.tsLast };
}

type Ends = Pick<ConnIdentity, 'local' | 'peer'>;

/** The connection's two ends, from its socket (unix: the paths); null while not known. */
function endsOf(c: ConnInfo): Ends {
  const i = c.ident;
  if (!i || i.state !== 'socket' || typeof i.family !== 'string') return { local: null, peer: null };
  const end = (e: Endpoint | undefined) =>
    !e ? null : i.family === 'unix' ? (e.path ? { addr: e.path, port: null } : null) : { addr: e.addr!, port: e.port! };
  return { local: end(i.local), peer: end(i.peer) };
}

/** `addr:port>addr:port`, for inet sockets with both ends known; undefined otherwise. */
function pairKey(from: Ends['local'], to: Ends['peer']): string | undefined {
  if (!from || !to || from.port === null || to.port === null) return undefined;
  return `${from.addr}:${from.port}>${to.addr}:${to.port}`;
}

export class DecodeStage implements Renderer {
  private readonly conns = new Map<number, ConnectionDecoder>();
  /** Connections by `local>peer` (pairKey): the other end of a conversation is found by `peer>local`. */
  private readonly bySocket = new Map<string, SocketEnd>();
  private readonly socketOf = new Map<ConnectionDecoder, string>();
  /** Keys of ended ends still in bySocket, oldest first. */
  private readonly ended = new Set<string>();
  /** Server-side exchanges not shown because the client's side of the same conversation was (see above). */
  private paired = 0;
  private pairedNotDecoded = 0;
  private readonly recognised: Record<string, number> = {};
  private unrecognised = 0;
  private exchanges = 0;
  private notDecoded = 0;
  private skipped = 0;

  private opts: DecodeOptions | undefined;
  /** Also given the exchanges and the decoding totals (the exporters: they get the raw events elsewhere). */
  private readonly listeners: Renderer[] = [];

  /**
   * `raw`: pass the raw capture events (data, loss, end) on as well. Until
   * configure() is called with protocols, every event passes unchanged.
   */
  constructor(
    private readonly inner: Renderer,
    private readonly raw = true,
  ) {}

  /** Decode these protocols (undefined: decode nothing, pass everything on). */
  configure(opts: DecodeOptions | undefined): void {
    this.opts = opts;
  }

  /** Decoding reads every byte; otherwise the stage needs what the output behind it needs (the capture thread asks). */
  payloadNeed(): PayloadNeed {
    return this.opts ? 'all' : (this.inner.payloadNeed?.() ?? 'all');
  }

  /** printf events pass through to the output behind (the listeners get exchanges only). */
  printfRuns(): boolean {
    return this.inner.printfRuns?.() === true;
  }

  get active(): boolean {
    return this.opts !== undefined;
  }

  /** Give `r` the exchanges and the decoding totals too. */
  alsoTo(r: Renderer): void {
    this.listeners.push(r);
  }

  private added(e: CapEvent): void {
    this.inner.event(e);
    for (const l of this.listeners) l.event(e);
  }

  private decoder(c: ConnInfo): ConnectionDecoder {
    let d = this.conns.get(c.id);
    if (!d) {
      const conn: ConnIdentity = { id: c.id, pid: c.pid, comm: c.comm, local: null, peer: null };
      const nd: ConnectionDecoder = new ConnectionDecoder(conn, this.opts!, (x) => this.exchange(nd, x));
      d = nd;
      this.conns.set(c.id, d);
      this.identify(d, c);
    }
    // The process name can change (exec) after the first record.
    if (d.conn.comm !== c.comm) {
      d.conn.comm = c.comm;
      d.identityChanged();
      const other = this.counterpart(d);
      if (other) this.introduce(other, d);
    }
    return d;
  }

  /** The connection's socket is known (or changed): its ends, and the other end of its conversation if captured. */
  private identify(d: ConnectionDecoder, c: ConnInfo): void {
    const ends = endsOf(c);
    this.forget(d);
    d.conn.local = ends.local;
    d.conn.peer = ends.peer;
    d.identityChanged();
    const key = pairKey(ends.local, ends.peer);
    if (key === undefined) return;
    this.ended.delete(key); // a new connection on the same addresses and ports as one that ended
    this.bySocket.set(key, d);
    this.socketOf.set(d, key);
    const other = this.counterpart(d);
    if (other) {
      this.introduce(d, other);
      this.introduce(other, d);
    }
  }

  /** The conversation's other end, when capc captures it too (or did, until it ended a moment ago). */
  private counterpart(d: ConnectionDecoder): SocketEnd | undefined {
    const key = pairKey(d.conn.peer, d.conn.local);
    const other = key === undefined ? undefined : this.bySocket.get(key);
    return other !== d ? other : undefined;
  }

  /** `d`'s exchanges name `other`'s process as the other end (a live decoder: ended ones say nothing more). */
  private introduce(d: SocketEnd, other: SocketEnd): void {
    if (!(d instanceof ConnectionDecoder)) return;
    d.conn.peerProcess = { pid: other.conn.pid, comm: other.conn.comm };
    d.identityChanged();
  }

  /** `d`'s socket changed (its identity came again): its old key goes. */
  private forget(d: ConnectionDecoder): void {
    const key = this.socketOf.get(d);
    if (key === undefined) return;
    this.socketOf.delete(d);
    if (this.bySocket.get(key) === d) this.bySocket.delete(key);
  }

  /** `d` ended: what pairing needs of it stays a while, or goes now if its other end has ended too. */
  private endSocket(d: ConnectionDecoder): void {
    const key = this.socketOf.get(d);
    if (key === undefined) return;
    this.socketOf.delete(d);
    if (this.bySocket.get(key) !== d) return;
    const otherKey = pairKey(d.conn.peer, d.conn.local)!;
    if (this.ended.has(otherKey)) {
      // Both ends are over: the conversation is.
      this.ended.delete(otherKey);
      this.bySocket.delete(otherKey);
      this.bySocket.delete(key);
      return;
    }
    this.bySocket.set(key, {
      conn: { pid: d.conn.pid, comm: d.conn.comm },
      gaveUp: d.gaveUp,
      tracedSide: d.tracedSide,
    });
    this.ended.add(key);
    if (this.ended.size > ENDED_KEPT) {
      const oldest = this.ended.values().next().value!;
      this.ended.delete(oldest);
      this.bySocket.delete(oldest);
    }
  }

  /** Shown once per conversation: a server-side exchange whose client side capc decodes too is only counted. */
  private exchange(d: ConnectionDecoder, x: Exchange): void {
    if (x.side === 'server') {
      const other = this.counterpart(d);
      if (other && !other.gaveUp && other.tracedSide !== 'server') {
        this.paired++;
        if (x.notDecoded) this.pairedNotDecoded++;
        return;
      }
    }
    this.added({ kind: 'exchange', x });
  }

  event(e: CapEvent): void {
    if (!this.opts) return this.inner.event(e);
    switch (e.kind) {
      case 'capture':
        if (this.raw) this.inner.event(e);
        this.decoder(e.conn).data(e.dir, e.data, stampOf(e));
        return;
      case 'capture-loss':
        if (this.raw) this.inner.event(e);
        this.decoder(e.conn).loss(e.dir, e.bytes);
        return;
      case 'capture-conn':
        // Known before its first bytes (usually), so the other end of its conversation finds it early.
        if (this.conns.has(e.conn.id)) this.identify(this.conns.get(e.conn.id)!, e.conn);
        else this.decoder(e.conn);
        if (this.raw) this.inner.event(e);
        return;
      case 'capture-end': {
        const d = this.conns.get(e.conn.id);
        if (d) {
          d.end(e.closed ? 'the connection closed before the response' : 'its process exited before the response');
          this.retire(d);
        }
        if (this.raw) this.inner.event(e);
        return;
      }
      case 'capture-summary':
        for (const d of this.conns.values()) {
          d.end('capc stopped before the response');
          this.retire(d);
        }
        this.inner.event(e);
        this.added({
          kind: 'decode-summary',
          recognised: this.recognised,
          unrecognised: this.unrecognised,
          exchanges: this.exchanges - this.paired,
          notDecoded: this.notDecoded - this.pairedNotDecoded,
          skippedBytes: this.skipped,
          paired: this.paired,
        });
        return;
      default:
        this.inner.event(e);
    }
  }

  private retire(d: ConnectionDecoder): void {
    this.endSocket(d);
    this.conns.delete(d.conn.id);
    if (d.protocol && d.recognised) this.recognised[d.protocol] = (this.recognised[d.protocol] ?? 0) + 1;
    else this.unrecognised++;
    this.exchanges += d.exchanges;
    this.notDecoded += d.notDecoded;
    this.skipped += d.skipped;
  }

  end(): void {
    this.inner.end();
  }
}
