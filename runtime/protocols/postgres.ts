// runtime/protocols/postgres.ts — PostgreSQL's frontend/backend protocol v3:
// the startup (user, database, application_name; SSLRequest and GSSENCRequest
// answered in plaintext, after which TLS takes over), simple Query, the
// extended protocol (Parse/Bind/Describe/Execute/Sync, statement and portal
// names mapped back to their text), RowDescription (column count and names),
// DataRow counted as it passes, CommandComplete tags, ErrorResponse (SQLSTATE
// and message; after an error in the extended protocol the server skips to
// Sync, and so does the decoder), COPY noted. One exchange per Query, per
// Execute, per failed Parse/Bind/Describe, and per login. Passwords
// (PasswordMessage, SASL) are never kept.
import { Conversation, cstring, text, type Pending, type Verdict } from './conversation.js';
import { draft, type ExchangeDraft, type Role } from './exchange.js';
import { Body, HOLE, SHORT, type ByteQueue } from './reader.js';
import {
  AUTH,
  CANCEL_REQUEST,
  chain,
  CLIENT_BYTE,
  CLIENT_ONLY,
  CLIENT_TYPES,
  errorText,
  GSSENC_REQUEST,
  MAX_LEN,
  rowsOf,
  SERVER_BYTE,
  SERVER_TYPES,
  SSL_REQUEST,
  TYPE_CHAR,
} from './postgres-wire.js';

export { detectPostgres } from './postgres-wire.js';

type Kind =
  | 'startup'
  | 'ssl'
  | 'gss'
  | 'query'
  | 'parse'
  | 'bind'
  | 'describe'
  | 'execute'
  | 'close'
  | 'sync'
  | 'function';

interface PgUnit extends Pending {
  kind: Kind;
  tags: string[];
  dataRows: number;
  /** describe: what it describes ('S' or 'P' + name). */
  target?: string;
}

interface Msg {
  type: string;
  /** Bytes of the whole message, header included. */
  size: number;
  start: bigint;
}

export class PostgresConversation extends Conversation<PgUnit> {
  /** The client's next message has no type byte (startup, SSLRequest). */
  private untyped: boolean;
  private cm: Msg | undefined;
  /** The code of the untyped message being read (startup, SSLRequest, CancelRequest). */
  private ccode = 0;
  private sm: Msg | undefined;
  private readonly cbody = new Body();
  private readonly sbody = new Body();
  /** Prepared statement name → text; portal name → statement name. */
  private readonly statements = new Map<string, { text: string; truncated: boolean }>();
  private readonly portals = new Map<string, string>();
  private readonly described = new Map<string, string[]>();
  /** Client messages of an extended-protocol batch not yet claimed by an Execute. */
  private group: { start: bigint; bytes: number } | undefined;

  constructor(ctx: ConstructorParameters<typeof Conversation>[0], startsWithStartup: boolean) {
    super(ctx);
    this.untyped = startsWithStartup;
  }

  protected reset(): void {
    this.cm = this.sm = undefined;
    this.group = undefined;
    this.untyped = false;
  }

  protected override oneRequestInFlight(): boolean {
    // One batch: everything up to (and including) a single Sync or Query.
    const ends = this.pending.filter((u) => u.kind === 'sync' || u.kind === 'query').length;
    return ends === 1 && (this.pending[this.pending.length - 1]!.kind === 'sync' || this.pending.length === 1);
  }

  protected startsHere(role: Role, q: ByteQueue): Verdict {
    const n = Math.min(q.contiguous(), 1 << 16);
    if (n < 5 || q.ensure(n) !== 0) return 'more';
    const b = q.buf.subarray(q.at, q.at + n);
    const c = chain(b, role === 'client' ? CLIENT_TYPES : SERVER_TYPES);
    if (!c.valid) return 'no';
    if (!c.whole) return 'more';
    if (role === 'client') return CLIENT_ONLY.has(c.types[0]!) || c.types[0] === 'S' ? 'yes' : 'no';
    return 'T1Z2CDIEnt3sGH'.includes(c.types[0]!) ? 'yes' : 'no';
  }

  protected parse(role: Role): void {
    if (role === 'client') this.parseClient();
    else this.parseServer();
  }

  // ---- client ---------------------------------------------------------------

  private parseClient(): void {
    const q = this.queues.client;
    const lim = this.ctx.limits;
    while (this.isOk('client') && !this.stopped) {
      if (!this.cm) {
        const hdr = this.untyped ? 8 : 5;
        const st = q.ensure(hdr);
        if (st === SHORT) return;
        if (st === HOLE) return this.lose('client', 'stream hole where a request began');
        const start = q.headStamp().first;
        if (this.untyped) {
          const len = q.buf.readUInt32BE(q.at);
          if (len < 8 || len > 10000) return this.lose('client', 'not a PostgreSQL startup message');
          this.cm = { type: '', size: len, start };
          this.cbody.begin(len - 8, lim.messageBytes);
          this.ccode = q.buf.readUInt32BE(q.at + 4);
          q.consume(8);
        } else {
          const t = q.buf[q.at]!;
          const type = TYPE_CHAR[t]!;
          const len = q.buf.readUInt32BE(q.at + 1);
          if (!CLIENT_BYTE[t] || len < 4 || len > MAX_LEN)
            return this.lose('client', 'bytes that are not a PostgreSQL message');
          this.cm = { type, size: len + 1, start };
          const cap =
            type === 'Q' || type === 'P'
              ? lim.statementBytes + 1024
              : type === 'B'
                ? 4096
                : type === 'p' || type === 'd' || type === 'F'
                  ? 0
                  : lim.messageBytes;
          this.cbody.begin(len - 4, cap);
          q.consume(5);
        }
      }
      if (!this.cbody.pull(q)) return;
      const m = this.cm;
      this.cm = undefined;
      if (m.type === '') this.onStartup(m);
      else this.onClient(m);
    }
  }

  private onStartup(m: Msg): void {
    const b = this.cbody.data();
    const code = this.ccode;
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
      const x = draft(code === SSL_REQUEST ? 'ssl_request' : 'gssenc_request', m.start);
      x.bytesOut = m.size;
      this.enqueue({ kind: code === SSL_REQUEST ? 'ssl' : 'gss', x, held: 0, tags: [], dataRows: 0 });
      return; // the startup message follows (in plaintext if refused)
    }
    this.untyped = false;
    if (code === CANCEL_REQUEST) {
      const x = draft('cancel', m.start);
      x.bytesOut = m.size;
      if (b.length >= 4) x.details = { backend_pid: b.readUInt32BE(0) };
      x.status = 'sent';
      this.emit(x);
      return;
    }
    if (code >>> 16 !== 3)
      return this.lose('client', `unsupported PostgreSQL protocol ${code >>> 16}.${code & 0xffff}`);
    let at = 0;
    for (;;) {
      const k = cstring(b, at);
      if (!k || !k.s) break;
      const v = cstring(b, k.next);
      if (!v) break;
      if (k.s === 'user') this.login.user = v.s;
      else if (k.s === 'database') this.login.database = v.s;
      else if (k.s === 'application_name') this.login.application = v.s;
      at = v.next;
    }
    this.login.database ??= this.login.user;
    const x = draft('login', m.start);
    x.bytesOut = m.size;
    x.details = { protocol: `${code >>> 16}.${code & 0xffff}` };
    if (this.login.application) x.details.application_name = this.login.application;
    this.enqueue({ kind: 'startup', x, held: 0, tags: [], dataRows: 0 });
  }

  private unit(kind: Kind, x: ExchangeDraft): PgUnit {
    return { kind, x, held: 0, tags: [], dataRows: 0 };
  }

  private onClient(m: Msg): void {
    const body = this.cbody;
    switch (m.type) {
      case 'Q': {
        const x = draft('query', m.start);
        x.bytesOut = m.size;
        this.noteLost(x, body.lost, 'client');
        this.setStatement(x, body, 0);
        this.enqueue(this.unit('query', x));
        return;
      }
      case 'p': // password, SASL: counted, never kept
      case 'd': // COPY data from the client
      case 'c':
      case 'f': {
        const u = this.pending[this.pending.length - 1];
        if (u && (u.kind === 'startup' || u.kind === 'query' || u.kind === 'execute')) u.x.bytesOut += m.size;
        else this.unclaimed('client', m.size);
        if (m.type === 'f' && u) (u.x.notes ??= []).push('COPY failed by the client');
        return;
      }
      case 'X':
        this.unclaimed('client', m.size);
        return;
      case 'H':
        this.addToGroup(m);
        return;
      case 'S': {
        this.addToGroup(m);
        const x = draft('sync', this.group!.start);
        this.unclaimed('client', this.group!.bytes);
        this.group = undefined;
        this.enqueue(this.unit('sync', x));
        return;
      }
      case 'F': {
        const x = draft('function_call', m.start);
        x.bytesOut = m.size;
        this.enqueue(this.unit('function', x));
        return;
      }
    }
    // Extended protocol: P, B, D, E, C.
    this.addToGroup(m);
    const b = body.data();
    const name = cstring(b, 0);
    if (!name && !body.truncated) return this.lose('client', `malformed ${m.type} message`);
    const n = name?.s ?? '';
    switch (m.type) {
      case 'P': {
        const x = draft('parse', m.start);
        this.setStatement(x, body, name?.next ?? b.length);
        if (x.statement !== null) this.remember(n, { text: x.statement, truncated: !!x.statementTruncated });
        this.enqueue({ ...this.unit('parse', x), target: n });
        return;
      }
      case 'B': {
        const stmt = name ? cstring(b, name.next) : undefined;
        this.portals.set(n, stmt?.s ?? '');
        if (this.portals.size > this.ctx.limits.prepared) this.portals.delete(this.portals.keys().next().value!);
        const x = draft('bind', m.start);
        this.fillStatement(x, stmt?.s ?? '');
        this.enqueue({ ...this.unit('bind', x), target: n });
        return;
      }
      case 'D': {
        const what = String.fromCharCode(b[0] ?? 0x53);
        const nm = cstring(b, 1)?.s ?? '';
        this.enqueue({ ...this.unit('describe', draft('describe', m.start)), target: what + nm });
        return;
      }
      case 'E': {
        const x = draft('execute', this.group!.start);
        x.bytesOut = this.group!.bytes;
        this.group = undefined;
        const stmt = this.portals.get(n);
        this.fillStatement(x, stmt ?? '');
        if (stmt === undefined) x.notDecoded = `portal "${n}" was bound before capture started`;
        const cols = this.described.get('P' + n) ?? (stmt !== undefined ? this.described.get('S' + stmt) : undefined);
        if (cols) {
          x.columns = cols.length;
          x.columnNames = cols;
        }
        this.enqueue({ ...this.unit('execute', x), target: n });
        return;
      }
      case 'C': {
        const what = String.fromCharCode(b[0] ?? 0x53);
        const nm = cstring(b, 1)?.s ?? '';
        if (what === 'S') this.statements.delete(nm);
        else this.portals.delete(nm);
        this.enqueue({ ...this.unit('close', draft('close', m.start)), target: what + nm });
        return;
      }
    }
  }

  private addToGroup(m: Msg): void {
    if (!this.group) this.group = { start: m.start, bytes: 0 };
    this.group.bytes += m.size;
  }

  private remember(name: string, s: { text: string; truncated: boolean }): void {
    this.statements.delete(name);
    this.statements.set(name, s);
    if (this.statements.size > this.ctx.limits.prepared) this.statements.delete(this.statements.keys().next().value!);
  }

  /** The statement text from byte `at` of a Query/Parse body (NUL-terminated). */
  private setStatement(x: ExchangeDraft, body: Body, at: number): void {
    if (body.keptHole) {
      x.notDecoded = `${body.lost} bytes of the statement were lost`;
      return;
    }
    const b = body.data();
    const z = b.indexOf(0, at);
    if (z < 0 && !body.truncated) {
      x.notDecoded = 'statement not NUL-terminated';
      return;
    }
    const end = z < 0 ? Math.min(b.length, at + this.ctx.limits.statementBytes) : z;
    x.statement = text(b, at, end);
    if (z < 0) x.statementTruncated = true;
  }

  private fillStatement(x: ExchangeDraft, name: string): void {
    const s = this.statements.get(name);
    if (!s) {
      x.notDecoded = `statement "${name}" was prepared before capture started`;
      return;
    }
    x.statement = s.text;
    if (s.truncated) x.statementTruncated = true;
    if (name) x.details = { statement_name: name };
  }

  // ---- server ---------------------------------------------------------------

  private parseServer(): void {
    const q = this.queues.server;
    const lim = this.ctx.limits;
    while (this.isOk('server') && !this.stopped) {
      if (!this.sm) {
        const head = this.pending[0];
        if (head && (head.kind === 'ssl' || head.kind === 'gss')) {
          // The answer to SSLRequest/GSSENCRequest is one byte.
          const st = q.ensure(1);
          if (st === SHORT) return;
          if (st === HOLE) return this.lose('server', 'stream hole where a response began');
          const c = String.fromCharCode(q.buf[q.at]!);
          q.consume(1);
          this.dequeue();
          head.x.bytesIn += 1;
          head.x.end = q.lastStamp.last;
          if (c === 'S' || c === 'G') {
            head.x.status = 'accepted';
            this.emit(head.x);
            return this.stop(
              `${head.kind === 'ssl' ? 'TLS' : 'GSSAPI encryption'} follows: the plaintext is seen by the SSL_read/SSL_write probes`,
            );
          }
          if (c !== 'N') return this.lose('server', 'unexpected answer to SSLRequest');
          head.x.status = 'refused';
          this.emit(head.x);
          continue;
        }
        const st = q.ensure(5);
        if (st === SHORT) return;
        if (st === HOLE) return this.lose('server', 'stream hole where a response began');
        const t = q.buf[q.at]!;
        const type = TYPE_CHAR[t]!;
        const len = q.buf.readUInt32BE(q.at + 1);
        if (!SERVER_BYTE[t] || len < 4 || len > MAX_LEN)
          return this.lose('server', 'bytes that are not a PostgreSQL message');
        this.sm = { type, size: len + 1, start: q.headStamp().first };
        const cap =
          type === 'T' || type === 'E' || type === 'N'
            ? lim.messageBytes
            : type === 'C' || type === 'S'
              ? 1024
              : type === 'R' || type === 'Z'
                ? 16
                : 0;
        this.sbody.begin(len - 4, cap);
        q.consume(5);
      }
      if (!this.sbody.pull(q)) return;
      const m = this.sm;
      this.sm = undefined;
      this.onServer(m, q.lastStamp.last);
    }
  }

  private onServer(m: Msg, end: bigint): void {
    const body = this.sbody;
    const head = this.pending[0];
    if (m.type === 'D' || m.type === 'd') {
      // The hot path: a row (or COPY data) is counted, nothing else.
      if (head && (head.kind === 'query' || head.kind === 'execute')) {
        head.dataRows++;
        this.claim(head, m, body);
      } else this.claim(undefined, m, body);
      return;
    }
    const b = body.data();
    switch (m.type) {
      case 'R': {
        this.claim(head?.kind === 'startup' ? head : undefined, m, body);
        if (head?.kind === 'startup' && b && b.length >= 4) {
          const code = b.readUInt32BE(0);
          const method = AUTH[code];
          if (method && code !== 0) (head.x.details ??= {}).auth = method;
        }
        return;
      }
      case 'S': {
        this.claim(head?.kind === 'startup' ? head : undefined, m, body);
        const k = b && cstring(b, 0);
        const v = k && cstring(b, k.next);
        if (k && v && k.s === 'application_name') this.login.application = v.s || null;
        return;
      }
      case 'K':
      case 'N':
      case 'A':
      case 'v':
        this.claim(head?.kind === 'startup' ? head : undefined, m, body);
        return;
      case 'Z': {
        // ReadyForQuery ends a login, a simple Query, or a batch (Sync).
        while (this.pending.length) {
          const u = this.dequeue()!;
          if (u.kind === 'startup' || u.kind === 'query') {
            u.x.bytesIn += m.size;
            this.complete(u, end);
            return;
          }
          if (u.kind === 'sync') {
            this.unclaimed('server', m.size);
            return;
          }
          // A request the server never answered before the batch ended.
          this.emitUnit(u, 'no response before ReadyForQuery');
        }
        this.unclaimed('server', m.size);
        return;
      }
      case 'T': {
        this.claim(head, m, body);
        const cols = b ? this.columnNames(b) : undefined;
        if (head?.kind === 'describe') {
          this.dequeue();
          if (cols) this.described.set(head.target!, cols);
          // An Execute of that portal already queued (Describe, Execute, Sync sent together) gets them too.
          const exec = this.pending.find((u) => u.kind === 'execute' && 'P' + u.target === head.target);
          if (cols && exec && exec.x.columns === null) {
            exec.x.columns = cols.length;
            exec.x.columnNames = cols;
          }
          if (this.described.size > this.ctx.limits.prepared)
            this.described.delete(this.described.keys().next().value!);
          this.unclaimed('server', head.x.bytesIn);
        } else if (head && cols) {
          head.x.columns = cols.length;
          head.x.columnNames = cols;
        }
        return;
      }
      case 'C':
      case 'I':
      case 's': {
        this.claim(head, m, body);
        if (!head || (head.kind !== 'query' && head.kind !== 'execute')) return;
        head.tags.push(m.type === 'C' && b ? (cstring(b, 0)?.s ?? '') : m.type === 'I' ? '(empty query)' : '');
        if (m.type === 's') (head.x.notes ??= []).push('portal suspended: more rows to fetch');
        if (head.kind === 'execute') {
          this.dequeue();
          this.complete(head, end);
        }
        return;
      }
      case 'E': {
        const err = b ? errorText(b) : 'error (message not kept)';
        if (!head) {
          const x = draft('server_error', m.start);
          x.error = err;
          x.notDecoded = 'an error answering no request capc saw (lost, or sent before capture started)';
          x.bytesIn = m.size;
          x.end = end;
          this.emit(x);
          return;
        }
        this.claim(head, m, body);
        head.x.error ??= err;
        if (head.kind === 'query') return; // ReadyForQuery ends it
        this.dequeue();
        this.complete(head, end);
        if (head.kind === 'startup') return;
        // The server skips everything up to the next Sync.
        while (this.pending.length && this.pending[0]!.kind !== 'sync') {
          const u = this.dequeue()!;
          this.unclaimed('client', u.x.bytesOut);
        }
        return;
      }
      case '1':
      case '2':
      case '3':
      case 'n': {
        this.claim(head, m, body);
        const want = { '1': 'parse', '2': 'bind', '3': 'close', n: 'describe' }[m.type];
        if (head?.kind === want) {
          this.dequeue();
          this.unclaimed('client', head.x.bytesOut);
          this.unclaimed('server', head.x.bytesIn);
        }
        return;
      }
      case 't':
        this.claim(head, m, body);
        return;
      case 'G':
      case 'H':
      case 'W':
        this.claim(head, m, body);
        if (head)
          (head.x.notes ??= []).push(
            m.type === 'G'
              ? 'COPY from the client'
              : m.type === 'H'
                ? 'COPY to the client'
                : 'COPY both ways (replication)',
          );
        return;
      case 'c':
        this.claim(head, m, body);
        return;
      case 'V':
        this.claim(head, m, body);
        if (head?.kind === 'function') {
          this.dequeue();
          this.complete(head, end);
        }
        return;
    }
    this.claim(undefined, m, body);
  }

  /** A server message's bytes count toward `u` (or no exchange yet). */
  private claim(u: PgUnit | undefined, m: Msg, body: Body): void {
    if (u) {
      u.x.bytesIn += m.size;
      if (body.lost) this.noteLost(u.x, body.lost, 'server');
    } else this.unclaimed('server', m.size);
  }

  private complete(u: PgUnit, end: bigint): void {
    const x = u.x;
    x.end = end;
    if (u.kind === 'startup') {
      x.status = x.error ? 'failed' : 'ready';
    } else if (u.kind === 'query' || u.kind === 'execute') {
      const tags = u.tags.filter(Boolean);
      if (tags.length) x.status = tags.join('; ');
      x.rows = u.dataRows > 0 ? u.dataRows : rowsOf(tags);
    }
    this.emit(x);
  }

  private columnNames(b: Buffer): string[] {
    const n = b.length >= 2 ? b.readUInt16BE(0) : 0;
    const names: string[] = [];
    let at = 2;
    for (let i = 0; i < n && names.length < this.ctx.limits.columnNames; i++) {
      const s = cstring(b, at);
      if (!s) break;
      names.push(s.s);
      at = s.next + 18;
    }
    while (names.length < Math.min(n, this.ctx.limits.columnNames)) names.push('?');
    return names;
  }
}
