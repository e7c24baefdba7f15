// runtime/protocols/mysql.ts — MySQL and MariaDB's client/server protocol:
// the greeting and login (user, schema, program; seen from the client's
// handshake response when TLS hides the greeting), COM_QUERY, COM_INIT_DB,
// COM_STMT_PREPARE/EXECUTE/FETCH (the text found again by statement id),
// text and binary result sets (column count and names, rows counted as they
// pass, never kept), OK/ERR/EOF with or without CLIENT_DEPRECATE_EOF (told
// apart by the packets themselves when the login was not seen), multi-result
// responses, payloads of 16 MiB and more split over several packets, LOCAL
// INFILE. Sequence ids are checked on every packet: one out of order means
// the decoder lost its place. The compressed protocol is reported as not
// decoded. One exchange per command (a successful prepare is folded into the
// executions that follow) and per login.
import { Conversation, text, type Pending, type Verdict } from './conversation.js';
import { draft, type Role } from './exchange.js';
import {
  CAP,
  COMMANDS,
  MARIADB_CACHE_METADATA,
  STATUS,
  columnName,
  errPacket,
  greeting,
  handshakeResponse,
  lenenc,
  okPacket,
} from './mysql-wire.js';
import { Body, HOLE, OK, SHORT, type ByteQueue } from './reader.js';

export { detectMysql } from './mysql-wire.js';

const MAX_PACKET = 0xffffff;
/** Commands whose OK reports affected rows. */
const ROW_COMMANDS = new Set(['query', 'execute', 'bulk_execute']);

type St =
  | 'auth'
  | 'first'
  | 'columns'
  | 'afterColumns'
  | 'rows'
  | 'params'
  | 'paramsEnd'
  | 'prepColumns'
  | 'prepEnd'
  | 'one'
  | 'fieldList';

interface MyUnit extends Pending {
  kind: string;
  st: St;
  /** Column or parameter definitions still to come. */
  left: number;
  /** The sequence id the server's next packet must carry. */
  seq: number;
  rows: number;
  resultSets: number;
  affected: number;
  status: number;
  prep?: { id: number; columns: number; params: number };
  schema?: string;
  newUser?: string;
}

/** A logical message being read: one or more packets (a payload of 16 MiB or more continues in the next). */
interface Msg {
  first: number;
  seq: number;
  lastSeq: number;
  payload: number;
  size: number;
  start: bigint;
  cap: number;
  parts: Buffer[];
  kept: number;
  keptHole: boolean;
  /** Bytes of it that were lost (holes inside the payload). */
  lost: number;
}

function newMsg(): Msg {
  return {
    first: 0,
    seq: 0,
    lastSeq: 0,
    payload: 0,
    size: 0,
    start: 0n,
    cap: 0,
    parts: [],
    kept: 0,
    keptHole: false,
    lost: 0,
  };
}

interface DirReader {
  msg: Msg | undefined;
  spare: Msg;
  inPacket: boolean;
  more: boolean;
  body: Body;
}

export class MysqlConversation extends Conversation<MyUnit> {
  private phase: 'greeting' | 'login' | 'command';
  private caps = 0;
  private capsKnown = false;
  private extCaps = 0;
  private serverCaps: number | undefined;
  /** The server's version and connection id, when its greeting was seen. */
  private greetingDetails: Record<string, string | number> | undefined;
  private readonly stmts = new Map<number, { text: string; truncated: boolean }>();
  private lastPrepare: { text: string; truncated: boolean } | undefined;
  private readonly dirs: Record<Role, DirReader> = {
    client: { msg: undefined, spare: newMsg(), inPacket: false, more: false, body: new Body() },
    server: { msg: undefined, spare: newMsg(), inPacket: false, more: false, body: new Body() },
  };

  constructor(ctx: ConstructorParameters<typeof Conversation>[0], start: 'greeting' | 'login' | 'command') {
    super(ctx);
    this.phase = start;
  }

  protected reset(): void {
    for (const d of Object.values(this.dirs)) {
      d.msg = undefined;
      d.inPacket = false;
      d.more = false;
    }
    if (this.phase !== 'command') this.phase = 'command';
  }

  protected startsHere(role: Role, q: ByteQueue): Verdict {
    const st = q.ensure(5);
    if (st === SHORT) return 'more';
    if (st !== OK) return 'no';
    const len = q.buf.readUIntLE(q.at, 3);
    const seq = q.buf[q.at + 3]!;
    const first = q.buf[q.at + 4]!;
    if (len === 0) return 'no';
    if (role === 'client') return seq === 0 && COMMANDS[first] ? 'yes' : 'no';
    const head = this.pending[0];
    return head && seq === head.seq && (head.st !== 'first' || first !== 0xfe) ? 'yes' : 'no';
  }

  protected parse(role: Role): void {
    const d = this.dirs[role];
    const q = this.queues[role];
    while (this.isOk(role) && !this.stopped) {
      if (!d.inPacket) {
        const st = q.ensure(4);
        if (st === SHORT) return;
        if (st === HOLE)
          return this.lose(role, `stream hole where a ${role === 'client' ? 'request' : 'response'} packet began`);
        const len = q.buf.readUIntLE(q.at, 3);
        const seq = q.buf[q.at + 3]!;
        if (!d.msg) {
          let first = -1;
          if (len > 0) {
            const s2 = q.ensure(5);
            if (s2 === SHORT) return;
            if (s2 === OK) first = q.buf[q.at + 4]!;
          }
          const cap = this.capFor(role, first, seq);
          const start = q.headStamp().first;
          // One message object per direction, reused: a result set is mostly rows, and rows keep nothing.
          const m = d.spare;
          m.first = first;
          m.seq = seq;
          m.lastSeq = seq;
          m.payload = 0;
          m.size = 0;
          m.start = start;
          m.cap = cap;
          if (m.parts.length) m.parts = [];
          m.kept = 0;
          m.keptHole = false;
          m.lost = 0;
          d.msg = m;
        } else {
          if (seq !== ((d.msg.lastSeq + 1) & 0xff)) return this.lose(role, 'packet sequence out of order');
          d.msg.lastSeq = seq;
        }
        q.consume(4);
        d.msg.payload += len;
        d.msg.size += 4 + len;
        d.body.begin(len, d.msg.cap - d.msg.kept);
        d.more = len === MAX_PACKET;
        d.inPacket = true;
      }
      if (!d.body.pull(q)) return;
      d.inPacket = false;
      const m = d.msg!;
      if (d.body.kept) {
        m.parts.push(d.body.data());
        m.kept += d.body.kept;
      }
      if (d.body.keptHole) m.keptHole = true;
      m.lost += d.body.lost;
      if (d.more) continue;
      d.msg = undefined;
      if (role === 'client') this.onClient(m);
      else this.onServer(m, q.lastStamp.last);
    }
  }

  /** How much of a message to keep, from its first byte and what is expected. */
  private capFor(role: Role, first: number, seq: number): number {
    const lim = this.ctx.limits;
    if (role === 'client') {
      if (this.phase !== 'command') return this.pending[0]?.kind === 'login' ? 0 : lim.messageBytes;
      if (seq !== 0) return 0;
      if (first === 0x03 || first === 0x16) return lim.statementBytes + 64;
      return first === 0x02 || first === 0x11 ? lim.messageBytes : 16;
    }
    const head = this.pending[0];
    if (!head) return this.phase === 'greeting' ? lim.messageBytes : 0;
    if (first === 0xfe || first === 0xff) return lim.messageBytes;
    switch (head.st) {
      case 'rows':
      case 'afterColumns':
      case 'params':
      case 'paramsEnd':
        return 0;
      default:
        return lim.messageBytes;
    }
  }

  private payload(m: Msg): Buffer {
    return m.parts.length === 1 ? m.parts[0]! : Buffer.concat(m.parts, m.kept);
  }

  // ---- client ---------------------------------------------------------------

  private onClient(m: Msg): void {
    const head = this.pending[0];
    if (this.phase !== 'command') {
      if (head?.kind === 'login') {
        // Authentication data (switch responses, passwords): counted, never kept.
        head.x.bytesOut += m.size;
        head.seq = (m.lastSeq + 1) & 0xff;
        return;
      }
      const hr = m.keptHole ? undefined : handshakeResponse(this.payload(m));
      if (!hr) return this.lose('client', 'not a MySQL handshake response');
      const x = draft('login', m.start);
      x.bytesOut = m.size;
      if (hr.ssl) {
        x.command = 'ssl_request';
        x.status = 'TLS follows';
        this.emit(x);
        return this.stop('TLS follows: the plaintext is seen by the SSL_read/SSL_write probes');
      }
      this.caps = this.serverCaps !== undefined ? hr.caps & this.serverCaps : hr.caps;
      this.capsKnown = true;
      this.extCaps = hr.extCaps;
      this.login.user = hr.user;
      this.login.database = hr.database;
      this.login.application = hr.program;
      x.details = { ...this.greetingDetails };
      if (hr.plugin) x.details.auth_plugin = hr.plugin;
      if (hr.program) (x.details ??= {}).program_name = hr.program;
      this.phase = 'login';
      this.enqueue(this.unit('login', 'auth', x, m));
      return;
    }
    if (m.seq !== 0) {
      // More of the current exchange: LOCAL INFILE contents, a long parameter.
      if (head) {
        head.x.bytesOut += m.size;
        this.noteLost(head.x, m.lost, 'client');
        head.seq = (m.lastSeq + 1) & 0xff;
      } else this.unclaimed('client', m.size);
      return;
    }
    if (m.first < 0) return this.lose('client', 'stream hole where a command began');
    const cmd = m.first;
    const name = COMMANDS[cmd] ?? `command_0x${cmd.toString(16).padStart(2, '0')}`;
    const x = draft(name, m.start);
    x.bytesOut = m.size;
    this.noteLost(x, m.lost, 'client');
    const b = this.payload(m);
    switch (cmd) {
      case 0x01: // quit
      case 0x18: // send_long_data
        this.unclaimed('client', m.size);
        return;
      case 0x19: // stmt_close: no response
        if (b.length >= 5) this.stmts.delete(b.readUInt32LE(1));
        this.unclaimed('client', m.size);
        return;
      case 0x12:
        this.unclaimed('client', m.size);
        return this.stop('replication stream (COM_BINLOG_DUMP): not decoded');
      case 0x03:
      case 0x16: {
        let at = 1;
        if (cmd === 0x03 && this.caps & CAP.QUERY_ATTRIBUTES) {
          const n = lenenc(b, 1);
          const sets = n && lenenc(b, n.next);
          if (!n || !sets || n.v !== 0) {
            x.notDecoded = 'query attributes (CLIENT_QUERY_ATTRIBUTES) are not decoded';
            at = -1;
          } else at = sets.next;
        }
        if (at >= 0) {
          if (m.keptHole) x.notDecoded = 'bytes of the statement were lost';
          else {
            x.statement = text(b, at, Math.min(b.length, at + this.ctx.limits.statementBytes));
            if (m.payload > b.length || b.length - at > this.ctx.limits.statementBytes) x.statementTruncated = true;
          }
        }
        if (cmd === 0x16)
          this.lastPrepare =
            x.statement === null ? undefined : { text: x.statement, truncated: !!x.statementTruncated };
        this.enqueue(this.unit(name, 'first', x, m));
        return;
      }
      case 0x17:
      case 0xfa:
      case 0x1c: {
        const id = b.length >= 5 ? b.readUInt32LE(1) : -1;
        const s = id === 0xffffffff ? this.lastPrepare : this.stmts.get(id);
        if (s) {
          x.statement = s.text;
          if (s.truncated) x.statementTruncated = true;
        } else x.notDecoded = `statement ${id} was prepared before capture started`;
        x.details = { statement_id: id === 0xffffffff ? -1 : id };
        if (cmd === 0x1c && b.length >= 9) x.details.fetch_rows = b.readUInt32LE(5);
        this.enqueue(this.unit(name, cmd === 0x1c ? 'rows' : 'first', x, m));
        return;
      }
      case 0x02: {
        const u = this.unit(name, 'one', x, m);
        u.schema = text(b, 1);
        x.details = { schema: u.schema };
        this.enqueue(u);
        return;
      }
      case 0x11: {
        const z = b.indexOf(0, 1);
        const u = this.unit(name, 'auth', x, m);
        u.newUser = text(b, 1, z < 0 ? b.length : z);
        this.enqueue(u);
        return;
      }
      case 0x04:
        this.enqueue({ ...this.unit(name, 'fieldList', x, m), left: Infinity });
        return;
      case 0x0a:
        this.enqueue(this.unit(name, 'first', x, m));
        return;
      default:
        this.enqueue(this.unit(name, 'one', x, m));
    }
  }

  private unit(kind: string, st: St, x: ReturnType<typeof draft>, m: Msg): MyUnit {
    return {
      kind,
      st,
      x,
      held: 0,
      left: 0,
      seq: (m.lastSeq + 1) & 0xff,
      rows: 0,
      resultSets: 0,
      affected: 0,
      status: 0,
    };
  }

  // ---- server ---------------------------------------------------------------

  private onServer(m: Msg, end: bigint): void {
    let head = this.pending[0];
    // After the last definition an EOF packet may or may not follow (CLIENT_DEPRECATE_EOF, unknown when the login was not seen).
    while (head && (head.st === 'paramsEnd' || head.st === 'prepEnd') && !(m.first === 0xfe && m.payload === 5)) {
      if (head.st === 'paramsEnd' && head.prep!.columns > 0) {
        head.st = 'prepColumns';
        head.left = head.prep!.columns;
        break;
      }
      this.complete(head, head.x.end ?? end);
      head = this.pending[0];
    }
    if (!head) {
      if (this.phase === 'greeting') return this.onGreeting(m, end);
      this.unclaimed('server', m.size);
      return;
    }
    if (m.seq !== head.seq) return this.lose('server', 'packet sequence out of order');
    head.seq = (m.lastSeq + 1) & 0xff;
    head.x.bytesIn += m.size;
    this.noteLost(head.x, m.lost, 'server');
    head.x.end = end;
    const b = m.kept ? this.payload(m) : undefined;
    const x = head.x;
    const isEnd = m.first === 0xfe && m.payload < MAX_PACKET;
    if (m.first === 0xff && head.st !== 'params' && head.st !== 'prepColumns') {
      x.error = b && !m.keptHole ? errPacket(b) : 'error (message lost)';
      return this.complete(head, end);
    }
    switch (head.st) {
      case 'auth':
        if (m.first === 0x00) {
          x.status = 'OK';
          if (head.kind === 'change_user') {
            this.login.user = head.newUser ?? this.login.user;
            this.stmts.clear();
          }
          this.phase = 'command';
          this.complete(head, end);
          if (this.caps & (CAP.COMPRESS | CAP.ZSTD)) this.stop('compressed protocol (CLIENT_COMPRESS): not decoded');
        } else if (m.first === 0xfe && b) {
          const z = b.indexOf(0, 1);
          (x.details ??= {}).auth_plugin = b.toString('latin1', 1, z < 0 ? b.length : z);
        }
        return;
      case 'first': {
        if (m.first === 0x00 && head.kind === 'prepare') {
          if (b && b.length >= 9) {
            head.prep = { id: b.readUInt32LE(1), columns: b.readUInt16LE(5), params: b.readUInt16LE(7) };
            if (x.statement !== null) {
              this.stmts.set(head.prep.id, { text: x.statement, truncated: !!x.statementTruncated });
              if (this.stmts.size > this.ctx.limits.prepared) this.stmts.delete(this.stmts.keys().next().value!);
            }
            x.details = { statement_id: head.prep.id };
            x.columns = head.prep.columns;
          }
          const p = head.prep ?? { id: 0, columns: 0, params: 0 };
          if (p.params) this.next(head, 'params', p.params);
          else if (p.columns) this.next(head, 'prepColumns', p.columns);
          else this.complete(head, end);
          return;
        }
        if (m.first === 0x00 || isEnd) {
          const ok = b ? okPacket(b) : undefined;
          head.affected += ok?.affected ?? 0;
          if (ok?.insertId) (x.details ??= {}).insert_id = ok.insertId;
          if (ok?.warnings) (x.details ??= {}).warnings = ok.warnings;
          return this.endResult(head, ok?.status ?? 0, end);
        }
        if (m.first === 0xfb) {
          (x.notes ??= []).push('LOCAL INFILE');
          return;
        }
        const n = b ? lenenc(b, 0) : undefined;
        if (!n || n.v === null) return this.lose('server', 'not a MySQL result set');
        x.columns = n.v;
        x.columnNames = [];
        head.resultSets++;
        // MariaDB's cached metadata adds one byte after the count (0: the definitions are not sent again);
        // the packet's length says whether it is there, even when the login was not seen.
        const flagged = b!.length === n.next + 1 || (this.extCaps & MARIADB_CACHE_METADATA) !== 0;
        const skipDefs = flagged && b![n.next] === 0;
        if (skipDefs || n.v === 0) head.st = 'afterColumns';
        else this.next(head, 'columns', n.v);
        return;
      }
      case 'columns':
      case 'fieldList':
        if (head.st === 'fieldList' && isEnd) return this.complete(head, end);
        this.columnName(head, b);
        if (--head.left === 0) head.st = 'afterColumns';
        return;
      case 'afterColumns':
        if (isEnd) {
          const ok = b ? okPacket(b) : undefined;
          const status = ok?.status ?? 0;
          if (status & STATUS.CURSOR_EXISTS) {
            (x.notes ??= []).push('cursor opened: rows come with fetch');
            return this.complete(head, end);
          }
          if (m.payload === 5 && !(this.capsKnown && this.caps & CAP.DEPRECATE_EOF)) {
            head.st = 'rows'; // the EOF after the column definitions
            return;
          }
          return this.endResult(head, status, end);
        }
        head.rows++;
        head.st = 'rows';
        return;
      case 'rows':
        if (isEnd) return this.endResult(head, b ? okPacket(b).status : 0, end);
        head.rows++;
        return;
      case 'params':
        if (--head.left === 0)
          head.st = this.capsKnown && this.caps & CAP.DEPRECATE_EOF ? this.afterParams(head, end) : 'paramsEnd';
        return;
      case 'paramsEnd':
        // The EOF after the parameter definitions.
        if (head.prep!.columns) this.next(head, 'prepColumns', head.prep!.columns);
        else this.complete(head, end);
        return;
      case 'prepColumns':
        if (--head.left === 0) {
          if (this.capsKnown && this.caps & CAP.DEPRECATE_EOF) this.complete(head, end);
          else head.st = 'prepEnd';
        }
        return;
      case 'prepEnd':
        return this.complete(head, end);
      case 'one':
        if (m.first === 0x00 || m.first === 0xfe) {
          x.status = 'OK';
          const ok = b && m.first === 0x00 ? okPacket(b) : undefined;
          if (ok?.affected) head.affected = ok.affected;
          if (head.kind === 'init_db') this.login.database = head.schema ?? this.login.database;
          if (head.kind === 'reset_connection') this.stmts.clear();
        } else if (b) x.status = text(b, 0, Math.min(b.length, 200));
        return this.complete(head, end);
    }
  }

  private afterParams(head: MyUnit, end: bigint): St {
    if (head.prep!.columns) {
      head.left = head.prep!.columns;
      return 'prepColumns';
    }
    this.complete(head, end);
    return 'prepEnd';
  }

  private next(head: MyUnit, st: St, left: number): void {
    head.st = st;
    head.left = left;
  }

  private columnName(head: MyUnit, b: Buffer | undefined): void {
    const names = head.x.columnNames;
    if (!names || names.length >= this.ctx.limits.columnNames) return;
    names.push((b && columnName(b)) ?? '?');
  }

  /** A result (or an OK) ended: another follows when the server says so. */
  private endResult(head: MyUnit, status: number, end: bigint): void {
    if (status & STATUS.MORE_RESULTS) {
      head.st = 'first';
      return;
    }
    head.x.status = 'OK';
    this.complete(head, end);
  }

  private complete(head: MyUnit, end: bigint): void {
    if (this.pending[0] === head) this.dequeue();
    const x = head.x;
    x.end = end;
    // Column names are not sent again when the server caches metadata (MariaDB): only the count is known.
    if (x.columnNames && !x.columnNames.length) delete x.columnNames;
    if (head.kind === 'login' || head.kind === 'change_user') x.status = x.error ? 'failed' : 'OK';
    else if (head.resultSets || head.kind === 'fetch') x.rows = head.rows;
    else if (!x.error && ROW_COMMANDS.has(head.kind)) x.rows = head.affected;
    if (head.kind === 'prepare' && !x.error) {
      // A prepared statement is reported with its executions.
      this.unclaimed('client', x.bytesOut);
      this.unclaimed('server', x.bytesIn);
      return;
    }
    if (head.kind === 'login' || head.kind === 'change_user') this.phase = 'command';
    this.emit(x);
  }

  private onGreeting(m: Msg, end: bigint): void {
    this.unclaimed('server', m.size);
    const b = m.kept ? this.payload(m) : undefined;
    if (m.first === 0xff) {
      const x = draft('login', m.start);
      x.error = b ? errPacket(b) : 'error';
      x.status = 'failed';
      x.end = end;
      this.emit(x);
      return;
    }
    const g = b && greeting(b);
    if (!g) return this.lose('server', 'not a MySQL greeting');
    this.serverCaps = g.caps;
    this.phase = 'login';
    this.greetingDetails = { server_version: g.version, connection_id: g.connectionId };
  }
}
