// runtime/protocols/mysql-wire.ts — MySQL/MariaDB wire formats the decoder
// reads (mysql.ts drives them): length-encoded integers and strings, the
// server greeting, the client's handshake response, OK/ERR/EOF packets,
// column definitions, capability and status flags, command names, and how
// the first bytes of a connection tell a MySQL client from a server.

export const CAP = {
  LONG_PASSWORD: 0x1,
  CONNECT_WITH_DB: 0x8,
  COMPRESS: 0x20,
  PROTOCOL_41: 0x200,
  SSL: 0x800,
  SECURE_CONNECTION: 0x8000,
  PLUGIN_AUTH: 0x80000,
  CONNECT_ATTRS: 0x100000,
  PLUGIN_AUTH_LENENC: 0x200000,
  DEPRECATE_EOF: 0x1000000,
  OPTIONAL_RESULTSET_METADATA: 0x2000000,
  ZSTD: 0x4000000,
  QUERY_ATTRIBUTES: 0x8000000,
} as const;

/** MariaDB's extended capabilities (the handshake's last 4 reserved bytes). */
export const MARIADB_CACHE_METADATA = 0x10;

export const STATUS = { MORE_RESULTS: 0x8, CURSOR_EXISTS: 0x40 } as const;

export const COMMANDS: Record<number, string> = {
  0x01: 'quit',
  0x02: 'init_db',
  0x03: 'query',
  0x04: 'field_list',
  0x05: 'create_db',
  0x06: 'drop_db',
  0x07: 'refresh',
  0x08: 'shutdown',
  0x09: 'statistics',
  0x0a: 'processlist',
  0x0c: 'process_kill',
  0x0d: 'debug',
  0x0e: 'ping',
  0x11: 'change_user',
  0x12: 'binlog_dump',
  0x16: 'prepare',
  0x17: 'execute',
  0x18: 'send_long_data',
  0x19: 'stmt_close',
  0x1a: 'stmt_reset',
  0x1b: 'set_option',
  0x1c: 'fetch',
  0x1f: 'reset_connection',
  0xfa: 'bulk_execute',
};

/** A length-encoded integer at `at`: its value (null for the NULL marker 0xfb) and where the next field starts. */
export function lenenc(b: Buffer, at: number): { v: number | null; next: number } | undefined {
  if (at >= b.length) return undefined;
  const f = b[at]!;
  if (f < 0xfb) return { v: f, next: at + 1 };
  if (f === 0xfb) return { v: null, next: at + 1 };
  if (f === 0xfc) return at + 3 <= b.length ? { v: b.readUInt16LE(at + 1), next: at + 3 } : undefined;
  if (f === 0xfd) return at + 4 <= b.length ? { v: b.readUIntLE(at + 1, 3), next: at + 4 } : undefined;
  if (f === 0xfe) return at + 9 <= b.length ? { v: Number(b.readBigUInt64LE(at + 1)), next: at + 9 } : undefined;
  return undefined; // 0xff: not a length
}

export function lenencString(b: Buffer, at: number): { s: string; next: number } | undefined {
  const n = lenenc(b, at);
  if (!n || n.v === null || n.next + n.v > b.length) return undefined;
  return { s: b.toString('utf8', n.next, n.next + n.v), next: n.next + n.v };
}

export interface OkPacket {
  affected: number;
  insertId: number;
  status: number;
  warnings: number;
}

/** An OK packet (0x00, or 0xfe ending a result with CLIENT_DEPRECATE_EOF); also a 5-byte EOF packet. */
export function okPacket(b: Buffer): OkPacket {
  if (b[0] === 0xfe && b.length === 5)
    return { affected: 0, insertId: 0, warnings: b.readUInt16LE(1), status: b.readUInt16LE(3) };
  const a = lenenc(b, 1);
  const id = a && lenenc(b, a.next);
  const at = id?.next ?? b.length;
  return {
    affected: a?.v ?? 0,
    insertId: id?.v ?? 0,
    status: at + 2 <= b.length ? b.readUInt16LE(at) : 0,
    warnings: at + 4 <= b.length ? b.readUInt16LE(at + 2) : 0,
  };
}

/** `1064 (42000): You have an error...` from an ERR packet. */
export function errPacket(b: Buffer): string {
  if (b.length < 3) return 'error';
  const code = b.readUInt16LE(1);
  if (b[3] === 0x23 && b.length >= 9) return `${code} (${b.toString('latin1', 4, 9)}): ${b.toString('utf8', 9)}`;
  return `${code}: ${b.toString('utf8', 3)}`;
}

/** The name of a column definition (ColumnDefinition41: catalog, schema, table, org_table, name, ...). */
export function columnName(b: Buffer): string | undefined {
  let at = 0;
  for (let i = 0; i < 4; i++) {
    const s = lenencString(b, at);
    if (!s) return undefined;
    at = s.next;
  }
  return lenencString(b, at)?.s;
}

export interface Greeting {
  version: string;
  connectionId: number;
  caps: number;
  extCaps: number;
}

/** The server's first packet (protocol 10). */
export function greeting(b: Buffer): Greeting | undefined {
  if (b[0] !== 10) return undefined;
  const z = b.indexOf(0, 1);
  if (z < 0 || z + 16 > b.length) return undefined;
  const version = b.toString('latin1', 1, z);
  let at = z + 1;
  const connectionId = b.readUInt32LE(at);
  at += 4 + 8 + 1;
  let caps = b.readUInt16LE(at);
  at += 2;
  let extCaps = 0;
  if (at + 5 <= b.length) {
    caps |= b.readUInt16LE(at + 3) << 16;
    if (at + 16 <= b.length && !(caps & CAP.LONG_PASSWORD)) extCaps = b.readUInt32LE(at + 12);
  }
  return { version, connectionId, caps: caps >>> 0, extCaps };
}

export interface HandshakeResponse {
  caps: number;
  extCaps: number;
  user: string;
  database: string | null;
  plugin: string | null;
  program: string | null;
  /** An SSLRequest: TLS follows on the socket. */
  ssl: boolean;
}

/** The client's HandshakeResponse41 (or the SSLRequest that precedes it when TLS is used). */
export function handshakeResponse(b: Buffer): HandshakeResponse | undefined {
  if (b.length < 32) return undefined;
  const caps = b.readUInt32LE(0);
  if (!(caps & CAP.PROTOCOL_41)) return undefined;
  const extCaps = caps & CAP.LONG_PASSWORD ? 0 : b.readUInt32LE(28);
  const base = { caps, extCaps, database: null, plugin: null, program: null };
  if (b.length === 32) return { ...base, user: '', ssl: !!(caps & CAP.SSL) };
  let at = 32;
  const z = b.indexOf(0, at);
  if (z < 0) return undefined;
  const user = b.toString('utf8', at, z);
  at = z + 1;
  if (caps & CAP.PLUGIN_AUTH_LENENC) {
    const n = lenenc(b, at);
    if (!n || n.v === null) return { ...base, user, ssl: false };
    at = n.next + n.v;
  } else if (caps & CAP.SECURE_CONNECTION) at += 1 + (b[at] ?? 0);
  else {
    const e = b.indexOf(0, at);
    at = e < 0 ? b.length : e + 1;
  }
  let database: string | null = null;
  if (caps & CAP.CONNECT_WITH_DB && at < b.length) {
    const e = b.indexOf(0, at);
    database = b.toString('utf8', at, e < 0 ? b.length : e) || null;
    at = e < 0 ? b.length : e + 1;
  }
  let plugin: string | null = null;
  if (caps & CAP.PLUGIN_AUTH && at < b.length) {
    const e = b.indexOf(0, at);
    plugin = b.toString('latin1', at, e < 0 ? b.length : e) || null;
    at = e < 0 ? b.length : e + 1;
  }
  let program: string | null = null;
  if (caps & CAP.CONNECT_ATTRS && at < b.length) {
    const total = lenenc(b, at);
    let p = total?.next ?? b.length;
    const end = Math.min(b.length, p + (total?.v ?? 0));
    while (p < end) {
      const k = lenencString(b, p);
      const v = k && lenencString(b, k.next);
      if (!k || !v) break;
      if (k.s === 'program_name') program = v.s;
      p = v.next;
    }
  }
  return { caps, extCaps, user, database, plugin, program, ssl: false };
}

/** Whose are these first bytes of a connection: a client's (handshake response, a command) or a server's (greeting)? */
export function detectMysql(b: Buffer, relaxed: boolean): 'client' | 'server' | 'no' | 'more' {
  if (b.length < 5) return b.length >= 4 && b[3]! > 3 ? 'no' : 'more';
  const len = b.readUIntLE(0, 3);
  const seq = b[3]!;
  const first = b[4]!;
  if (len === 0) return 'no';
  const whole = 4 + len <= b.length;
  if (seq === 0 && first === 10) {
    // Greeting: protocol 10, then a printable version string ending in NUL.
    const z = b.indexOf(0, 5);
    if (z < 0) return whole || b.length > 64 ? 'no' : 'more';
    const v = b.toString('latin1', 5, z);
    return /^\d+\.\d+[\x20-\x7e]*$/.test(v) ? 'server' : 'no';
  }
  if ((seq === 1 || seq === 2) && len >= 32 && len < 65536) {
    if (b.length < 8) return 'more';
    const caps = b.readUInt32LE(4);
    if (caps & CAP.PROTOCOL_41 && (len === 32 ? caps & CAP.SSL : true)) return 'client';
    return 'no';
  }
  if (seq === 0 && COMMANDS[first] && len <= 0xffffff) {
    // A command, picked up mid-stream: the whole packet must be here (or the user named the protocol).
    if (first === 0x03 || first === 0x16 || first === 0x02) {
      if (whole && (4 + len === b.length || relaxed)) return 'client';
      if (!whole) return relaxed ? 'client' : b.length < 4096 ? 'more' : 'no';
      return 'no';
    }
    return relaxed && whole ? 'client' : 'no';
  }
  if (relaxed && seq === 1 && (first === 0x00 || first === 0xff) && whole) return 'server';
  return 'no';
}
