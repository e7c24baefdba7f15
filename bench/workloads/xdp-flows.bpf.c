/* bench/workloads/xdp-flows.bpf.c — the hand-written reference for
 * examples/flows.cap: packets and bytes per 5-tuple (IPv4 and IPv6, after up
 * to two VLAN tags) in one per-CPU hash, totals in a per-CPU array, every
 * read checked against data_end as people write it by hand. IPv6 extension
 * headers are not walked (a typical hand-written parser does not).
 * With -DCAPC_LAYOUT it keeps flows.cap's maps instead: @packets and @bytes
 * as two per-CPU hashes keyed by capc's 72-byte key (two 24-byte ntop()
 * values and three u64s), @all_packets and @all_bytes as per-CPU hashes with
 * one key, so the difference left is the code, not the program's design. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifdef CAPC_LAYOUT
struct inet {
	__u64 af;
	__u8 addr[16];
};
struct ckey {
	struct inet s;
	__u64 sport;
	struct inet d;
	__u64 dport;
	__u64 proto;
};
#define CAPC_MAP(name, K)                                \
	struct {                                         \
		__uint(type, BPF_MAP_TYPE_PERCPU_HASH);  \
		__uint(max_entries, 4096);               \
		__type(key, K);                          \
		__type(value, __s64);                    \
	} name SEC(".maps")
CAPC_MAP(m_packets, struct ckey);
CAPC_MAP(m_bytes, struct ckey);
CAPC_MAP(m_all_packets, __u64);
CAPC_MAP(m_all_bytes, __u64);
static __always_inline void add(void *map, const void *key, __s64 d)
{
	__s64 *v = bpf_map_lookup_elem(map, key);
	if (v)
		*v += d;
	else
		bpf_map_update_elem(map, key, &d, BPF_NOEXIST);
}
#endif

struct flow {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 pad[3];
};
struct counts {
	__u64 packets;
	__u64 bytes;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct flow);
	__type(value, struct counts);
} flows SEC(".maps");
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct counts);
} totals SEC(".maps");

SEC("xdp")
int xdp_flows(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u64 len = end - data;
#ifndef CAPC_LAYOUT
	__u32 zero = 0;
	struct counts *t = bpf_map_lookup_elem(&totals, &zero);
	if (t) {
		t->packets++;
		t->bytes += len;
	}
#endif
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	void *p = eth + 1;
	__u16 proto = eth->h_proto;
	for (int i = 0; i < 2; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if (p + 4 > end)
			return XDP_PASS;
		proto = *(__u16 *)(p + 2);
		p += 4;
	}
	struct flow k = {};
	void *l4;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = p;
		if ((void *)(ip + 1) > end)
			return XDP_PASS;
		__builtin_memcpy(k.saddr, &ip->saddr, 4);
		__builtin_memcpy(k.daddr, &ip->daddr, 4);
		k.proto = ip->protocol;
		l4 = p + (ip->ihl & 0xf) * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = p;
		if ((void *)(ip6 + 1) > end)
			return XDP_PASS;
		__builtin_memcpy(k.saddr, &ip6->saddr, 16);
		__builtin_memcpy(k.daddr, &ip6->daddr, 16);
		k.proto = ip6->nexthdr;
		l4 = ip6 + 1;
	} else {
		return XDP_PASS;
	}
	if (k.proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;
		if ((void *)(th + 1) <= end) {
			k.sport = bpf_ntohs(th->source);
			k.dport = bpf_ntohs(th->dest);
		}
	} else if (k.proto == IPPROTO_UDP) {
		struct udphdr *uh = l4;
		if ((void *)(uh + 1) <= end) {
			k.sport = bpf_ntohs(uh->source);
			k.dport = bpf_ntohs(uh->dest);
		}
	}
#ifdef CAPC_LAYOUT
	struct ckey ck = {};
	int v6 = proto == bpf_htons(ETH_P_IPV6);
	ck.s.af = ck.d.af = v6 ? 10 : 2;
	__builtin_memcpy(ck.s.addr, k.saddr, 16);
	__builtin_memcpy(ck.d.addr, k.daddr, 16);
	ck.sport = k.sport;
	ck.dport = k.dport;
	ck.proto = k.proto;
	add(&m_packets, &ck, 1);
	add(&m_bytes, &ck, len);
	__u64 zero64 = 0;
	add(&m_all_packets, &zero64, 1);
	add(&m_all_bytes, &zero64, len);
	return XDP_PASS;
#endif
	struct counts *c = bpf_map_lookup_elem(&flows, &k);
	if (c) {
		c->packets++;
		c->bytes += len;
	} else {
		struct counts one = { 1, len };
		bpf_map_update_elem(&flows, &k, &one, BPF_NOEXIST);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
