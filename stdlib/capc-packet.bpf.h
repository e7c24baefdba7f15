/* stdlib/capc-packet.bpf.h — the parts of packet parsing that loop, for
 * packet probes (xdp:, tc:). The fixed headers are parsed in the generated C
 * (compiler/3-lower/lower-packet.ts), each behind its R12 check; what walks a
 * variable number of bytes is here: IPv6 extension headers, a DNS question,
 * one byte at an offset. Every loop has a constant trip count (R6) and every
 * step is checked against data_end before it is read (R12). Wire offsets are
 * written out (the header structs are generated after this file is
 * included). Included by programs with packet probes. */
#ifndef CAPC_PACKET_BPF_H
#define CAPC_PACKET_BPF_H

#include <bpf/bpf_endian.h>

#define CAPC_ETH_P_IP 0x0800
#define CAPC_ETH_P_IPV6 0x86dd
#define CAPC_ETH_P_8021Q 0x8100
#define CAPC_ETH_P_8021AD 0x88a8

/* Largest offset a read may have from where it starts: the verifier tracks
 * packet offsets only below 64 KiB, header offsets and this together stay
 * under that (compiler/2-analyze/packet-headers.ts: MAX_PACKET_OFFSET). */
#define CAPC_PKT_MAX_OFF 0x3fff

/* A 6-byte MAC address as a 48-bit number (first byte most significant). The
 * caller's header pointer is in the packet (R12). */
static __always_inline __u64 capc_pkt_mac(const __u8 *m)
{
	return ((__u64)m[0] << 40) | ((__u64)m[1] << 32) | ((__u64)m[2] << 24) | ((__u64)m[3] << 16) |
	       ((__u64)m[4] << 8) | (__u64)m[5];
}

/* ntop() of a 16-byte IPv6 address in the packet (the header is in it: R12). */
static __always_inline void capc_pkt_inet6(struct capc_inet *d, const __u8 *addr)
{
	__builtin_memset(d, 0, sizeof(*d));
	d->af = 10;
	__builtin_memcpy(d->addr, addr, 16);
}

/* The loops run in global functions, one per program type (the context
 * differs): the verifier checks a global function once, with its arguments
 * unknown, instead of once for every way the caller's parse can reach it.
 * They take offsets from the packet's start and read data and data_end from
 * the context themselves (a packet pointer cannot be passed to them). */

/* IPv6: step over up to CAPC_IPV6_EXT_MAX extension headers (hop-by-hop 0,
 * routing 43, fragment 44, AH 51, destination options 60) after the 40-byte
 * fixed header at data + off. Returns (protocol << 16) | offset of the
 * transport header, or 0 when the chain is longer, cut short, or a later
 * fragment. Each extension is at most 2 KiB, so offsets stay below 16 KiB. */
#define CAPC_IPV6_EXT_MAX 6
#define CAPC_IPV6_L4_MASK 0x3fff
static __always_inline int capc_ipv6_ext(__u8 nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60;
}
static __always_inline __u32 capc_pkt_ipv6_walk(void *data, void *data_end, __u32 off)
{
	if (off > 256)
		return 0;
	void *p = data + off;
	if (p + 40 > data_end) /* R12 */
		return 0;
	__u8 nh = *(__u8 *)(p + 6); /* nexthdr */
	__u32 at = off + 40;
	for (int i = 0; i < CAPC_IPV6_EXT_MAX; i++) { /* R6 */
		if (!capc_ipv6_ext(nh))
			break;
		void *x = data + (at & CAPC_IPV6_L4_MASK);
		if (x + 8 > data_end) /* R12: every extension header has at least 8 bytes */
			return 0;
		__u8 next = *(__u8 *)x;
		__u32 hlen = *(__u8 *)(x + 1);
		if (nh == 44 && (bpf_ntohs(*(__be16 *)(x + 2)) & 0xfff8))
			return 0; /* a later fragment: no transport header */
		/* fragment: 8 bytes; AH: (len + 2) * 4; the others: (len + 1) * 8 */
		at += nh == 44 ? 8 : nh == 51 ? (hlen + 2) * 4 : (hlen + 1) * 8;
		nh = next;
	}
	if (capc_ipv6_ext(nh) || at > CAPC_IPV6_L4_MASK)
		return 0;
	return ((__u32)nh << 16) | at;
}
__noinline int capc_pkt_ipv6_l4_xdp(struct xdp_md *ctx, __u32 off)
{
	return capc_pkt_ipv6_walk((void *)(long)ctx->data, (void *)(long)ctx->data_end, off);
}
__noinline int capc_pkt_ipv6_l4_tc(struct __sk_buff *ctx, __u32 off)
{
	return capc_pkt_ipv6_walk((void *)(long)ctx->data, (void *)(long)ctx->data_end, off);
}

/* The first question of a DNS message whose 12-byte header is at data + off:
 * its name as dotted text (`www.example.com`, NUL-terminated; empty when the
 * name is not whole in the packet, is compressed or is longer than 255
 * bytes), its type and class. It walks the name a label at a time (at most
 * CAPC_DNS_LABELS, R6) and copies each label with the kernel's packet-reading
 * helper (bpf_xdp_load_bytes, bpf_skb_load_bytes), which refuses any byte
 * outside the packet (R12). The name buffer is 64 bytes longer than a name so
 * that a label copied at any position below 256 stays inside it (as R2). */
#define CAPC_DNS_NAME 256
#define CAPC_DNS_LABELS 128
struct capc_pkt_question {
	char name[CAPC_DNS_NAME + 64];
	__u64 qtype;
	__u64 qclass;
};
#define CAPC_PKT_QUESTION(SUFFIX, CTX, LOAD)                                                        \
	__noinline int capc_pkt_question_##SUFFIX(CTX *ctx, __u32 off, struct capc_pkt_question *out) \
	{                                                                                           \
		if (!out)                                                                           \
			return 0;                                                                   \
		out->name[0] = 0;                                                                   \
		out->qtype = 0;                                                                     \
		out->qclass = 0;                                                                    \
		if (off > CAPC_PKT_MAX_OFF)                                                         \
			return 0;                                                                   \
		__u32 q = off + 12, pos = 0;                                                        \
		__u8 len = 0;                                                                       \
		for (int l = 0; l < CAPC_DNS_LABELS; l++) { /* R6 */                                \
			if (LOAD(ctx, q + pos, &len, 1)) /* R12 */                                  \
				goto bad;                                                           \
			if (!len)                                                                   \
				break;                                                              \
			if (len > 63 || pos + len >= CAPC_DNS_NAME - 1)                             \
				goto bad; /* compressed, or longer than a name */                    \
			if (LOAD(ctx, q + pos + 1, &out->name[pos & (CAPC_DNS_NAME - 1)], len))     \
				goto bad; /* R12 */                                                 \
			out->name[(pos + len) & (CAPC_DNS_NAME - 1)] = '.';                         \
			pos += len + 1;                                                             \
		}                                                                                   \
		if (len)                                                                            \
			goto bad;                                                                   \
		out->name[(pos ? pos - 1 : 0) & (CAPC_DNS_NAME - 1)] = 0;                           \
		__be16 tc[2];                                                                       \
		if (!LOAD(ctx, q + pos + 1, tc, 4)) { /* R12 */                                     \
			out->qtype = bpf_ntohs(tc[0]);                                              \
			out->qclass = bpf_ntohs(tc[1]);                                             \
		}                                                                                   \
		return 1;                                                                           \
	bad:                                                                                        \
		out->name[0] = 0;                                                                   \
		return 0;                                                                           \
	}
CAPC_PKT_QUESTION(xdp, struct xdp_md, bpf_xdp_load_bytes)
CAPC_PKT_QUESTION(tc, struct __sk_buff, bpf_skb_load_bytes)

/* pkt.data[i], pkt.payload[i]: the byte at base + off, 0 when base is null
 * (no payload) or the byte is past the end. The offset is bounded first, then
 * the byte checked against data_end (R12). */
static __always_inline __u64 capc_pkt_byte(void *base, __u64 off, void *data_end)
{
	if (!base || off > CAPC_PKT_MAX_OFF)
		return 0;
	void *p = base + off;
	if (p + 1 > data_end) /* R12 */
		return 0;
	return *(__u8 *)p;
}

#endif
