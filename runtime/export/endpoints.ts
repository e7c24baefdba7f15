// runtime/export/endpoints.ts — the two ends of a captured connection as the
// exporters show them (pcapng's synthetic IP/TCP headers, OTLP attributes).
// This is the one place exporters read connection identity off ConnInfo:
// when the kernel told capc the socket's addresses and ports (an inet or
// inet6 socket), they are used as they are. Which end opened the connection
// (the synthetic SYN comes from it) the kernel says too: a port connect()
// chose is the client's, one the program bound (a listening socket's, which
// the connections it accepts inherit) the server's (ConnIdent.portBound).
// Connections whose identity is unknown (a memory-BIO SSL, Go's crypto/tls, a
// unix socket, an fd that is not a socket, or bytes captured before the
// identity came) get documented, deterministic placeholders:
//   local (the traced process): 127.P.P.P, the low 24 bits of its pid,
//     port 10000 + conn id (mod 55536)
//   peer: 127.255.255.254, port 65534
// so every connection is its own TCP conversation and the placeholders are
// recognisable as such (docs/language.md, "pcapng").
import net from 'node:net';
import type { ConnInfo } from '../events/model.js';

export interface Endpoint {
  /** 4 bytes (IPv4) or 16 (IPv6). */
  addr: Buffer;
  port: number;
}

export interface Endpoints {
  /** The traced process's end (egress bytes leave it). */
  local: Endpoint;
  peer: Endpoint;
  /** False when these are placeholders, not the connection's real addresses. */
  real: boolean;
  /**
   * Whether the traced process opened the connection (so the synthetic SYN
   * comes from it), when the identity says; placeholders assume it did.
   */
  localIsClient: boolean;
}

const PLACEHOLDER_PEER: Endpoint = { addr: Buffer.from([127, 255, 255, 254]), port: 65534 };

function parseAddr(text: string | null | undefined): Buffer | undefined {
  if (!text) return undefined;
  const v = net.isIP(text);
  if (v === 4) return Buffer.from(text.split('.').map(Number));
  if (v !== 6) return undefined;
  // Expand `::` and an embedded IPv4 tail, then 8 groups of 16 bits.
  let t = text;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    t = t.slice(0, -v4[1]!.length) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = t.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const tl = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - tl.length).fill('0'), ...tl];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  return out;
}

function placeholderEndpoints(conn: ConnInfo): Endpoints {
  const p = conn.pid & 0xffffff;
  return {
    local: { addr: Buffer.from([127, (p >> 16) & 255, (p >> 8) & 255, p & 255]), port: 10000 + (conn.id % 55536) },
    peer: PLACEHOLDER_PEER,
    real: false,
    localIsClient: true,
  };
}

export function connEndpoints(conn: ConnInfo): Endpoints {
  const i = conn.ident;
  if (i?.state === 'socket' && (i.family === 'inet' || i.family === 'inet6') && i.local && i.peer) {
    const la = parseAddr(i.local.addr);
    const pa = parseAddr(i.peer.addr);
    const lp = i.local.port;
    const pp = i.peer.port;
    if (la && pa && la.length === pa.length && typeof lp === 'number' && typeof pp === 'number')
      return {
        local: { addr: la, port: lp },
        peer: { addr: pa, port: pp },
        real: true,
        localIsClient: !i.portBound,
      };
  }
  return placeholderEndpoints(conn);
}

/** Changes when what connEndpoints() would return changes (identity learned later): for caches. */
export function identityKey(conn: ConnInfo): string {
  const i = conn.ident;
  return i ? `${i.local?.addr ?? ''}|${i.local?.port ?? ''}|${i.peer?.addr ?? ''}|${i.peer?.port ?? ''}` : '';
}

/** An address as text (for comments and attributes). */
export function addrText(a: Buffer): string {
  if (a.length === 4) return [...a].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(a.readUInt16BE(i).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}
