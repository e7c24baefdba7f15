// compiler/2-analyze/packet-headers.ts — the packet headers `pkt` knows, in
// one table: each header's fixed layout (byte offsets and sizes of its fields
// as they are on the wire, big-endian), the header it follows on the
// protocol path (ethernet → vlan → ipv4 | ipv6 → tcp | udp | icmp → dns),
// and the headers it excludes (a packet has one network and one transport
// header). Analysis types `pkt.HEADER.FIELD` from here, lowering lays the C
// structs out from here and reads them, docs/language.md describes them.
//
// In the C type model (compiler/2-analyze/types.ts on the `types` branch)
// each header is a record in the 'packet' address space: `pkt.ipv4` is a
// `struct capc_ipv4 *` that is null when the packet has no IPv4 header, its
// fields are record fields at these offsets, and a field whose value is not a
// plain big-endian integer (bit fields, a MAC address, the parsed DNS name)
// is a `read` that lowering knows.

/** Headers in the order the parser meets them. */
export const HEADER_NAMES = ['ethernet', 'vlan', 'ipv4', 'ipv6', 'tcp', 'udp', 'icmp', 'dns'] as const;
export type HeaderName = (typeof HEADER_NAMES)[number];

/** A field as .cap sees it. */
export interface HeaderField {
  name: string;
  /** The wire member it is read from (a member of the header's C struct). */
  member: string;
  /** Width of the value as .cap types it. */
  bytes: 1 | 2 | 4 | 8;
  /**
   * How the value is made from the member: `be` big-endian to host order,
   * `raw` the bytes as they are (IPv4 addresses, which ntop() prints as
   * bpftrace does), `addr16` a 16-byte IPv6 address (for ntop()), `mac`
   * six bytes as a 48-bit number, `bits` (member >> shift) & mask,
   * `computed` found by the parser (IPv6's transport protocol, DNS's name,
   * type and class).
   */
  read: 'be' | 'raw' | 'addr16' | 'mac' | 'bits' | 'computed';
  shift?: number;
  mask?: number;
  /** `computed` DNS name: a string of this capacity. */
  strSize?: number;
  doc: string;
}

/** A member of the header's C struct (its wire layout). */
export interface HeaderMember {
  name: string;
  /** C element type (`__u8`, `__be16`, `__be32`). */
  type: '__u8' | '__be16' | '__be32';
  offset: number;
  size: number;
  array?: number;
}

export interface HeaderDef {
  name: HeaderName;
  /** C struct name (stdlib has none of these: lowering emits them from this table). */
  struct: string;
  /** Bytes of the fixed part: the parser checks this much against data_end (R12). */
  size: number;
  members: HeaderMember[];
  fields: HeaderField[];
  /** When the header is there, in words (docs and diagnostics). */
  when: string;
  /** The headers that must be there before it. */
  after: HeaderName[];
  /** Headers that cannot be in the same packet. */
  excludes: HeaderName[];
}

const m = (name: string, type: HeaderMember['type'], offset: number, array?: number): HeaderMember => ({
  name,
  type,
  offset,
  size: (type === '__u8' ? 1 : type === '__be16' ? 2 : 4) * (array ?? 1),
  array,
});
const be = (name: string, bytes: 1 | 2 | 4, doc: string, member = name): HeaderField => ({
  name,
  member,
  bytes,
  read: 'be',
  doc,
});
const bits = (name: string, member: string, shift: number, mask: number, doc: string): HeaderField => ({
  name,
  member,
  bytes: 1,
  read: 'bits',
  shift,
  mask,
  doc,
});

/** Longest DNS name capc reads (255 bytes on the wire, RFC 1035) plus the NUL. */
export const DNS_NAME_SIZE = 256;
/** VLAN tags the parser steps over (802.1Q, 802.1ad: QinQ has two). */
export const MAX_VLAN_TAGS = 2;
/** IPv6 extension headers the parser steps over before it gives up on the transport header. */
export const MAX_IPV6_EXTENSIONS = 6;

export const HEADERS: Record<HeaderName, HeaderDef> = {
  ethernet: {
    name: 'ethernet',
    struct: 'capc_ethernet',
    size: 14,
    members: [m('dst', '__u8', 0, 6), m('src', '__u8', 6, 6), m('proto', '__be16', 12)],
    fields: [
      { name: 'dst', member: 'dst', bytes: 8, read: 'mac', doc: 'destination MAC address, as a 48-bit number' },
      { name: 'src', member: 'src', bytes: 8, read: 'mac', doc: 'source MAC address, as a 48-bit number' },
      be('proto', 2, 'EtherType (0x0800 IPv4, 0x86dd IPv6, 0x8100 a VLAN tag)'),
    ],
    when: 'always, on an Ethernet device, if the packet holds 14 bytes',
    after: [],
    excludes: [],
  },
  vlan: {
    name: 'vlan',
    struct: 'capc_vlan',
    size: 4,
    members: [m('tci', '__be16', 0), m('proto', '__be16', 2)],
    fields: [
      { name: 'id', member: 'tci', bytes: 2, read: 'bits', shift: 0, mask: 0xfff, doc: 'VLAN id (12 bits)' },
      bits('pcp', 'tci', 13, 7, 'priority code point'),
      be('proto', 2, 'EtherType of what follows the tag'),
    ],
    when: `an 802.1Q or 802.1ad tag follows the Ethernet header (the innermost of up to ${MAX_VLAN_TAGS})`,
    after: ['ethernet'],
    excludes: [],
  },
  ipv4: {
    name: 'ipv4',
    struct: 'capc_ipv4',
    size: 20,
    members: [
      m('ver_ihl', '__u8', 0),
      m('tos', '__u8', 1),
      m('len', '__be16', 2),
      m('id', '__be16', 4),
      m('frag', '__be16', 6),
      m('ttl', '__u8', 8),
      m('proto', '__u8', 9),
      m('csum', '__be16', 10),
      m('saddr', '__be32', 12),
      m('daddr', '__be32', 16),
    ],
    fields: [
      bits('version', 'ver_ihl', 4, 0xf, 'IP version (4)'),
      bits('ihl', 'ver_ihl', 0, 0xf, 'header length in 32-bit words (5 without options)'),
      be('tos', 1, 'type of service (DSCP and ECN)'),
      be('len', 2, 'total length of the IP packet'),
      be('id', 2, 'identification'),
      be('frag', 2, 'flags and fragment offset'),
      be('ttl', 1, 'time to live'),
      be('proto', 1, 'protocol of the payload (6 TCP, 17 UDP, 1 ICMP)'),
      be('csum', 2, 'header checksum'),
      {
        name: 'saddr',
        member: 'saddr',
        bytes: 4,
        read: 'raw',
        doc: 'source address, in network order: ntop() prints it',
      },
      { name: 'daddr', member: 'daddr', bytes: 4, read: 'raw', doc: 'destination address (network order)' },
    ],
    when: 'the EtherType (after any VLAN tags) is 0x0800 and the 20-byte header is in the packet',
    after: ['ethernet'],
    excludes: ['ipv6'],
  },
  ipv6: {
    name: 'ipv6',
    struct: 'capc_ipv6',
    size: 40,
    members: [
      m('ver_class_flow', '__be32', 0),
      m('plen', '__be16', 4),
      m('nexthdr', '__u8', 6),
      m('hlim', '__u8', 7),
      m('saddr', '__u8', 8, 16),
      m('daddr', '__u8', 24, 16),
    ],
    fields: [
      {
        name: 'version',
        member: 'ver_class_flow',
        bytes: 1,
        read: 'bits',
        shift: 28,
        mask: 0xf,
        doc: 'IP version (6)',
      },
      { name: 'flow', member: 'ver_class_flow', bytes: 4, read: 'bits', shift: 0, mask: 0xfffff, doc: 'flow label' },
      be('plen', 2, 'payload length (extension headers included)'),
      be('nexthdr', 1, 'the header after the fixed header (may be an extension header)'),
      be('hlim', 1, 'hop limit'),
      { name: 'saddr', member: 'saddr', bytes: 8, read: 'addr16', doc: 'source address: ntop() prints it' },
      { name: 'daddr', member: 'daddr', bytes: 8, read: 'addr16', doc: 'destination address' },
      {
        name: 'proto',
        member: 'nexthdr',
        bytes: 1,
        read: 'computed',
        doc: `the transport protocol after up to ${MAX_IPV6_EXTENSIONS} extension headers (6 TCP, 17 UDP, 58 ICMPv6)`,
      },
    ],
    when: 'the EtherType (after any VLAN tags) is 0x86dd and the 40-byte header is in the packet',
    after: ['ethernet'],
    excludes: ['ipv4'],
  },
  tcp: {
    name: 'tcp',
    struct: 'capc_tcp',
    size: 20,
    members: [
      m('sport', '__be16', 0),
      m('dport', '__be16', 2),
      m('seq', '__be32', 4),
      m('ack_seq', '__be32', 8),
      m('doff_res', '__u8', 12),
      m('flags', '__u8', 13),
      m('window', '__be16', 14),
      m('csum', '__be16', 16),
      m('urg_ptr', '__be16', 18),
    ],
    fields: [
      be('sport', 2, 'source port'),
      be('dport', 2, 'destination port'),
      be('seq', 4, 'sequence number'),
      be('ack_seq', 4, 'acknowledgment number'),
      bits('doff', 'doff_res', 4, 0xf, 'header length in 32-bit words (5 without options)'),
      be('flags', 1, 'the flag bits: FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE 0x40, CWR 0x80'),
      bits('fin', 'flags', 0, 1, 'FIN flag'),
      bits('syn', 'flags', 1, 1, 'SYN flag'),
      bits('rst', 'flags', 2, 1, 'RST flag'),
      bits('psh', 'flags', 3, 1, 'PSH flag'),
      bits('ack', 'flags', 4, 1, 'ACK flag'),
      bits('urg', 'flags', 5, 1, 'URG flag'),
      be('window', 2, 'receive window'),
      be('csum', 2, 'checksum'),
      be('urg_ptr', 2, 'urgent pointer'),
    ],
    when: 'the IP protocol is 6, the packet is not a later IPv4 fragment, and 20 bytes are in the packet',
    after: ['ethernet'],
    excludes: ['udp', 'icmp', 'dns'],
  },
  udp: {
    name: 'udp',
    struct: 'capc_udp',
    size: 8,
    members: [m('sport', '__be16', 0), m('dport', '__be16', 2), m('len', '__be16', 4), m('csum', '__be16', 6)],
    fields: [
      be('sport', 2, 'source port'),
      be('dport', 2, 'destination port'),
      be('len', 2, 'length of header and data'),
      be('csum', 2, 'checksum'),
    ],
    when: 'the IP protocol is 17, the packet is not a later IPv4 fragment, and 8 bytes are in the packet',
    after: ['ethernet'],
    excludes: ['tcp', 'icmp'],
  },
  icmp: {
    name: 'icmp',
    struct: 'capc_icmp',
    size: 8,
    members: [
      m('type', '__u8', 0),
      m('code', '__u8', 1),
      m('csum', '__be16', 2),
      m('id', '__be16', 4),
      m('seq', '__be16', 6),
    ],
    fields: [
      be('type', 1, 'message type (8 echo request, 0 echo reply; ICMPv6: 128, 129)'),
      be('code', 1, 'message code'),
      be('csum', 2, 'checksum'),
      be('id', 2, 'echo identifier'),
      be('seq', 2, 'echo sequence number'),
    ],
    when: 'the IP protocol is 1 (IPv4) or 58 (ICMPv6) and 8 bytes are in the packet',
    after: ['ethernet'],
    excludes: ['tcp', 'udp', 'dns'],
  },
  dns: {
    name: 'dns',
    struct: 'capc_dns',
    size: 12,
    members: [
      m('id', '__be16', 0),
      m('flags', '__be16', 2),
      m('qdcount', '__be16', 4),
      m('ancount', '__be16', 6),
      m('nscount', '__be16', 8),
      m('arcount', '__be16', 10),
    ],
    fields: [
      be('id', 2, 'query id (a response carries its query\u2019s id)'),
      be('flags', 2, 'the flags word'),
      { name: 'qr', member: 'flags', bytes: 1, read: 'bits', shift: 15, mask: 1, doc: '0 a query, 1 a response' },
      {
        name: 'opcode',
        member: 'flags',
        bytes: 1,
        read: 'bits',
        shift: 11,
        mask: 0xf,
        doc: 'opcode (0 a standard query)',
      },
      {
        name: 'rcode',
        member: 'flags',
        bytes: 1,
        read: 'bits',
        shift: 0,
        mask: 0xf,
        doc: 'response code (0 ok, 3 NXDOMAIN)',
      },
      be('qdcount', 2, 'questions'),
      be('ancount', 2, 'answers'),
      be('nscount', 2, 'authority records'),
      be('arcount', 2, 'additional records'),
      {
        name: 'qname',
        member: 'id',
        bytes: 8,
        read: 'computed',
        strSize: DNS_NAME_SIZE,
        doc: 'the first question\u2019s name as text (`www.example.com`); empty when it is not whole in the packet',
      },
      { name: 'qtype', member: 'id', bytes: 2, read: 'computed', doc: 'the first question\u2019s type (1 A, 28 AAAA)' },
      { name: 'qclass', member: 'id', bytes: 2, read: 'computed', doc: 'the first question\u2019s class (1 IN)' },
    ],
    when: 'a UDP header with source or destination port 53 is followed by the 12-byte DNS header',
    after: ['udp'],
    excludes: ['tcp', 'icmp'],
  },
};

/** Values of `pkt` itself (not a header). */
export const PACKET_VALUES: Record<string, { doc: string }> = {
  len: { doc: 'length of the packet in bytes (XDP: the bytes the program sees; tc: skb->len)' },
  ifindex: { doc: 'index of the interface the packet is on' },
};

/** `pkt.data[i]`, `pkt.payload[i]`: a byte at an offset from the packet's start or from after its transport header. */
export const PACKET_BYTES: Record<string, { doc: string }> = {
  data: { doc: 'the packet\u2019s bytes from its first (the Ethernet header): pkt.data[i] is 0 past the end' },
  payload: { doc: 'the bytes after the TCP or UDP header: pkt.payload[i] is 0 past the end or without one' },
};

/**
 * Offsets a packet read may have (pkt.data[i], pkt.payload[i]): below 16 KiB.
 * The verifier follows packet offsets only below 64 KiB, and a payload can
 * start up to 16 KiB in (IPv6 extension headers); stdlib's CAPC_PKT_MAX_OFF.
 */
export const MAX_PACKET_OFFSET = 0x4000;

export function isHeaderName(name: string): name is HeaderName {
  return (HEADER_NAMES as readonly string[]).includes(name);
}

/** The headers a header needs parsed first, itself last (the parser runs this far). */
export function headerPath(h: HeaderName): HeaderName[] {
  const out: HeaderName[] = [];
  const visit = (x: HeaderName) => {
    for (const a of HEADERS[x].after) visit(a);
    if (!out.includes(x)) out.push(x);
  };
  visit(h);
  return out;
}
