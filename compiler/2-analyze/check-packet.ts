// compiler/2-analyze/check-packet.ts — types `pkt` in packet probes (xdp:,
// tc:): `pkt.len`, `pkt.ifindex`, a header's presence (`pkt.ipv4`, 1 when the
// packet has one), a header's field (`pkt.ipv4.saddr`, 0 when it has not),
// a byte (`pkt.data[i]`, `pkt.payload[i]`). Each resolved read goes into the
// instance's `packet` side table for lowering (lower-packet.ts). Also checks
// what needs the whole body: a header read where an enclosing test already
// says the packet has a header that excludes it (E0422), and IPv6 addresses
// used other than through ntop().
import type * as A from '../../grammar/ast.js';
import { didYouMean, type DiagnosticBag } from '../diagnostics/diagnostic.js';
import type { ProbeInstance } from './analyzed.js';
import { kindOf, type CheckContext } from './context.js';
import {
  HEADER_NAMES,
  HEADERS,
  MAX_PACKET_OFFSET,
  PACKET_BYTES,
  PACKET_VALUES,
  headerPath,
  isHeaderName,
  type HeaderField,
  type HeaderName,
} from './packet-headers.js';
import type { ProbeKind } from './probes.js';
import { ERROR, isInt, typeName, type Type } from './types.js';

/** A packet read, resolved by analysis. */
export type PacketRef =
  | { k: 'value'; name: 'len' | 'ifindex' }
  | { k: 'present'; header: HeaderName }
  | { k: 'field'; header: HeaderName; field: HeaderField }
  | { k: 'byte'; from: 'data' | 'payload' };

export function isPacketKind(k: ProbeKind): boolean {
  return k === 'xdp' || k === 'tc';
}

/** Builtins that describe the current task: a packet is not processed on behalf of one. */
const TASK_BUILTINS = new Set(['pid', 'tid', 'uid', 'gid', 'comm', 'cgroup', 'cpid', 'ustack']);

const ALL_NAMES = [...Object.keys(PACKET_VALUES), ...HEADER_NAMES, ...Object.keys(PACKET_BYTES)];

function table(inst: ProbeInstance): Map<A.Expr, PacketRef> {
  inst.packet ??= new Map();
  return inst.packet;
}

/**
 * A bare identifier in a packet probe, or `pkt` anywhere: the type when this
 * module decides it (an error), undefined to let the usual builtins answer.
 */
export function packetIdent(e: A.IdentExpr, cx: CheckContext): Type | undefined {
  const kind = kindOf(cx);
  if (e.name === 'pkt') {
    if (!isPacketKind(kind)) {
      cx.bag.add(
        'E0405',
        `'pkt' is not available in ${kind} probes`,
        e.span,
        'pkt is the packet of an xdp:IFACE or tc:IFACE:ingress|egress probe',
      );
      return ERROR;
    }
    cx.bag.add(
      'E0302',
      "'pkt' is not a value by itself",
      e.span,
      `read what is in it: pkt.len, pkt.ipv4.saddr, pkt.data[0] (${ALL_NAMES.join(', ')})`,
    );
    return ERROR;
  }
  if (isPacketKind(kind) && TASK_BUILTINS.has(e.name)) {
    cx.bag.add(
      'E0405',
      `'${e.name}' is not available in ${kind} probes`,
      e.span,
      'a packet probe runs for a packet, not for a task: no process, thread, user or command is current there',
    );
    return ERROR;
  }
  return packetRefuses(e.name, e.span, cx) ? ERROR : undefined;
}

/** What the kernel does not let a packet program call (these helpers are for tracing programs). */
const NOT_FOR_PACKETS: Record<string, string> = {
  kstack: 'the kernel walks no stack for a packet program (bpf_get_stackid is for tracing programs)',
  ustack: 'a packet probe runs for a packet, not for a task: there is no user stack',
  usym: 'a packet probe runs for a packet, not for a task: there is no process whose symbols these are',
  signal: 'a packet probe runs for a packet, not for a task: there is no process to signal',
};

/** kstack, ustack(...), usym() or signal() in a packet probe: an error here rather than the verifier's. */
export function packetRefuses(name: string, span: A.Span, cx: CheckContext): boolean {
  const kind = kindOf(cx);
  const why = NOT_FOR_PACKETS[name];
  if (!why || !isPacketKind(kind)) return false;
  const what = name === 'signal' || name === 'usym' ? `${name}()` : `'${name}'`;
  cx.bag.add('E0405', `${what} is not available in ${kind} probes`, span, why);
  return true;
}

/** `pkt.NAME` or `pkt.HEADER.FIELD`, by shape; undefined for other field expressions. */
function packetChain(e: A.FieldExpr): { first: A.FieldExpr; second?: A.FieldExpr } | undefined {
  if (e.object.kind === 'Ident' && e.object.name === 'pkt') return { first: e };
  if (e.object.kind === 'Field' && e.object.object.kind === 'Ident' && e.object.object.name === 'pkt')
    return { first: e.object, second: e };
  return undefined;
}

export function isPacketField(e: A.FieldExpr): boolean {
  return packetChain(e) !== undefined;
}

const U64: Type = { k: 'int', bytes: 8, signed: false };

/** Type `pkt.NAME` / `pkt.HEADER.FIELD` (the caller checked isPacketField). */
export function checkPacketField(e: A.FieldExpr, cx: CheckContext): Type {
  if (!isPacketKind(kindOf(cx))) return packetIdent({ kind: 'Ident', name: 'pkt', span: e.span }, cx)!;
  const { first, second } = packetChain(e)!;
  const name = first.field;
  if (name in PACKET_VALUES) {
    if (second) {
      cx.bag.add('E0421', `pkt.${name} is a number: it has no field '${second.field}'`, second.fieldSpan);
      return ERROR;
    }
    table(cx.inst).set(e, { k: 'value', name: name as 'len' | 'ifindex' });
    return U64;
  }
  if (name in PACKET_BYTES) {
    cx.bag.add(
      'E0421',
      `pkt.${name} is the packet's bytes: read one with an index`,
      first.fieldSpan,
      `pkt.${name}[0] is the first`,
    );
    return ERROR;
  }
  if (!isHeaderName(name)) {
    cx.bag.add(
      'E0421',
      `a packet has no header or value '${name}'`,
      first.fieldSpan,
      didYouMean(name, ALL_NAMES) ?? `pkt has: ${ALL_NAMES.join(', ')}`,
    );
    return ERROR;
  }
  const def = HEADERS[name];
  if (!second) {
    table(cx.inst).set(e, { k: 'present', header: name });
    return { k: 'int', bytes: 1, signed: false };
  }
  const field = def.fields.find((f) => f.name === second.field);
  if (!field) {
    cx.bag.add(
      'E0421',
      `the ${name} header has no field '${second.field}'`,
      second.fieldSpan,
      didYouMean(
        second.field,
        def.fields.map((f) => f.name),
      ) ?? `its fields are: ${def.fields.map((f) => f.name).join(', ')}`,
    );
    return ERROR;
  }
  table(cx.inst).set(e, { k: 'field', header: name, field });
  if (field.read === 'addr16') return { k: 'array', elem: { k: 'int', bytes: 1, signed: false }, count: 16 };
  if (field.strSize) return { k: 'str', size: field.strSize };
  return { k: 'int', bytes: field.bytes, signed: false };
}

/** `pkt.data[i]` / `pkt.payload[i]`, by shape. */
export function isPacketIndex(e: A.IndexExpr): boolean {
  return (
    e.object.kind === 'Field' &&
    e.object.object.kind === 'Ident' &&
    e.object.object.name === 'pkt' &&
    e.object.field in PACKET_BYTES
  );
}

/** Type a packet byte read; the index is checked by `checkIndex`. */
export function checkPacketIndex(e: A.IndexExpr, cx: CheckContext, checkIndex: (x: A.Expr) => Type): Type {
  if (!isPacketKind(kindOf(cx))) return packetIdent({ kind: 'Ident', name: 'pkt', span: e.object.span }, cx)!;
  const from = (e.object as A.FieldExpr).field as 'data' | 'payload';
  const i = checkIndex(e.index);
  if (i.k === 'error') return ERROR;
  if (!isInt(i)) {
    cx.bag.add('E0302', `an offset into the packet must be an integer, not ${typeName(i)}`, e.index.span);
    return ERROR;
  }
  if (e.index.kind === 'Int' && (e.index.value < 0n || e.index.value >= BigInt(MAX_PACKET_OFFSET))) {
    cx.bag.add(
      'E0423',
      `offset ${e.index.value} is outside every packet: the compiler cannot bound this read`,
      e.index.span,
      `packet offsets go from 0 to ${MAX_PACKET_OFFSET - 1}`,
    );
    return ERROR;
  }
  table(cx.inst).set(e, { k: 'byte', from });
  return { k: 'int', bytes: 1, signed: false };
}

/** The headers an expression, true, says the packet has: `pkt.udp`, `pkt.ipv4 && pkt.tcp`. */
function facts(e: A.Expr, refs: Map<A.Expr, PacketRef>): Set<HeaderName> {
  const out = new Set<HeaderName>();
  const visit = (x: A.Expr): void => {
    const r = refs.get(x);
    if (r?.k === 'present') for (const h of headerPath(r.header)) out.add(h);
    else if (x.kind === 'Binary' && x.op === '&&') {
      visit(x.left);
      visit(x.right);
    }
  };
  visit(e);
  return out;
}

/**
 * After the body is typed: a header read where an enclosing test (the
 * predicate, an `if`, `&&`, `?:`) says the packet has a header that excludes
 * it is never present there (E0422); IPv6 addresses are read only by ntop().
 */
export function checkPacketPaths(inst: ProbeInstance, bag: DiagnosticBag): void {
  const refs = inst.packet;
  if (!refs?.size) return;
  const expr = (e: A.Expr, known: Set<HeaderName>, inNtop = false): void => {
    const r = refs.get(e);
    if (r && (r.k === 'present' || r.k === 'field')) {
      for (const k of known) {
        if (HEADERS[k].excludes.includes(r.header)) {
          bag.add(
            'E0422',
            `pkt.${r.header} is never present here: this code runs only for packets with ${/^[aeiou]/.test(k) ? 'an' : 'a'} ${k} header`,
            e.span,
            `a packet has one network header (ipv4 or ipv6) and one transport header (tcp, udp or icmp); dns is carried over udp`,
          );
          break;
        }
      }
      if (r.k === 'field' && r.field.read === 'addr16' && !inNtop)
        bag.add(
          'E0302',
          `pkt.${r.header}.${r.field.name} is a 16-byte address: print or key it with ntop(pkt.${r.header}.${r.field.name})`,
          e.span,
        );
      return;
    }
    switch (e.kind) {
      case 'Binary':
        expr(e.left, known);
        expr(e.right, e.op === '&&' ? union(known, facts(e.left, refs)) : known);
        return;
      case 'Ternary':
        expr(e.cond, known);
        expr(e.then, union(known, facts(e.cond, refs)));
        expr(e.else, known);
        return;
      case 'Call':
        e.args.forEach((a) => expr(a, known, e.name === 'ntop'));
        return;
      case 'Map':
        e.keys?.forEach((k) => expr(k, known));
        return;
      case 'Unary':
      case 'Cast':
        expr(e.operand, known);
        return;
      case 'Field':
        expr(e.object, known);
        return;
      case 'Index':
        expr(e.object, known);
        expr(e.index, known);
        return;
      default:
        return;
    }
  };
  const stmts = (ss: A.Stmt[], known: Set<HeaderName>): void => {
    for (const s of ss) {
      switch (s.kind) {
        case 'ExprStmt':
          expr(s.expr, known);
          break;
        case 'Assign':
          expr(s.target, known);
          expr(s.value, known);
          break;
        case 'IncDec':
          expr(s.target, known);
          break;
        case 'If':
          expr(s.cond, known);
          stmts(s.then, union(known, facts(s.cond, refs)));
          if (s.else) stmts(s.else, known);
          break;
        case 'While':
          expr(s.cond, known);
          stmts(s.body, union(known, facts(s.cond, refs)));
          break;
        case 'Block':
        case 'Unroll':
          stmts(s.body, known);
          break;
        case 'Sink':
          expr(s.call, known);
          break;
        default:
          break;
      }
    }
  };
  const pred = inst.item.predicate;
  if (pred) expr(pred, new Set());
  stmts(inst.item.body, pred ? facts(pred, refs) : new Set());
}

function union<T>(a: Set<T>, b: Set<T>): Set<T> {
  return b.size ? new Set([...a, ...b]) : a;
}

/** An interface has one XDP program: two xdp probes on one interface could never both attach (E0424). */
export function checkPacketProbes(instances: ProbeInstance[], bag: DiagnosticBag): void {
  const first = new Map<string, ProbeInstance>();
  for (const inst of instances) {
    if (inst.attach.kind !== 'xdp') continue;
    const seen = first.get(inst.attach.iface);
    if (!seen) first.set(inst.attach.iface, inst);
    else
      bag.add(
        'E0424',
        `a second xdp probe on ${inst.attach.iface}: an interface runs one XDP program`,
        inst.spec.span,
        `put both bodies in one xdp:${inst.attach.iface} block (first at line ${seen.spec.span.line}), or use tc:${inst.attach.iface}:ingress for this one`,
      );
  }
}
