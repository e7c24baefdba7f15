// runtime/protocols/http.ts — HTTP/1.0 and 1.1: request line and headers,
// status line and headers, bodies framed by Content-Length, chunked
// transfer coding (with trailers), or the end of the connection; keep-alive
// and pipelining (responses answer requests in order); 1xx interim
// responses skipped; HEAD, 204 and 304 without a body; an upgrade (101, e.g.
// websocket) or a CONNECT tunnel ends the decoding, noted. Bodies are
// counted, never kept. Headers larger than Limits.messageBytes are not
// decoded.
import { Conversation, type Pending, type Verdict } from './conversation.js';
import { draft, type Role } from './exchange.js';
import { httpFingerprint } from './fingerprint.js';
import { HOLE, LOST, MORE, NOT_FOUND, OK, SHORT, type ByteQueue } from './reader.js';

const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');
const REQUEST_LINE = /^([A-Z][A-Z0-9_-]{0,31}) (\S{1,65536}) HTTP\/(1\.[01])$/;
const STATUS_LINE = /^HTTP\/(1\.[01]) (\d{3})(?: (.*))?$/;
const METHOD_START =
  /^(?:GET|POST|PUT|DELETE|HEAD|OPTIONS|PATCH|CONNECT|TRACE|PROPFIND|PROPPATCH|MKCOL|COPY|MOVE|LOCK|UNLOCK|REPORT|SEARCH|PURGE) /;

/** Whose are these first bytes: a request (`client`) or a response (`server`)? */
export function detectHttp(b: Buffer, relaxed: boolean): 'client' | 'server' | 'no' | 'more' {
  const head = b.toString('latin1', 0, Math.min(b.length, 256));
  const line = head.split('\r\n', 1)[0]!;
  const complete = head.includes('\r\n');
  if (METHOD_START.test(head)) {
    if (!complete) return b.length < 256 ? 'more' : 'no';
    return REQUEST_LINE.test(line) || (relaxed && /^[A-Z]+ \S+ HTTP\/1\.[01]/.test(line)) ? 'client' : 'no';
  }
  if (head.startsWith('HTTP/1.')) {
    if (!complete) return b.length < 256 ? 'more' : 'no';
    return STATUS_LINE.test(line) ? 'server' : 'no';
  }
  if ('HTTP/1.'.startsWith(head) || [...'GPDHOCTM'].some((c) => head === c)) return 'more';
  if (/^[A-Z]{1,9}$/.test(head) && b.length < 10) return 'more';
  return 'no';
}

interface HttpUnit extends Pending {
  method: string;
}

type Framing = { kind: 'none' } | { kind: 'length'; n: number } | { kind: 'chunked' } | { kind: 'close' };
type BodySt = 'length' | 'chunkSize' | 'chunkData' | 'chunkEnd' | 'trailers' | 'close';

/** Reads one direction's messages: headers, then a body as its framing says. */
interface Side {
  body: BodySt | undefined;
  left: number;
  /** The exchange the body's bytes count toward. */
  unit: HttpUnit | undefined;
  lost: number;
}

function headers(lines: string[]): Map<string, string> {
  const h = new Map<string, string>();
  for (const l of lines) {
    const c = l.indexOf(':');
    if (c <= 0) continue;
    const k = l.slice(0, c).trim().toLowerCase();
    const v = l.slice(c + 1).trim();
    h.set(k, h.has(k) ? `${h.get(k)}, ${v}` : v);
  }
  return h;
}

/** How the body is delimited; undefined when no header says; 'invalid' for a Content-Length that is not a length. */
function framing(h: Map<string, string>): Framing | 'invalid' | undefined {
  const te = h.get('transfer-encoding');
  if (te && /(^|,)\s*chunked\s*$/i.test(te)) return { kind: 'chunked' };
  const cl = h.get('content-length');
  if (cl !== undefined) {
    const v = cl.split(',')[0]!.trim();
    if (!/^\d{1,15}$/.test(v)) return 'invalid';
    const n = Number(v);
    return n > 0 ? { kind: 'length', n } : { kind: 'none' };
  }
  return undefined;
}

export class HttpConversation extends Conversation<HttpUnit> {
  private readonly sides: Record<Role, Side> = {
    client: { body: undefined, left: 0, unit: undefined, lost: 0 },
    server: { body: undefined, left: 0, unit: undefined, lost: 0 },
  };

  protected reset(): void {
    for (const s of Object.values(this.sides)) {
      s.body = undefined;
      s.unit = undefined;
      s.left = 0;
      s.lost = 0;
    }
  }

  protected startsHere(role: Role, q: ByteQueue): Verdict {
    const n = Math.min(q.contiguous(), 256);
    if (!n || q.ensure(n) !== OK) return 'more';
    const v = detectHttp(q.buf.subarray(q.at, q.at + n), false);
    return v === 'more' ? 'more' : v === role ? 'yes' : 'no';
  }

  protected parse(role: Role): void {
    const q = this.queues[role];
    const s = this.sides[role];
    while (this.isOk(role) && !this.stopped) {
      if (s.body) {
        if (!this.readBody(role, q, s)) return;
        continue;
      }
      if (role === 'client') {
        // Empty lines before a request line are allowed (RFC 9112 2.2).
        while (q.ensure(2) === OK && q.buf[q.at] === 13 && q.buf[q.at + 1] === 10) {
          q.consume(2);
          this.unclaimed('client', 2);
        }
      }
      const at = q.find(CRLFCRLF, this.ctx.limits.messageBytes);
      if (at === MORE) return;
      if (at === LOST)
        return this.lose(role, `stream hole in the ${role === 'client' ? 'request' : 'response'} headers`);
      if (at === NOT_FOUND) return this.lose(role, `headers longer than ${this.ctx.limits.messageBytes} bytes`);
      const start = q.headStamp().first;
      q.ensure(at + 4);
      const lines = q.buf.toString('latin1', q.at, q.at + at).split('\r\n');
      q.consume(at + 4);
      if (role === 'client') this.onRequest(lines, at + 4, start);
      else this.onResponse(lines, at + 4, q);
    }
  }

  private onRequest(lines: string[], size: number, start: bigint): void {
    const m = REQUEST_LINE.exec(lines[0]!);
    if (!m) return this.lose('client', 'not an HTTP/1 request');
    const [, method, target, version] = m as unknown as [string, string, string, string];
    const h = headers(lines.slice(1));
    const x = draft(method, start);
    x.statement = `${method} ${target}`;
    x.fingerprint = httpFingerprint(method, target);
    x.bytesOut = size;
    x.details = { version: `HTTP/${version}` };
    const host = h.get('host');
    if (host) x.details.host = host;
    if (h.get('upgrade')) (x.notes ??= []).push(`upgrade to ${h.get('upgrade')} requested`);
    const u: HttpUnit = { x, held: 0, method };
    if (!this.enqueue(u)) return;
    const f = framing(h) ?? { kind: 'none' };
    if (f === 'invalid') return this.lose('client', 'an invalid Content-Length');
    this.startBody('client', f, u);
  }

  private onResponse(lines: string[], size: number, q: ByteQueue): void {
    const m = STATUS_LINE.exec(lines[0]!);
    if (!m) return this.lose('server', 'not an HTTP/1 response');
    const head = this.pending[0];
    if (!head) return this.lose('server', 'a response to no request');
    const code = Number(m[2]);
    const reason = m[3] ?? '';
    const h = headers(lines.slice(1));
    head.x.bytesIn += size;
    head.x.end = q.lastStamp.last;
    if (code >= 100 && code < 200 && code !== 101) {
      (head.x.notes ??= []).push(`${code} ${reason}`.trim());
      return; // interim: the final response follows
    }
    const x = head.x;
    x.status = `${code}${reason ? ` ${reason}` : ''}`;
    if (code >= 400) x.error = x.status;
    const ct = h.get('content-type');
    if (ct) x.details!.content_type = ct;
    if (code === 101) {
      (x.notes ??= []).push(`upgraded to ${h.get('upgrade') ?? 'another protocol'}`);
      this.done(head);
      return this.stop(`upgraded to ${h.get('upgrade') ?? 'another protocol'} (HTTP 101): the rest is not HTTP/1`);
    }
    if (head.method === 'CONNECT' && code >= 200 && code < 300) {
      (x.notes ??= []).push('tunnel established');
      this.done(head);
      return this.stop('CONNECT tunnel: the rest is not HTTP/1');
    }
    const none = head.method === 'HEAD' || code === 204 || code === 304;
    const f = none ? { kind: 'none' as const } : (framing(h) ?? { kind: 'close' as const });
    if (f === 'invalid') return this.lose('server', 'an invalid Content-Length');
    this.startBody('server', f, head);
  }

  private startBody(role: Role, f: Framing, u: HttpUnit): void {
    const s = this.sides[role];
    s.unit = u;
    s.lost = 0;
    if (f.kind === 'none') return this.bodyDone(role);
    s.body = f.kind === 'length' ? 'length' : f.kind === 'chunked' ? 'chunkSize' : 'close';
    s.left = f.kind === 'length' ? f.n : 0;
  }

  /** Read body bytes; false when more are needed (or the place was lost). */
  private readBody(role: Role, q: ByteQueue, s: Side): boolean {
    const count = (n: number) => {
      const lost = q.consume(n);
      s.lost += lost;
      if (role === 'client') s.unit!.x.bytesOut += n;
      else s.unit!.x.bytesIn += n;
    };
    switch (s.body!) {
      case 'length':
      case 'chunkData':
      case 'close': {
        const n = s.body === 'close' ? q.size : Math.min(s.left, q.size);
        if (!n) return false;
        count(n);
        s.left -= n;
        if (s.body === 'close') return false;
        if (s.left > 0) return false;
        if (s.body === 'length') this.bodyDone(role);
        else s.body = 'chunkEnd';
        return true;
      }
      case 'chunkEnd': {
        const st = q.ensure(2);
        if (st === SHORT) return false;
        if (st === HOLE || q.buf[q.at] !== 13 || q.buf[q.at + 1] !== 10) {
          this.lose(role, st === HOLE ? 'stream hole in a chunked body' : 'malformed chunked body');
          return false;
        }
        count(2);
        s.body = 'chunkSize';
        return true;
      }
      case 'chunkSize':
      case 'trailers': {
        const at = q.find(CRLF, 4096);
        if (at === MORE) return false;
        if (at < 0) {
          this.lose(role, at === LOST ? 'stream hole in a chunked body' : 'malformed chunked body');
          return false;
        }
        q.ensure(at);
        const line = q.buf.toString('latin1', q.at, q.at + at);
        count(at + 2);
        if (s.body === 'trailers') {
          if (at === 0) this.bodyDone(role);
          return true;
        }
        const m = /^([0-9a-fA-F]{1,15})[ \t]*(;.*)?$/.exec(line);
        if (!m) {
          this.lose(role, 'malformed chunk size');
          return false;
        }
        s.left = parseInt(m[1]!, 16);
        s.body = s.left === 0 ? 'trailers' : 'chunkData';
        return true;
      }
    }
  }

  private bodyDone(role: Role): void {
    const s = this.sides[role];
    const u = s.unit!;
    s.body = undefined;
    s.unit = undefined;
    if (s.lost) (u.x.notes ??= []).push(`${s.lost} ${role === 'client' ? 'request' : 'response'} body bytes lost`);
    if (role === 'server') {
      u.x.end = this.queues.server.lastStamp.last;
      this.done(u);
    }
  }

  private done(u: HttpUnit): void {
    if (this.pending[0] === u) this.dequeue();
    u.x.notDecoded ??= null;
    this.emit(u.x);
  }

  /** A body read until the connection closed ends here. */
  protected override finish(): void {
    const s = this.sides.server;
    if (s.body === 'close' && s.unit) this.bodyDone('server');
  }
}
