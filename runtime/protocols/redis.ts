// runtime/protocols/redis.ts — RESP2 and RESP3: commands (arrays of bulk
// strings, or inline commands) and replies of every type (simple strings,
// errors, integers, bulk strings, arrays, and RESP3's null, boolean, double,
// big number, blob error, verbatim string, map, set, attribute and push),
// pipelined in order. Pushes (RESP3 `>`, and RESP2 pub/sub messages once
// subscribed) are not replies. Values are counted, not kept; a command's
// arguments are kept up to Limits.statementBytes, AUTH and HELLO passwords
// never. SELECT sets the database, AUTH/HELLO the user.
import { Conversation, type Pending, type Verdict } from './conversation.js';
import { draft, type Role } from './exchange.js';
import { redisFingerprint } from './fingerprint.js';
import { HOLE, LOST, MORE, NOT_FOUND, OK, SHORT, type ByteQueue } from './reader.js';

const CRLF = Buffer.from('\r\n');
const LINE_LIMIT = 64 << 10;
const INLINE = /^[A-Za-z]{2,32}(?: |\r)/;
const PUB_SUB = new Set(['message', 'pmessage', 'smessage']);
const SUBSCRIBES = new Set(['subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe']);

/** Whose are these first bytes: a command (`client`) or a reply (`server`)? */
export function detectRedis(b: Buffer, relaxed: boolean): 'client' | 'server' | 'no' | 'more' {
  const s = b.toString('latin1', 0, Math.min(b.length, 64));
  if (s[0] === '*') {
    const m = /^\*(\d{1,7})\r\n(?:\$(\d{1,10})\r\n([A-Za-z]*))?/.exec(s);
    if (!m) return /^\*\d{0,7}\r?$/.test(s) ? 'more' : relaxed ? 'server' : 'no';
    if (m[2] === undefined) return s.length < 24 ? 'more' : relaxed ? 'server' : 'no';
    if (m[3] && m[3].length >= Math.min(Number(m[2]), 2)) return 'client';
    return s.length < 32 ? 'more' : 'no';
  }
  if (INLINE.test(s) && /^[A-Za-z]+(?: [^\r\n]*)?\r\n/.test(s))
    return /^(PING|AUTH|HELLO|INFO|QUIT|SELECT|GET|SET|KEYS|DBSIZE|MONITOR|FLUSHALL|CONFIG)\b/i.test(s) || relaxed
      ? 'client'
      : 'no';
  if (relaxed && /^[+\-:$_#,(!=%~]/.test(s)) return 'server';
  return 'no';
}

interface RedisUnit extends Pending {
  name: string;
  /** The first arguments (what a successful command tells about the session). */
  args: string[];
  /** Subscribe-family commands get one reply per channel. */
  replies: number;
}

/** A reply being read: the aggregate levels still open, and what the top level is. */
interface Reply {
  type: string;
  count: number;
  line: string;
  stack: number[];
  /** The first element of a top-level array (to tell pub/sub messages from replies). */
  first: string | undefined;
  attribute: boolean;
  start: bigint;
  size: number;
  /** Bytes of the reply lost inside bulk strings (the framing held). */
  lost: number;
}

/** An argument as shown in the statement: bare when it is plain printable ASCII, else JSON-quoted; `...(N bytes)` when cut. */
function quoteArg(t: string, kept: number, total: number): string {
  let plain = t.length > 0;
  for (let i = 0; i < t.length && plain; i++) {
    const c = t.charCodeAt(i);
    plain = c >= 0x21 && c <= 0x7e && c !== 0x22 && c !== 0x27 && c !== 0x5c;
  }
  let s = plain ? t : JSON.stringify(t);
  if (total > kept) s += `...(${total} bytes)`;
  return s;
}

/**
 * A `*N` or `$N` line read in place when the front piece holds it whole:
 * N, or -1 when the line is not there in one piece or is not that shape
 * (the general path then reads it).
 */
function lengthLine(q: ByteQueue, kind: number): number {
  const run = Math.min(q.headRun(), 14);
  const b = q.buf;
  const at = q.at;
  if (run < 4 || b[at] !== kind) return -1;
  let n = 0;
  let i = 1;
  for (; i < run; i++) {
    const c = b[at + i]!;
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  if (i === 1 || i > 11 || i + 1 >= run || b[at + i] !== 13 || b[at + i + 1] !== 10) return -1;
  q.consume(i + 2);
  return n;
}

/** A command being read: its arguments as text (kept up to the budget), with the bytes kept and sent of each. */
interface Command {
  left: number;
  args: string[];
  kept: number[];
  sizes: number[];
  size: number;
  start: bigint;
  budget: number;
  lost: boolean;
}

export class RedisConversation extends Conversation<RedisUnit> {
  /** The command being read: argument count left, the argument being read. */
  private cmd: Command | undefined;
  private arg: { len: number; read: number; parts: Buffer[]; kept: number; lost: boolean } | undefined;
  private reply: Reply | undefined;
  /** A bulk string's bytes (and CRLF) still to skip in the reply. */
  private skip = 0;
  private subscribed = false;

  protected reset(): void {
    this.cmd = undefined;
    this.arg = undefined;
    this.reply = undefined;
    this.skip = 0;
  }

  protected startsHere(role: Role, q: ByteQueue): Verdict {
    const n = Math.min(q.contiguous(), 64);
    if (!n || q.ensure(n) !== OK) return 'more';
    const b = q.buf.subarray(q.at, q.at + n);
    if (role === 'client') {
      const v = detectRedis(b, false);
      return v === 'more' ? 'more' : v === 'client' ? 'yes' : 'no';
    }
    return /^[+\-:$*_#,(!=%~|>]/.test(b.toString('latin1', 0, 1)) ? 'yes' : 'no';
  }

  protected parse(role: Role): void {
    if (role === 'client') this.parseClient();
    else this.parseServer();
  }

  /** A CRLF-terminated line at the front of `q` (consumed): its text, or MORE/LOST/NOT_FOUND. */
  private line(q: ByteQueue, limit: number): string | number {
    const at = q.find(CRLF, limit);
    if (at < 0) return at;
    q.ensure(at);
    const s = q.buf.toString('latin1', q.at, q.at + at);
    q.consume(at + 2);
    return s;
  }

  // ---- client ---------------------------------------------------------------

  private parseClient(): void {
    const q = this.queues.client;
    while (this.isOk('client') && !this.stopped) {
      const c = this.cmd;
      const a = this.arg;
      if (c && a) {
        if (a.read === 0 && q.headRun() >= a.len + 2) {
          // The whole argument and its CRLF in one piece: read as text in place, nothing copied.
          const at = q.at;
          if (q.buf[at + a.len] !== 13 || q.buf[at + a.len + 1] !== 10)
            return this.lose('client', 'a bulk string without its CRLF');
          const keep = Math.max(0, Math.min(a.len, c.budget));
          c.args.push(q.buf.toString('utf8', at, at + keep));
          c.kept.push(keep);
          c.sizes.push(a.len);
          c.budget -= keep;
          q.consume(a.len + 2);
          c.size += a.len + 2;
          this.arg = undefined;
          if (--c.left === 0) this.command();
          continue;
        }
        if (a.read < a.len) {
          const n = Math.min(a.len - a.read, q.size);
          if (!n) return;
          q.consume(n, (p) => {
            if (typeof p === 'number') {
              a.lost = true;
              return;
            }
            const room = Math.min(a.len, c.budget) - a.kept;
            if (room <= 0) return;
            const piece = p.length <= room ? p : p.subarray(0, room);
            a.parts.push(Buffer.from(piece));
            a.kept += piece.length;
          });
          a.read += n;
          c.size += n;
          if (a.read < a.len) return;
        }
        const st = q.ensure(2);
        if (st === SHORT) return;
        if (st === HOLE || q.buf[q.at] !== 13 || q.buf[q.at + 1] !== 10)
          return this.lose('client', st === HOLE ? 'stream hole in a command' : 'a bulk string without its CRLF');
        q.consume(2);
        c.size += 2;
        this.arg = undefined;
        c.budget -= a.kept;
        c.args.push(a.lost ? '?' : Buffer.concat(a.parts, a.kept).toString('utf8'));
        c.kept.push(a.lost ? 1 : a.kept);
        c.sizes.push(a.lost ? 1 : a.len);
        if (a.lost) c.lost = true;
        if (--c.left === 0) this.command();
        continue;
      }
      const st = q.ensure(1);
      if (st === SHORT) return;
      if (st === HOLE) return this.lose('client', 'stream hole where a command began');
      const start = q.headStamp().first;
      const first = q.buf[q.at]!;
      const before = q.size;
      if (!c && first !== 0x2a) {
        // An inline command: words on one line.
        const l = this.line(q, LINE_LIMIT);
        if (typeof l === 'number') return l === MORE ? undefined : this.failLine('client', l);
        const words = l.trim().split(/\s+/).filter(Boolean);
        if (!words.length) {
          this.unclaimed('client', before - q.size);
          continue;
        }
        const sizes = words.map((w) => Buffer.byteLength(w, 'latin1'));
        this.cmd = {
          left: 0,
          args: words,
          kept: sizes,
          sizes,
          size: before - q.size,
          start,
          budget: 0,
          lost: false,
        };
        this.command();
        continue;
      }
      let n = lengthLine(q, c ? 0x24 : 0x2a);
      if (n < 0) {
        const l = this.line(q, 32);
        if (typeof l === 'number') return l === MORE ? undefined : this.failLine('client', l);
        const m = /^([*$])(\d{1,10})$/.exec(l);
        if (!m || (c ? m[1] !== '$' : m[1] !== '*')) return this.lose('client', 'bytes that are not a RESP command');
        n = Number(m[2]);
      }
      if (!c) {
        if (n === 0 || n > 1 << 20) return this.lose('client', `a command of ${n} arguments`);
        const budget = this.ctx.limits.statementBytes;
        this.cmd = { left: n, args: [], kept: [], sizes: [], size: before - q.size, start, budget, lost: false };
      } else {
        if (n > 512 << 20) return this.lose('client', `an argument of ${n} bytes`);
        c!.size += before - q.size;
        this.arg = { len: n, read: 0, parts: [], kept: 0, lost: false };
      }
    }
  }

  private failLine(role: Role, code: number): void {
    this.lose(
      role,
      code === LOST ? 'stream hole in a RESP line' : code === NOT_FOUND ? 'a RESP line too long' : 'RESP',
    );
  }

  /** A whole command was read: queue it. */
  private command(): void {
    const c = this.cmd!;
    this.cmd = undefined;
    const lostArg = c.lost;
    const args = c.args;
    const name = (args[0] ?? '').toUpperCase();
    const x = draft(name || '(empty)', c.start);
    x.bytesOut = c.size;
    let shown = args.map((a, i) => quoteArg(a, c.kept[i]!, c.sizes[i]!));
    if (name === 'AUTH') shown = args.length > 2 ? [shown[0]!, shown[1]!, '?'] : [shown[0]!, '?'];
    if (name === 'HELLO') {
      const i = args.findIndex((a) => a.toUpperCase() === 'AUTH');
      if (i > 0 && i + 2 < shown.length) shown[i + 2] = '?';
    }
    x.statement = shown.join(' ');
    x.fingerprint = redisFingerprint(args);
    if (c.kept.some((k, i) => k < c.sizes[i]!)) x.statementTruncated = true;
    if (lostArg) x.notDecoded = 'bytes of an argument were lost';
    x.details = { arguments: Math.max(0, args.length - 1) };
    const lower = name.toLowerCase();
    const replies = SUBSCRIBES.has(lower) && args.length > 1 ? args.length - 1 : SUBSCRIBES.has(lower) ? Infinity : 1;
    this.enqueue({ x, held: 0, name: lower, replies, args: args.slice(0, 4) });
  }

  // ---- server ---------------------------------------------------------------

  private parseServer(): void {
    const q = this.queues.server;
    while (this.isOk('server') && !this.stopped) {
      const r = this.reply;
      if (this.skip) {
        // A bulk string's bytes, then its CRLF.
        if (this.skip > 2) {
          const n = Math.min(this.skip - 2, q.size);
          if (!n) return;
          r!.lost += q.consume(n);
          r!.size += n;
          this.skip -= n;
          if (this.skip > 2) return;
        }
        const st = q.ensure(2);
        if (st === SHORT) return;
        if (st === HOLE || q.buf[q.at] !== 13 || q.buf[q.at + 1] !== 10)
          return this.lose('server', st === HOLE ? 'stream hole in a reply' : 'a bulk string without its CRLF');
        q.consume(2);
        r!.size += 2;
        this.skip = 0;
        this.itemDone();
        continue;
      }
      const st = q.ensure(1);
      if (st === SHORT) return;
      if (st === HOLE) return this.lose('server', 'stream hole where a reply began');
      const start = q.headStamp().first;
      const before = q.size;
      const l = this.line(q, LINE_LIMIT);
      if (typeof l === 'number') return l === MORE ? undefined : this.failLine('server', l);
      const type = l[0]!;
      const rest = l.slice(1);
      const size = before - q.size;
      const top = !r;
      const cur: Reply = r ?? {
        type,
        count: 0,
        line: '',
        stack: [],
        first: undefined,
        attribute: false,
        start,
        size: 0,
        lost: 0,
      };
      cur.size += size;
      this.reply = cur;
      if (rest === '?') return this.lose('server', 'streamed RESP3 values are not decoded');
      switch (type) {
        case '+':
        case '-':
        case ':':
        case '_':
        case '#':
        case ',':
        case '(':
          if (top) cur.line = rest.slice(0, 1024);
          else if (cur.stack.length === 1 && cur.first === undefined && cur.count === cur.stack[0])
            cur.first = rest.slice(0, 32);
          this.itemDone();
          continue;
        case '$':
        case '!':
        case '=': {
          const n = Number(rest);
          if (!Number.isInteger(n) || n < -1 || n > 512 << 20) return this.lose('server', 'a malformed bulk length');
          if (top) cur.count = n;
          if (n < 0) {
            this.itemDone();
            continue;
          }
          if (!top && cur.stack.length === 1 && cur.first === undefined && cur.count === cur.stack[0] && n <= 32) {
            // Keep the first element of a top-level array (pub/sub messages say what they are there).
            const stf = q.ensure(n);
            if (stf === SHORT) {
              this.skip = n + 2;
              continue;
            }
            if (stf === OK) cur.first = q.buf.toString('latin1', q.at, q.at + n);
          }
          this.skip = n + 2;
          continue;
        }
        case '*':
        case '~':
        case '>':
        case '%':
        case '|': {
          const n = Number(rest);
          if (!Number.isInteger(n) || n < -1 || n > 1 << 30) return this.lose('server', 'a malformed aggregate length');
          const elems = type === '%' || type === '|' ? n * 2 : n;
          if (top) {
            cur.count = n;
            if (type === '|') cur.attribute = true;
          }
          if (elems <= 0) {
            this.itemDone();
            continue;
          }
          cur.stack.push(elems);
          continue;
        }
        default:
          return this.lose('server', 'bytes that are not a RESP reply');
      }
    }
  }

  /** One item of the reply is complete: close the aggregates it completes; the reply itself when none is open. */
  private itemDone(): void {
    const r = this.reply!;
    const s = r.stack;
    while (s.length) {
      s[s.length - 1]!--;
      if (s[s.length - 1]! > 0) return;
      s.pop();
    }
    this.reply = undefined;
    if (r.attribute) {
      // Attributes describe the reply that follows; they are not one.
      this.unclaimed('server', r.size);
      return;
    }
    this.onReply(r);
  }

  private onReply(r: Reply): void {
    const head = this.pending[0];
    const isPush =
      r.type === '>' ||
      (this.subscribed &&
        r.type === '*' &&
        r.first !== undefined &&
        (PUB_SUB.has(r.first) || (SUBSCRIBES.has(r.first) && head?.name !== r.first)));
    if (isPush || !head) {
      this.unclaimed('server', r.size);
      return;
    }
    const x = head.x;
    x.bytesIn += r.size;
    x.end = this.queues.server.lastStamp.last;
    if (r.lost) (x.notes ??= []).push(`${r.lost} reply bytes lost`);
    if (SUBSCRIBES.has(head.name)) {
      x.rows = (x.rows ?? 0) + 1;
      x.status = 'subscribed';
      this.subscribed = true;
      if (--head.replies > 0 && Number.isFinite(head.replies)) return;
    } else this.describe(r, head);
    this.dequeue();
    if (!x.error && x.status !== null) this.learn(head);
    this.emit(x);
  }

  private describe(r: Reply, u: RedisUnit): void {
    const x = u.x;
    const n = r.count;
    switch (r.type) {
      case '+':
        x.status = r.line;
        return;
      case '-':
      case '!':
        x.error = r.type === '-' ? r.line : `blob error of ${n} bytes`;
        x.status = 'error';
        return;
      case ':':
        x.status = `integer ${r.line}`;
        return;
      case '$':
      case '=':
        x.status = n < 0 ? 'nil' : `${r.type === '=' ? 'verbatim' : 'bulk'} ${n} bytes`;
        return;
      case '*':
      case '~':
      case '%':
        x.status = n < 0 ? 'nil' : `${r.type === '*' ? 'array' : r.type === '~' ? 'set' : 'map'} of ${n}`;
        x.rows = n < 0 ? 0 : n;
        return;
      case '_':
        x.status = 'null';
        return;
      case '#':
        x.status = r.line === 't' ? 'true' : 'false';
        return;
      case ',':
        x.status = `double ${r.line}`;
        return;
      case '(':
        x.status = `big number ${r.line}`;
        return;
    }
  }

  /** What a successful command says about the session: the user (AUTH, HELLO), the database (SELECT). */
  private learn(u: RedisUnit): void {
    const a = u.args;
    if (u.name === 'auth' && a.length >= 3) this.login.user = a[1]!;
    else if (u.name === 'auth') this.login.user ??= 'default';
    else if (u.name === 'select' && a[1] !== undefined) this.login.database = a[1];
    else if (u.name === 'hello') {
      const i = a.findIndex((s) => s.toUpperCase() === 'AUTH');
      if (i > 0 && a[i + 1] !== undefined) this.login.user = a[i + 1]!;
    } else if (u.name === 'client' && a[1]?.toUpperCase() === 'SETNAME' && a[2] !== undefined)
      this.login.application = a[2];
  }
}
