// runtime/protocols/conversation.ts — what every protocol decoder shares: a
// byte queue per direction, the requests waiting for their response (in
// order: pipelined requests are answered in order), what the login said
// (user, database), and losing and finding its place again.
//
// A hole inside a message of known length does not disturb the framing: the
// decoder skips exactly the lost bytes and marks that exchange. A hole where
// a length or a delimiter was due loses the place in both directions: the
// requests waiting are reported as not decoded (their statements kept, never
// paired with a response that may not be theirs), and nothing is decoded
// until a provable new start: the client's bytes at its next turn (it speaks
// again after the server did) when they parse as the start of a request, and
// then the server's bytes at its next turn when exactly one request is in
// flight (a client waits for its answer before it sends the next) and they
// parse as the start of a response. What was skipped meanwhile is reported
// as one not-decoded exchange with its byte counts.
import { draft, type ExchangeDraft, type Limits, type Role, type Stamp } from './exchange.js';
import { ByteQueue } from './reader.js';

export interface DecoderContext {
  emit(x: ExchangeDraft): void;
  limits: Limits;
}

/** What the connection's login said. */
export interface LoginFacts {
  user: string | null;
  database: string | null;
  application: string | null;
}

/** A request waiting for (or reading) its response. */
export interface Pending {
  x: ExchangeDraft;
  /** Statement bytes it holds (counted against Limits.pendingBytes). */
  held: number;
}

/** Is this the start of a message? (`more`: not enough bytes yet to say.) */
export type Verdict = 'yes' | 'no' | 'more';

type DirState = 'ok' | 'lost' | 'probing';

/** Bytes looked at to decide whether a turn starts a message, at most. */
const PROBE_LIMIT = 64 << 10;

export abstract class Conversation<U extends Pending = Pending> {
  readonly queues: Record<Role, ByteQueue> = { client: new ByteQueue(), server: new ByteQueue() };
  readonly login: LoginFacts = { user: null, database: null, application: null };
  protected pending: U[] = [];
  private pendingBytes = 0;
  private readonly state: Record<Role, DirState> = { client: 'ok', server: 'ok' };
  private episode: { reason: string; skipped: Record<Role, number>; lost: number; start: bigint | null } | undefined;
  /** Why the rest of the connection is not decoded (TLS started, compressed, upgraded), once it is so. */
  stopped: string | undefined;
  /** Bytes no exchange has claimed yet (async messages, Sync...): the next exchange takes them. */
  private carry = { out: 0, in: 0 };

  constructor(protected readonly ctx: DecoderContext) {}

  /** Bytes from one side, in stream order; `turn`: the other side spoke since this side's previous bytes. */
  data(role: Role, chunk: Buffer, stamp: Stamp, turn: boolean): void {
    if (this.stopped || !chunk.length) return;
    const q = this.queues[role];
    if (this.state[role] === 'lost') {
      if (!turn || !this.mayResync(role)) {
        this.episode!.skipped[role] += chunk.length;
        return;
      }
      this.state[role] = 'probing';
    }
    q.push(chunk, stamp);
    if (this.state[role] === 'probing') {
      const v = this.startsHere(role, q);
      if (v === 'more' && q.size < PROBE_LIMIT) return;
      if (v !== 'yes') {
        this.episode!.skipped[role] += q.clear();
        this.state[role] = 'lost';
        return;
      }
      this.state[role] = 'ok';
      if (this.state.client === 'ok' && this.state.server === 'ok') this.closeEpisode();
    }
    this.parse(role);
  }

  /** `bytes` of one side were lost (capc's loss marker). */
  hole(role: Role, bytes: number): void {
    if (this.stopped || bytes <= 0) return;
    if (this.state[role] === 'lost') {
      this.episode!.skipped[role] += bytes;
      this.episode!.lost += bytes;
      return;
    }
    if (this.state[role] === 'probing') {
      this.episode!.lost += this.queues[role].holes + bytes;
      this.episode!.skipped[role] += this.queues[role].clear() + bytes;
      this.state[role] = 'lost';
      return;
    }
    this.queues[role].pushHole(bytes);
    this.parse(role);
  }

  /** The connection ended (closed, its process exited, or capc stopped): report what is unfinished. */
  end(reason: string): void {
    if (!this.stopped) this.finish();
    for (const u of this.pending.splice(0)) this.emitUnit(u, reason);
    this.pendingBytes = 0;
    this.closeEpisode();
    // Bytes of a message that never ended (cut by the close, or not this protocol after all).
    const left = { client: this.queues.client.size, server: this.queues.server.size };
    if (!this.stopped && (left.client || left.server) && this.isOk('client') && this.isOk('server')) {
      const x = draft('(not decoded)', null);
      x.notDecoded = `${reason} inside a message: ${left.client} request and ${left.server} response bytes not decoded`;
      x.bytesOut = left.client;
      x.bytesIn = left.server;
      this.emit(x);
    }
  }

  get lost(): boolean {
    return this.state.client !== 'ok' || this.state.server !== 'ok';
  }

  isOk(role: Role): boolean {
    return this.state[role] === 'ok';
  }

  // ---- for the protocols -----------------------------------------------------

  /** Decode what the queue of `role` holds, as far as it goes; stop when it is short or the place was lost. */
  protected abstract parse(role: Role): void;
  /** After a loss, at a turn: does `role`'s queue start with a message? */
  protected abstract startsHere(role: Role, q: ByteQueue): Verdict;
  /** Forget the parsers' state (after a loss; a new message starts next). */
  protected abstract reset(): void;
  /** The connection ended: finish what ends with it (an HTTP body read until close). */
  protected finish(): void {}

  /** Exactly one request is waiting for its answer (the server's next turn answers it). */
  protected oneRequestInFlight(): boolean {
    return this.pending.length === 1;
  }

  /** Queue a request; its statement is dropped (and said so) when too much is held already. */
  protected enqueue(u: U): boolean {
    const l = this.ctx.limits;
    if (this.pending.length >= l.pending) {
      this.lose('client', `more than ${l.pending} requests waiting for a response`);
      return false;
    }
    const size = u.x.statement?.length ?? 0;
    if (size && this.pendingBytes + size > l.pendingBytes) {
      u.x.statement = null;
      u.x.statementTruncated = undefined;
      u.x.notDecoded = `statement not kept: ${this.pending.length} requests waiting hold ${this.pendingBytes} bytes already`;
    } else {
      u.held = size;
      this.pendingBytes += size;
    }
    this.pending.push(u);
    return true;
  }

  /** Take the oldest pending request off the queue (it is answered). */
  protected dequeue(): U | undefined {
    const u = this.pending.shift();
    if (u) this.pendingBytes -= u.held;
    return u;
  }

  protected emit(x: ExchangeDraft): void {
    if (this.carry.out || this.carry.in) {
      x.bytesOut += this.carry.out;
      x.bytesIn += this.carry.in;
      this.carry = { out: 0, in: 0 };
    }
    this.ctx.emit(x);
  }

  /** Report a request that will get no (decodable) answer. */
  protected emitUnit(u: U, notDecoded: string): void {
    u.x.notDecoded ??= notDecoded;
    this.emit(u.x);
  }

  /** Say that `n` bytes inside one of this exchange's messages were lost (the framing held). */
  protected noteLost(x: ExchangeDraft, n: number, role: Role): void {
    if (n > 0) (x.notes ??= []).push(`${n} ${role === 'client' ? 'request' : 'response'} bytes lost`);
  }

  /** Bytes of `role` that belong to no exchange (yet). */
  protected unclaimed(role: Role, n: number): void {
    if (role === 'client') this.carry.out += n;
    else this.carry.in += n;
  }

  /**
   * The framing of `role` is lost (a hole where a header was due, or bytes
   * that are not this protocol): report the waiting requests, forget the
   * parsers' state, and wait for a provable new start in both directions.
   */
  protected lose(role: Role, reason: string): void {
    if (!this.episode)
      this.episode = { reason, skipped: { client: 0, server: 0 }, lost: 0, start: this.queues[role].headStamp().first };
    for (const u of this.pending.splice(0)) this.emitUnit(u, reason);
    this.pendingBytes = 0;
    for (const r of ['client', 'server'] as const) {
      if (this.state[r] !== 'lost') {
        this.episode.lost += this.queues[r].holes;
        this.episode.skipped[r] += this.queues[r].clear();
      }
      this.state[r] = 'lost';
    }
    this.reset();
  }

  /** The rest of the connection cannot be decoded (TLS follows, compressed, upgraded): stop, saying why. */
  protected stop(reason: string): void {
    this.stopped = reason;
    for (const u of this.pending.splice(0)) this.emitUnit(u, reason);
    this.pendingBytes = 0;
    this.queues.client.clear();
    this.queues.server.clear();
  }

  private mayResync(role: Role): boolean {
    if (role === 'client') return true;
    if (this.state.client !== 'ok' || !this.pending.length) return false;
    if (this.oneRequestInFlight()) return true;
    // Several requests were sent before the server spoke again: whose answer starts here is not provable.
    for (const u of this.pending.splice(0)) this.emitUnit(u, 'response not attributable after a stream hole');
    this.pendingBytes = 0;
    return false;
  }

  private closeEpisode(): void {
    const e = this.episode;
    if (!e) return;
    this.episode = undefined;
    const lost = e.lost;
    const x: ExchangeDraft = {
      command: '(not decoded)',
      statement: null,
      rows: null,
      columns: null,
      status: null,
      error: null,
      notDecoded: `${e.reason}${lost ? `; ${lost} bytes lost` : ''}; ${e.skipped.client} request bytes and ${e.skipped.server} response bytes skipped (lost ones included) until the conversation could be followed again`,
      start: e.start,
      end: null,
      bytesOut: e.skipped.client,
      bytesIn: e.skipped.server,
    };
    this.emit(x);
  }
}

/** UTF-8 text of kept bytes (invalid sequences become U+FFFD). */
export function text(b: Buffer, start = 0, end = b.length): string {
  return b.toString('utf8', start, end);
}

/** A NUL-terminated string at `at` in `b`: its text and where the next field starts (or undefined if unterminated). */
export function cstring(b: Buffer, at: number, end = b.length): { s: string; next: number } | undefined {
  const z = b.indexOf(0, at);
  if (z < 0 || z >= end) return undefined;
  return { s: b.toString('utf8', at, z), next: z + 1 };
}
