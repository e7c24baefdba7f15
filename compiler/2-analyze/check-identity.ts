// compiler/2-analyze/check-identity.ts — connection identity in analysis: the
// builtins that read it (laddr, raddr, lport, rport, fd) and where they
// exist (probes capc knows the connection of), address literals they are
// compared with (`raddr == "10.0.0.0/8"`). The probes capc adds to learn a
// connection's socket are planned by compiler/3-lower/plan-identity.ts; the
// kernel side is stdlib/capc-ident.bpf.h.
import type * as A from '../../grammar/ast.js';
import { forEachExpr, forEachExprIn } from '../../grammar/walk.js';
import { CAPTURE_SIGNATURES, FAMILIES } from '../../stdlib/signatures.js';
import type { CheckContext } from './context.js';
import { ERROR, S64, typeName, U64, type Type } from './types.js';

/** The identity builtins: local and peer address and port, and the fd of the connection's socket. */
export const IDENT_NAMES = ['laddr', 'raddr', 'lport', 'rport', 'fd'];

const IDENT_TYPES: Record<string, Type> = {
  laddr: { k: 'inet' },
  raddr: { k: 'inet' },
  lport: U64,
  rport: U64,
  fd: S64,
};

/** Does the probe read the connection's identity anywhere (predicate or body)? */
export function usesIdentityNames(item: A.ProbeItem): boolean {
  let found = false;
  forEachExprIn(item, (e) => {
    if (e.kind === 'Ident' && IDENT_NAMES.includes(e.name)) found = true;
  });
  return found;
}

/** The builtins that are "maybe" while the identity is unknown (fd is not: it reads -1 then). */
export const ADDRESS_NAMES = ['laddr', 'raddr', 'lport', 'rport'];

/** Does this expression read the connection's addresses or ports (unknown until the kernel learns them)? */
export function readsAddress(e: A.Expr): boolean {
  let found = false;
  forEachExpr(e, (x) => {
    if (x.kind === 'Ident' && ADDRESS_NAMES.includes(x.name)) found = true;
  });
  return found;
}

/** Does this expression read the connection's identity at all (addresses, ports or fd)? */
export function readsIdentity(e: A.Expr): boolean {
  let found = false;
  forEachExpr(e, (x) => {
    if (x.kind === 'Ident' && IDENT_NAMES.includes(x.name)) found = true;
  });
  return found;
}

/**
 * A predicate's top-level `&&` operands, split into those that do not read
 * the identity (tested first, before capc looks the identity up: a filter on
 * comm or pid costs no socket walk) and the rest, each list in source order.
 * Predicates have no side effects, so the order does not change the result.
 */
export function splitIdentityConjuncts(e: A.Expr): { plain: A.Expr[]; identity: A.Expr[] } {
  const all: A.Expr[] = [];
  const walk = (x: A.Expr) => {
    if (x.kind === 'Binary' && x.op === '&&') {
      walk(x.left);
      walk(x.right);
    } else all.push(x);
  };
  walk(e);
  return { plain: all.filter((x) => !readsIdentity(x)), identity: all.filter(readsIdentity) };
}

/** The type of an identity builtin in this probe, or an error saying where it exists. */
export function identNameType(e: A.IdentExpr, cx: CheckContext): Type {
  const capture = cx.inst.capture;
  if (!capture) {
    // Per family the functions that mark it (their _ex, 2, _seq and PR_Send siblings are covered too).
    const known = Object.values(FAMILIES).map((f) =>
      f.marks.length
        ? f.marks.join('/')
        : CAPTURE_SIGNATURES.filter((x) => x.family === f.name && x.match.kind === 'tracepoint')
            .map((x) => (x.match as { name: string }).name)
            .join('/'),
    );
    cx.bag.add(
      'E0405',
      `'${e.name}' is not available in this probe: capc knows no connection here`,
      e.span,
      `the connection's identity (laddr, raddr, lport, rport, fd) exists in probes capc knows the connection of: ${known.join(', ')}, and uprobe:tls:`,
    );
    return ERROR;
  }
  cx.inst.usesIdentity = true;
  return IDENT_TYPES[e.name]!;
}

/** An address literal: 16 bytes (IPv4 in the first 4) and a prefix length in bits. */
export interface AddressLiteral {
  family: 4 | 6;
  bytes: Uint8Array;
  prefix: number;
}

function parseIPv4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    out.push(Number(p));
  }
  return out;
}

function parseIPv6(text: string): number[] | undefined {
  let s = text;
  if (s.includes('.')) {
    // An IPv4 tail (::ffff:1.2.3.4) is two groups.
    const at = s.lastIndexOf(':');
    const v4 = parseIPv4(s.slice(at + 1));
    if (at < 0 || !v4) return undefined;
    s = `${s.slice(0, at + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  if (halves.length === 1 ? head.length !== 8 : head.length + tail.length > 7) return undefined;
  const groups = [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  const out: number[] = [];
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    const v = parseInt(g, 16);
    out.push(v >> 8, v & 0xff);
  }
  return out;
}

/**
 * Parse `127.0.0.1`, `::1`, `10.0.0.0/8`, `fe80::/10`; undefined when it is
 * not an address (the caller reports it).
 */
export function parseAddressLiteral(text: string): AddressLiteral | undefined {
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  if (!m) return undefined;
  const v4 = parseIPv4(m[1]!);
  const v6 = v4 ? undefined : parseIPv6(m[1]!);
  const raw = v4 ?? v6;
  if (!raw) return undefined;
  const family = v4 ? 4 : 6;
  const bits = family === 4 ? 32 : 128;
  const prefix = m[2] === undefined ? bits : Number(m[2]);
  if (prefix > bits) return undefined;
  const bytes = new Uint8Array(16);
  bytes.set(raw);
  // The network's address: host bits beyond the prefix are cleared.
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    bytes[i] = bytes[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return { family, bytes, prefix };
}

export const ADDRESS_COMPARE_HINT =
  'compare laddr or raddr with an address literal: raddr == "10.0.0.1", raddr == "::1", raddr != "10.0.0.0/8"';

/** `raddr == "..."`: one side an identity address, the other an address literal; only == and !=. */
export function checkAddressCompare(e: A.BinaryExpr, l: Type, r: Type, cx: CheckContext): Type | undefined {
  if (l.k !== 'inet' && r.k !== 'inet') return undefined;
  const [addr, lit] = l.k === 'inet' ? [e.left, e.right] : [e.right, e.left];
  const isIdent = addr.kind === 'Ident' && (addr.name === 'laddr' || addr.name === 'raddr');
  if ((e.op !== '==' && e.op !== '!=') || !isIdent || lit.kind !== 'Str') {
    cx.bag.add(
      'E0303',
      `cannot compare ${l.k === 'inet' ? 'an address' : typeName(l)} with ${r.k === 'inet' ? 'an address' : typeName(r)} using '${e.op}'`,
      e.opSpan,
      ADDRESS_COMPARE_HINT,
    );
    return ERROR;
  }
  const text = new TextDecoder().decode(lit.value);
  if (!parseAddressLiteral(text)) {
    cx.bag.add(
      'E0303',
      `"${text}" is not an IPv4 or IPv6 address`,
      lit.span,
      'write an address, or a network with its prefix length: "127.0.0.1", "::1", "10.0.0.0/8", "fe80::/10"',
    );
    return ERROR;
  }
  return S64;
}
