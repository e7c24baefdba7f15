// runtime/export/pcapng-blocks.ts — pcapng blocks (the IETF pcapng draft,
// little-endian sections) and the synthetic Ethernet/IPv4|IPv6/TCP frames
// inside them. Pure: bytes in, bytes out. One Enhanced Packet Block is built
// into one buffer (headers, payload, real IP and TCP checksums, an optional
// comment), so writing a packet costs one allocation and one copy of the
// payload.
import type { Endpoint } from './endpoints.js';

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const LINKTYPE_ETHERNET = 1;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

const pad4 = (n: number) => (n + 3) & ~3;

function options(opts: [number, Buffer][]): Buffer {
  if (!opts.length) return Buffer.alloc(0);
  const size = opts.reduce((n, [, v]) => n + 4 + pad4(v.length), 4);
  const b = Buffer.alloc(size);
  let o = 0;
  for (const [code, v] of opts) {
    b.writeUInt16LE(code, o);
    b.writeUInt16LE(v.length, o + 2);
    v.copy(b, o + 4);
    o += 4 + pad4(v.length);
  }
  return b; // the last 4 bytes stay zero: opt_endofopt
}

function block(type: number, body: Buffer): Buffer {
  const total = 12 + body.length;
  const b = Buffer.alloc(total);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(total, 4);
  body.copy(b, 8);
  b.writeUInt32LE(total, total - 4);
  return b;
}

/** Section Header Block: byte order, version 1.0, unknown section length, the writing application. */
export function sectionHeader(userAppl: string): Buffer {
  const head = Buffer.alloc(16);
  head.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  head.writeUInt16LE(1, 4);
  head.writeUInt16LE(0, 6);
  head.writeBigInt64LE(-1n, 8);
  return block(SHB, Buffer.concat([head, options([[SHB_USERAPPL, Buffer.from(userAppl)]])]));
}

/** Interface Description Block: Ethernet, no snap length limit, nanosecond timestamps. */
export function interfaceDescription(name: string, description: string): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(LINKTYPE_ETHERNET, 0);
  head.writeUInt32LE(0, 4); // snaplen 0: no limit
  return block(
    IDB,
    Buffer.concat([
      head,
      options([
        [IF_NAME, Buffer.from(name)],
        [IF_DESCRIPTION, Buffer.from(description)],
        [IF_TSRESOL, Buffer.from([9])],
      ]),
    ]),
  );
}

/** Ones' complement sum of big-endian 16-bit words of b[start, end), added to `sum`. */
function onesSum(b: Buffer, start: number, end: number, sum: number): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < end) sum += b[i]! << 8;
  // Fold often enough that the sum stays a small integer (JS numbers are exact to 2^53).
  return sum;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

export interface Segment {
  src: Endpoint;
  dst: Endpoint;
  srcMac: number;
  dstMac: number;
  seq: number;
  ack: number;
  flags: number;
  payload?: Buffer;
  /** Nanoseconds since the Unix epoch. */
  tsNs: bigint;
  /** UTF-8 text of the packet's comment (kept as bytes: writers reuse them). */
  comment?: Buffer;
  /** IPv4 identification field. */
  ipId?: number;
}

const ETH = 14;
const TCP = 20;

/** Bytes of the Enhanced Packet Block for a segment. */
export function packetBlockSize(s: Segment): number {
  const frame = ETH + (s.src.addr.length === 16 ? 40 : 20) + TCP + (s.payload?.length ?? 0);
  return 12 + 20 + pad4(frame) + (s.comment ? 4 + pad4(s.comment.length) + 4 : 0);
}

/**
 * An Enhanced Packet Block (one Ethernet frame: an IP packet with one TCP segment), written into `out` at `at` (which must have packetBlockSize(s)
 * bytes of room); returns its length. Writers fill one large buffer with many
 * packets instead of allocating one buffer per packet.
 */
export function packetBlockInto(s: Segment, out: Buffer, at: number): number {
  const v6 = s.src.addr.length === 16;
  const payload = s.payload ?? EMPTY;
  const ipLen = v6 ? 40 : 20;
  const frame = ETH + ipLen + TCP + payload.length;
  const comment = s.comment;
  const optLen = comment ? 4 + pad4(comment.length) + 4 : 0;
  const total = 12 + 20 + pad4(frame) + optLen;
  const b = at === 0 && out.length === total ? out : out.subarray(at, at + total);
  b.fill(0);
  b.writeUInt32LE(EPB, 0);
  b.writeUInt32LE(total, 4);
  b.writeUInt32LE(0, 8); // interface 0
  b.writeUInt32LE(Number(s.tsNs >> 32n), 12);
  b.writeUInt32LE(Number(s.tsNs & 0xffffffffn), 16);
  b.writeUInt32LE(frame, 20);
  b.writeUInt32LE(frame, 24);
  const f = 28; // frame start
  // Ethernet: locally administered MACs 02:00:00:00:00:0N.
  b[f] = 0x02;
  b[f + 5] = s.dstMac;
  b[f + 6] = 0x02;
  b[f + 11] = s.srcMac;
  b.writeUInt16BE(v6 ? 0x86dd : 0x0800, f + 12);
  const ip = f + ETH;
  const tcpLen = TCP + payload.length;
  let pseudo: number;
  if (v6) {
    b.writeUInt32BE(0x60000000, ip);
    b.writeUInt16BE(tcpLen, ip + 4);
    b[ip + 6] = 6; // next header: TCP
    b[ip + 7] = 64;
    s.src.addr.copy(b, ip + 8);
    s.dst.addr.copy(b, ip + 24);
    pseudo = onesSum(b, ip + 8, ip + 40, 0) + tcpLen + 6;
  } else {
    b[ip] = 0x45;
    b.writeUInt16BE(20 + tcpLen, ip + 2);
    b.writeUInt16BE((s.ipId ?? 0) & 0xffff, ip + 4);
    b.writeUInt16BE(0x4000, ip + 6); // don't fragment
    b[ip + 8] = 64;
    b[ip + 9] = 6;
    s.src.addr.copy(b, ip + 12);
    s.dst.addr.copy(b, ip + 16);
    b.writeUInt16BE(fold(onesSum(b, ip, ip + 20, 0)), ip + 10);
    pseudo = onesSum(b, ip + 12, ip + 20, 0) + tcpLen + 6;
  }
  const t = ip + ipLen;
  b.writeUInt16BE(s.src.port, t);
  b.writeUInt16BE(s.dst.port, t + 2);
  b.writeUInt32BE(s.seq >>> 0, t + 4);
  b.writeUInt32BE(s.ack >>> 0, t + 8);
  b[t + 12] = (TCP / 4) << 4;
  b[t + 13] = s.flags;
  b.writeUInt16BE(0xffff, t + 14); // window
  payload.copy(b, t + TCP);
  b.writeUInt16BE(fold(onesSum(b, t, t + tcpLen, pseudo)), t + 16);
  if (comment) {
    const o = 28 + pad4(frame);
    b.writeUInt16LE(OPT_COMMENT, o);
    b.writeUInt16LE(comment.length, o + 2);
    comment.copy(b, o + 4);
    // opt_endofopt: already zero
  }
  b.writeUInt32LE(total, total - 4);
  return total;
}

const EMPTY = Buffer.alloc(0);
