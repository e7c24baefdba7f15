// runtime/format/identity.ts — a connection's identity as text and as JSON,
// the same in every output: `127.0.0.1:41712 -> 127.0.0.1:5432` (local ->
// peer, as the traced process sees it), IPv6 in brackets (`[::1]:5432`),
// unix sockets by path (`unix` for an unnamed end), and what an fd is when
// it is not a socket. Unix paths come from the traced process: control
// characters are escaped in text. Also W0910's text (calls a predicate on the
// identity let through while it was unknown).
import type { ConnIdent, ConnInfo, Endpoint } from '../events/model.js';
import { escapeText } from './payload.js';

/** One end: `1.2.3.4:80`, `[::1]:80`, `/run/x.sock`, `@abstract`, `unix` (unnamed). */
export function endpointText(e: Endpoint | undefined, family: ConnIdent['family']): string {
  if (!e) return '?';
  if (family === 'unix') return e.path ? escapeText(e.path) : 'unix';
  if (family === 'inet6') return `[${e.addr}]:${e.port}`;
  return `${e.addr}:${e.port}`;
}

/** `local -> peer`, or what the fd is when it is not a socket. */
export function identityText(i: ConnIdent): string {
  if (i.state === 'not-socket') return `fd ${i.fd} (${typeof i.type === 'string' ? i.type : 'not a socket'})`;
  if (i.state === 'no-fd') return `fd ${i.fd} (closed)`;
  if (typeof i.family === 'number') return `fd ${i.fd} (socket of family ${i.family})`;
  return `${endpointText(i.local, i.family)} -> ${endpointText(i.peer, i.family)}`;
}

/** What identifies a connection in text: its socket when known, else the script's key. */
export function connWhere(c: ConnInfo): string {
  return c.ident ? identityText(c.ident) : `key 0x${c.key.toString(16)}`;
}

/** The peer alone (the streams pane's column): `127.0.0.1:5432`, a path, or `-`. */
export function peerText(c: ConnInfo): string {
  const i = c.ident;
  if (!i) return '?';
  if (i.state !== 'socket' || typeof i.family === 'number') return i.state === 'socket' ? `af ${i.family}` : '-';
  return endpointText(i.peer, i.family);
}

export interface IdentityJson {
  identity: 'socket' | 'not-socket' | 'no-fd' | 'unknown';
  fd: number | null;
  local: Endpoint | null;
  peer: Endpoint | null;
  cgroup: number | null;
}

/** The fields capture lines and streams.json carry: null until the kernel has learned them. */
export function identityJson(c: ConnInfo): IdentityJson {
  const i = c.ident;
  if (!i) return { identity: 'unknown', fd: null, local: null, peer: null, cgroup: null };
  return { identity: i.state, fd: i.fd, local: i.local ?? null, peer: i.peer ?? null, cgroup: i.cgroup };
}

/** Everything known about the socket (the capture_conn line, streams.json). */
export function identityDetailJson(c: ConnInfo): IdentityJson & {
  family: string | number | null;
  type: string | number | null;
  inode: number | null;
  learned: string | null;
  port_bound: boolean | null;
} {
  const i = c.ident;
  return {
    ...identityJson(c),
    family: i?.family ?? null,
    type: i?.type ?? null,
    inode: i?.inode ?? null,
    learned: i?.learned ?? null,
    port_bound: i?.family === 'inet' || i?.family === 'inet6' ? i.portBound : null,
  };
}

/** W0910: calls a predicate on the identity let through while the identity was unknown. */
export function identityUnknownText(n: number): string {
  return `warning[W0910]: ${n} call${n === 1 ? '' : 's'} passed a predicate on the connection's identity before the identity was known, so ${n === 1 ? 'it was' : 'they were'} kept\n  = hint: see "Connection identity" in docs/language.md: a predicate never drops data while it cannot tell (add fd >= 0 && to keep only what is known to match)\n`;
}
