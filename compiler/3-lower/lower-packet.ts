// compiler/3-lower/lower-packet.ts — packet probes in C: the program's
// section and context (`xdp`, struct xdp_md; `tc`, struct __sk_buff), its
// verdict (the packet always passes: XDP_PASS, TCX_NEXT), the header structs
// laid out from packet-headers.ts, and, at the top of each packet program, a
// parser that goes only as deep as the body reads: ethernet, VLAN tags, IPv4
// or IPv6 (with its extension headers), TCP, UDP or ICMP, DNS. Each header
// gets a pointer that is set only after R12 proved its fixed part is in the
// packet; a read is `h ? h->field : 0`. The loops live in
// stdlib/capc-packet.bpf.h.
import type * as A from '../../grammar/ast.js';
import type { ProbeInstance } from '../2-analyze/analyzed.js';
import type { PacketRef } from '../2-analyze/check-packet.js';
import {
  DNS_NAME_SIZE,
  HEADERS,
  HEADER_NAMES,
  MAX_IPV6_EXTENSIONS,
  MAX_VLAN_TAGS,
  type HeaderField,
  type HeaderName,
} from '../2-analyze/packet-headers.js';
import type { AttachPoint } from '../2-analyze/probes.js';
import { addr, arrow, bin, call, cast, dot, id, num, un, type CExpr, type CStmt, type CStruct } from './c-ir.js';
import type { FnBuilder, IntVal, StrRef } from './fn-builder.js';
import { r12InPacket, type LowerOptions } from './rules.js';

type PacketAttach = Extract<AttachPoint, { kind: 'xdp' | 'tc' }>;

export function isPacketAttach(a: AttachPoint): a is PacketAttach {
  return a.kind === 'xdp' || a.kind === 'tc';
}

export function packetSection(a: PacketAttach): { section: string; params: string } {
  return a.kind === 'xdp'
    ? { section: 'xdp', params: 'struct xdp_md *ctx' }
    : { section: 'tc', params: 'struct __sk_buff *ctx' };
}

/**
 * What a packet program returns on every path: the packet goes on as if the
 * program were not there. XDP_PASS hands it to the stack; TCX_NEXT lets the
 * next tcx program (or the stack) decide, so capc never overrides another
 * program's verdict.
 */
export function withVerdict(a: PacketAttach, body: CStmt[]): CStmt[] {
  const verdict = id(a.kind === 'xdp' ? 'XDP_PASS' : 'TCX_NEXT');
  const fix = (ss: CStmt[]): CStmt[] =>
    ss.map((s): CStmt => {
      switch (s.k) {
        case 'return':
          return { ...s, e: verdict };
        case 'if':
          return { ...s, then: fix(s.then), else: s.else && fix(s.else) };
        case 'block':
        case 'for':
          return { ...s, body: fix(s.body) };
        default:
          return s;
      }
    });
  return fix(body);
}

/** What the parser of one program must reach. */
interface Need {
  headers: Set<HeaderName>;
  /** The transport header: both IP versions are parsed to find it. */
  l4: boolean;
  payload: boolean;
  question: boolean;
}

function need(inst: ProbeInstance): Need {
  const headers = new Set<HeaderName>();
  let payload = false;
  let question = false;
  for (const r of inst.packet?.values() ?? []) {
    if (r.k === 'present' || r.k === 'field') headers.add(r.header);
    if (r.k === 'field' && r.header === 'dns' && r.field.read === 'computed') question = true;
    if (r.k === 'byte' && r.from === 'payload') payload = true;
  }
  if (payload) headers.add('tcp').add('udp');
  if (headers.has('dns')) headers.add('udp');
  const l4 = headers.has('tcp') || headers.has('udp') || headers.has('icmp');
  if (l4) headers.add('ipv4').add('ipv6');
  if (headers.size) headers.add('ethernet').add('vlan');
  return { headers, l4, payload, question };
}

/** The C structs of every header a program parses (packet-headers.ts: their layout, checked by _Static_assert). */
export function packetStructs(instances: ProbeInstance[]): CStruct[] {
  const used = new Set<HeaderName>();
  for (const inst of instances) if (isPacketAttach(inst.attach)) for (const h of need(inst).headers) used.add(h);
  return HEADER_NAMES.filter((h) => used.has(h)).map((h) => {
    const def = HEADERS[h];
    return {
      kind: 'struct',
      name: def.struct,
      fields: def.members.map((m) => ({ name: m.name, type: m.type, array: m.array, offset: m.offset, size: m.size })),
      size: def.size,
      comment: `${h} header as on the wire (big-endian); present when ${def.when}`,
      assertLayout: true,
    };
  });
}

const ptr = (h: HeaderName) => id(`pk_${h}`);
const ETH = {
  ip: 'CAPC_ETH_P_IP',
  ipv6: 'CAPC_ETH_P_IPV6',
  q: 'CAPC_ETH_P_8021Q',
  ad: 'CAPC_ETH_P_8021AD',
};
const htons = (name: string) => call('bpf_htons', id(name));
const sizeOf = (h: HeaderName): CExpr => ({ k: 'sizeof', of: `struct ${HEADERS[h].struct}` });
const set = (l: CExpr, r: CExpr): CStmt => ({ k: 'expr', e: bin('=', l, r) });

/**
 * The parser at the top of a packet program, as deep as its reads need.
 * `data`, `data_end` bound the packet; `pk_next` is where the next header
 * would start (always a packet pointer, so every R12 comparison is between
 * packet pointers); `pk_HEADER` is null or a checked pointer.
 */
export function lowerPacketPrologue(b: FnBuilder, opts: LowerOptions): void {
  const a = b.inst.attach as PacketAttach;
  const n = need(b.inst);
  const data = b.local('void *', 'data');
  const end = b.local('void *', 'data_end');
  b.emit({ k: 'comment', text: `the packet is [data, data_end): ${a.kind === 'xdp' ? 'xdp_md' : '__sk_buff'} bounds` });
  b.emit(set(data, cast('void *', cast('long', arrow(id('ctx'), 'data')))));
  b.emit(set(end, cast('void *', cast('long', arrow(id('ctx'), 'data_end')))));
  if (!n.headers.size) return;
  for (const h of HEADER_NAMES) if (n.headers.has(h)) b.local(`struct ${HEADERS[h].struct} *`, `pk_${h}`);
  const next = b.local('void *', 'pk_next');
  const l3 = b.local('__u16', 'pk_l3', { comment: 'EtherType after the VLAN tags (network order)' });
  b.emit(set(next, data));
  b.emit({ k: 'comment', text: 'R12: the Ethernet header is read only if its 14 bytes are in the packet' });
  b.emit({
    k: 'if',
    c: r12InPacket(next, sizeOf('ethernet'), end, opts),
    then: [
      set(ptr('ethernet'), next),
      set(l3, arrow(ptr('ethernet'), 'proto')),
      set(next, bin('+', next, sizeOf('ethernet'))),
    ],
  });
  // VLAN tags: the innermost is pkt.vlan.
  const i = b.fresh('pk_i');
  b.emit({
    k: 'for',
    init: { k: 'decl', type: '__u32', name: i, init: num(0) },
    cond: bin('<', id(i), num(MAX_VLAN_TAGS)),
    step: un('++', id(i)),
    comment: `R6: at most ${MAX_VLAN_TAGS} VLAN tags; R12: each checked before it is read`,
    body: [
      { k: 'if', c: bin('&&', bin('!=', l3, htons(ETH.q)), bin('!=', l3, htons(ETH.ad))), then: [{ k: 'break' }] },
      {
        k: 'if',
        c: un('!', r12InPacket(next, sizeOf('vlan'), end, opts)),
        then: [set(l3, num(0)), { k: 'break' }],
      },
      set(ptr('vlan'), next),
      set(l3, arrow(ptr('vlan'), 'proto')),
      set(next, bin('+', next, sizeOf('vlan'))),
    ],
  });
  const l4 = n.l4 ? b.local('void *', 'pk_l4') : undefined;
  const proto =
    n.l4 || n.headers.has('ipv6') ? b.local('__u8', 'pk_proto', { comment: 'transport protocol' }) : undefined;
  if (l4) b.emit(set(l4, data));
  if (n.headers.has('ipv4')) {
    b.emit({ k: 'comment', text: 'R12: IPv4 only if its 20-byte fixed header is in the packet' });
    b.emit({
      k: 'if',
      c: bin('&&', bin('==', l3, htons(ETH.ip)), r12InPacket(next, sizeOf('ipv4'), end, opts)),
      then: [set(ptr('ipv4'), next)],
    });
    if (l4 && proto) {
      const ihl = bin('&', arrow(ptr('ipv4'), 'ver_ihl'), num(0xf));
      b.emit({
        k: 'comment',
        text: 'the transport header is IHL * 4 bytes in (IHL is 4 bits: at most 60), unless a later fragment',
      });
      b.emit({
        k: 'if',
        c: bin(
          '&&',
          bin('&&', ptr('ipv4'), bin('>=', ihl, num(5))),
          un('!', bin('&', arrow(ptr('ipv4'), 'frag'), call('bpf_htons', num(0x1fff)))),
        ),
        then: [set(l4, bin('+', next, bin('*', ihl, num(4)))), set(proto, arrow(ptr('ipv4'), 'proto'))],
      });
    }
  }
  if (n.headers.has('ipv6')) {
    b.emit({ k: 'comment', text: 'R12: IPv6 only if its 40-byte fixed header is in the packet' });
    b.emit({
      k: 'if',
      c: bin('&&', bin('==', l3, htons(ETH.ipv6)), r12InPacket(next, sizeOf('ipv6'), end, opts)),
      then: [set(ptr('ipv6'), next)],
    });
    // The extension-header walk is a global function (verified once): it returns (protocol << 16) | offset.
    const w = b.local('__u32', 'pk_walk');
    b.emit({ k: 'comment', text: `up to ${MAX_IPV6_EXTENSIONS} extension headers (R6, R12 in capc_pkt_ipv6_l4)` });
    b.emit({
      k: 'if',
      c: ptr('ipv6'),
      then: [
        set(w, call(`capc_pkt_ipv6_l4_${a.kind}`, id('ctx'), cast('__u32', bin('-', next, data)))),
        set(proto!, bin('>>', w, num(16))),
        ...(l4 ? [set(l4, bin('+', data, bin('&', w, id('CAPC_IPV6_L4_MASK'))))] : []),
      ],
    });
  }
  const transport = (h: 'tcp' | 'udp' | 'icmp', test: CExpr) => {
    if (!n.headers.has(h)) return;
    b.emit({
      k: 'comment',
      text: `R12: ${h.toUpperCase()} only if its ${HEADERS[h].size}-byte header is in the packet`,
    });
    b.emit({ k: 'if', c: bin('&&', test, r12InPacket(l4!, sizeOf(h), end, opts)), then: [set(ptr(h), l4!)] });
  };
  transport('tcp', bin('==', proto ?? num(0), num(6)));
  transport('udp', bin('==', proto ?? num(0), num(17)));
  transport('icmp', bin('||', bin('==', proto ?? num(0), num(1)), bin('==', proto ?? num(0), num(58))));
  let payload: CExpr | undefined;
  if (n.payload || n.headers.has('dns')) {
    payload = b.local('void *', 'pk_payload', { comment: 'after the TCP or UDP header; null without one' });
    b.emit({ k: 'if', c: ptr('udp'), then: [set(payload, bin('+', l4!, sizeOf('udp')))] });
    if (n.headers.has('tcp')) {
      const doff = bin('>>', arrow(ptr('tcp'), 'doff_res'), num(4));
      b.emit({ k: 'comment', text: 'TCP data offset: 4 bits, times 4 (at most 60)' });
      b.emit({
        k: 'if',
        c: bin('&&', ptr('tcp'), bin('>=', doff, num(5))),
        then: [set(payload, bin('+', l4!, bin('*', doff, num(4))))],
      });
    }
  }
  if (n.headers.has('dns')) {
    b.emit({ k: 'comment', text: 'R12: DNS on port 53 only if its 12-byte header is in the packet' });
    const port53 = bin(
      '||',
      bin('==', arrow(ptr('udp'), 'sport'), call('bpf_htons', num(53))),
      bin('==', arrow(ptr('udp'), 'dport'), call('bpf_htons', num(53))),
    );
    b.emit({
      k: 'if',
      c: bin('&&', bin('&&', ptr('udp'), port53), r12InPacket(payload!, sizeOf('dns'), end, opts)),
      then: [set(ptr('dns'), payload!)],
    });
    if (n.question) {
      const q = questionSlot(b);
      b.emit({
        k: 'comment',
        text: 'the first question: name, type, class (a global function: a bounded walk, R6 and R12)',
      });
      b.emit({
        k: 'if',
        c: ptr('dns'),
        then: [
          {
            k: 'expr',
            e: call(
              `capc_pkt_question_${a.kind}`,
              id('ctx'),
              cast('__u32', bin('-', cast('void *', ptr('dns')), data)),
              addr(q),
            ),
          },
        ],
        else: [
          set({ k: 'index', e: dot(q, 'name'), i: num(0) }, num(0)),
          set(dot(q, 'qtype'), num(0)),
          set(dot(q, 'qclass'), num(0)),
        ],
      });
    }
  }
}

/** `pkt...` in an integer context. `lowerInt` lowers an index expression (pkt.data[i]). */
export function lowerPacketInt(b: FnBuilder, e: A.Expr, lowerInt: (b: FnBuilder, e: A.Expr) => IntVal): IntVal {
  const r = packetRef(b, e);
  const a = b.inst.attach as PacketAttach;
  switch (r.k) {
    case 'value':
      if (r.name === 'len')
        return {
          e:
            a.kind === 'xdp'
              ? cast('__u64', bin('-', id('data_end'), id('data')))
              : cast('__u64', arrow(id('ctx'), 'len')),
          unsigned: true,
        };
      return { e: cast('__u64', arrow(id('ctx'), a.kind === 'xdp' ? 'ingress_ifindex' : 'ifindex')), unsigned: true };
    case 'present':
      return { e: bin('!=', ptr(r.header), num(0)), unsigned: false, narrow: true };
    case 'field':
      return {
        e: { k: 'cond', c: ptr(r.header), t: fieldValue(r.header, r.field, questionSlot(b)), f: num(0, true) },
        unsigned: true,
      };
    case 'byte': {
      const i = lowerInt(b, (e as A.IndexExpr).index);
      const base = r.from === 'data' ? id('data') : id('pk_payload');
      return { e: call('capc_pkt_byte', base, cast('__u64', i.e), id('data_end')), unsigned: true };
    }
  }
}

/** A header field's value in host order, through the header's (non-null) pointer. */
function fieldValue(h: HeaderName, f: HeaderField, question: CExpr): CExpr {
  const member = HEADERS[h].members.find((m) => m.name === f.member)!;
  const raw = arrow(ptr(h), member.name);
  const host =
    member.type === '__be16' ? call('bpf_ntohs', raw) : member.type === '__be32' ? call('bpf_ntohl', raw) : raw;
  switch (f.read) {
    case 'be':
      return cast('__u64', host);
    case 'raw':
      return cast('__u64', raw);
    case 'mac':
      return call('capc_pkt_mac', raw);
    case 'bits':
      return cast('__u64', bin('&', f.shift ? bin('>>', host, num(f.shift)) : host, num(f.mask!)));
    case 'computed':
      if (h === 'ipv6') return cast('__u64', id('pk_proto'));
      if (f.name === 'qtype' || f.name === 'qclass') return dot(question, f.name);
      throw new Error(`internal: ${h}.${f.name} is not an integer`);
    case 'addr16':
      throw new Error(`internal: ${h}.${f.name} is an address`);
  }
}

function packetRef(b: FnBuilder, e: A.Expr): PacketRef {
  const r = b.inst.packet?.get(e);
  if (!r) throw new Error('internal: unresolved packet read');
  return r;
}

export function isPacketRead(b: FnBuilder, e: A.Expr): boolean {
  return b.inst.packet?.has(e) ?? false;
}

/** `pkt.dns.qname`: the scratch slot the prologue parsed it into. */
export function lowerPacketStr(b: FnBuilder, e: A.Expr): Extract<StrRef, { ptr: CExpr }> {
  const r = packetRef(b, e);
  if (r.k !== 'field' || !r.field.strSize) throw new Error('internal: packet read is not a string');
  return { ptr: dot(questionSlot(b), 'name'), size: DNS_NAME_SIZE };
}

/** The scratch slot of the DNS question (R5: its 256-byte name stays off the stack), one per program. */
function questionSlot(b: FnBuilder): CExpr {
  let slot = b.strVars.get('pk_question');
  if (!slot) {
    slot = b.scratch('pk_question', 'struct capc_pkt_question', DNS_NAME_SIZE + 64 + 16);
    b.strVars.set('pk_question', slot);
  }
  return slot;
}

/** ntop(pkt.ipv6.saddr): the 16 bytes from the packet, or `::` without an IPv6 header. */
export function lowerPacketInet(b: FnBuilder, e: A.Expr, dst: CExpr): void {
  const r = packetRef(b, e);
  if (r.k !== 'field' || r.field.read !== 'addr16') throw new Error('internal: not a packet address');
  b.emit({
    k: 'if',
    c: ptr(r.header),
    then: [{ k: 'expr', e: call('capc_pkt_inet6', addr(dst), arrow(ptr(r.header), r.field.member)) }],
    else: [{ k: 'expr', e: call('capc_inet_u32', addr(dst), num(10), num(0)) }],
  });
}
