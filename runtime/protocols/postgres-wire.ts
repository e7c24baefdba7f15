// runtime/protocols/postgres-wire.ts — PostgreSQL v3 wire facts the decoder
// (postgres.ts) uses: request codes, message types per side, how the first
// bytes of a connection tell a client from a server, ErrorResponse fields,
// command tags, authentication methods.
import { cstring } from './conversation.js';

export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;
/** PostgreSQL's largest message is 1 GB. */
export const MAX_LEN = 0x40000000;

export const CLIENT_TYPES = new Set('QPBEDSHCXFdcfp');
export const SERVER_TYPES = new Set('RSKZTDCIEN A123ntsGHWdcVv'.replace(' ', ''));
/** The same sets by byte (checked on every message). */
const byteTable = (set: Set<string>) =>
  Uint8Array.from({ length: 256 }, (_, c) => (set.has(String.fromCharCode(c)) ? 1 : 0));
export const CLIENT_BYTE = byteTable(CLIENT_TYPES);
export const SERVER_BYTE = byteTable(SERVER_TYPES);
export const TYPE_CHAR = Array.from({ length: 256 }, (_, c) => String.fromCharCode(c));
/** Messages only a client sends / only a server sends (to tell the sides apart mid-stream). */
export const CLIENT_ONLY = new Set('QPBF');
export const SERVER_ONLY = new Set('RKZT123nt');

/** The chain of whole messages at the start of `b`: how many, and whether every one has a type of `types`. */
export function chain(b: Buffer, types: Set<string>): { whole: number; valid: boolean; exact: boolean; types: string } {
  let at = 0;
  let whole = 0;
  let seen = '';
  while (at + 5 <= b.length) {
    const t = String.fromCharCode(b[at]!);
    const len = b.readUInt32BE(at + 1);
    if (!types.has(t) || len < 4 || len > MAX_LEN) return { whole, valid: false, exact: false, types: seen };
    if (at + 1 + len > b.length) break;
    at += 1 + len;
    whole++;
    seen += t;
  }
  return { whole, valid: true, exact: at === b.length, types: seen };
}

/** Whose are these first bytes of a connection (`client`: a startup or request; `server`: responses)? */
export function detectPostgres(b: Buffer, relaxed: boolean): 'client' | 'server' | 'no' | 'more' {
  if (b.length < 8) {
    if (b.length >= 1 && b[0] === 0) return 'more';
    if (b.length >= 1 && !CLIENT_TYPES.has(String.fromCharCode(b[0]!)) && !SERVER_TYPES.has(String.fromCharCode(b[0]!)))
      return 'no';
    return 'more';
  }
  const len = b.readUInt32BE(0);
  const code = b.readUInt32BE(4);
  if (len >= 8 && len <= 10000 && (code >>> 16 === 3 || code === SSL_REQUEST || code === GSSENC_REQUEST))
    return 'client';
  if (len === 16 && code === CANCEL_REQUEST) return 'client';
  // Picked up mid-stream: a run of whole typed messages.
  for (const [types, only, side] of [
    [CLIENT_TYPES, CLIENT_ONLY, 'client'],
    [SERVER_TYPES, SERVER_ONLY, 'server'],
  ] as const) {
    const c = chain(b, types);
    if (!c.valid) continue;
    if (c.whole && (c.exact || relaxed) && [...c.types].some((t) => only.has(t))) return side;
    if (!c.whole) return 'more';
  }
  return 'no';
}

export const AUTH: Record<number, string> = {
  0: 'ok',
  2: 'kerberos',
  3: 'password',
  5: 'md5',
  7: 'gss',
  9: 'sspi',
  10: 'sasl',
};

/** `42P01: relation "x" does not exist` from an ErrorResponse's fields. */
export function errorText(b: Buffer): string {
  const f: Record<string, string> = {};
  let at = 0;
  while (at < b.length && b[at] !== 0) {
    const code = String.fromCharCode(b[at]!);
    const s = cstring(b, at + 1);
    if (!s) break;
    f[code] = s.s;
    at = s.next;
  }
  const sev = f.V ?? f.S;
  return `${f.C ?? '?????'}: ${f.M ?? 'error'}${sev && sev !== 'ERROR' ? ` (${sev})` : ''}`;
}

/** Rows the command tags report (`INSERT 0 5`, `UPDATE 3`, `SELECT 2`, `COPY 10`), or null when none does. */
export function rowsOf(tags: string[]): number | null {
  let n: number | null = null;
  for (const t of tags) {
    const m = /\s(\d+)$/.exec(t);
    if (m) n = (n ?? 0) + Number(m[1]);
  }
  return n;
}
