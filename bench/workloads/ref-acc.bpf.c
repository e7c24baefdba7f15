/* bench/workloads/ref-acc.bpf.c — the hand-written C reference for capc's
 * accumulate(): seed 000's per-connection accumulator on SSL_write, as a
 * careful engineer would write it by hand with libbpf, for benchmarks to
 * measure capc against (bench/wirespeed.ts, bench/seed000.ts). Its consumer
 * is ref-acc.c.
 *
 * Design (seed 000): a per-connection accumulator in a hash map keyed by
 * (SSL*, tgid) holding a record header and a 2 KiB buffer (2N for N = 1 KiB
 * batches: the verifier cannot relate offset and length); fragments are
 * appended at `fill & (N-1)`, copies capped at N-2; a batch is flushed when
 * full, when the thread changes, and before an oversize fragment, which then
 * goes out straight in records of up to 16 KiB (reserved in the ring and
 * copied there directly: one copy). One connection is used by one thread at
 * a time (no compare-and-swap: that is the seed's assumption, not capc's).
 *
 * Built twice by the benchmark: with -DAT_RETURN the entry probe saves the
 * arguments per thread and the return probe copies the bytes SSL_write
 * returned (capc's default: exact, two traps); without it the entry probe
 * copies the requested length (seed 000's design: one trap).
 *
 * Wake-ups as capc's R10: BPF_RB_NO_WAKEUP until the unread bytes cross a
 * multiple of a quarter of the ring. Every failed output is counted.
 */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define N 1024         /* batch size */
#define BUF (2 * N)    /* buffer: 2N, so off + len < 2N is provable */
#define BIG 16384      /* largest record for an oversize fragment */

struct rec {
	__u64 conn;    /* the SSL* */
	__u64 offset;  /* of the first payload byte in the stream */
	__u32 tgid;
	__u32 tid;
	__u32 len;     /* payload bytes that follow */
	__u32 kind;    /* 0 data, 1 close (payload: __u64 total bytes) */
};

struct acc {
	__u64 seq;     /* stream bytes handed out so far */
	__u32 fill;
	__u32 _pad;
	struct rec hdr; /* header of the batch, followed by its bytes */
	char buf[BUF];
};

struct key {
	__u64 ssl;
	__u32 tgid;
	__u32 _pad;
};

struct big {
	struct rec hdr;
	char data[BIG];
};

struct args {
	__u64 ssl;
	__u64 buf;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* the consumer may change it before loading */
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct key);
	__type(value, struct acc);
} accs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct args);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct big);
} scratch SEC(".maps");

/* [0] records dropped, [1] payload bytes dropped, [2] connections refused */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static const struct acc zero_acc;

static __always_inline void count(__u32 i, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &i);
	if (v)
		*v += n;
}

/* Wake the reader only as unread bytes cross a multiple of ring/4. */
static __always_inline __u64 wake(__u64 avail, __u64 size)
{
	__u64 step = bpf_ringbuf_query(&rb, BPF_RB_RING_SIZE) / 4;
	__u64 before = avail > size + 8 ? avail - size - 8 : 0;
	return avail / step != before / step ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void out(void *data, __u64 size, __u64 payload)
{
	__u64 flags = wake(bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA) + size + 8, size);
	if (bpf_ringbuf_output(&rb, data, size, flags)) {
		count(0, 1);
		count(1, payload);
	}
}

static __always_inline void flush(struct acc *a)
{
	__u64 fill = a->fill;
	if (!fill)
		return;
	a->hdr.len = fill;
	out(&a->hdr, sizeof(a->hdr) + (fill & (BUF - 1)), fill);
	a->fill = 0;
}

struct big_ctx {
	__u64 ssl;
	const char *src;
	__u64 len;
	__u64 offset;
	__u32 tgid;
	__u32 tid;
};

/* One record of an oversize fragment: chunk i, at most BIG bytes. */
static long big_chunk(__u32 i, struct big_ctx *c)
{
	__u64 pos = (__u64)i * BIG;
	if (pos >= c->len)
		return 1;
	__u64 n = c->len - pos;
	if (n >= BIG) {
		/* A full chunk: reserve it in the ring and copy the bytes there directly. */
		struct big *r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);
		if (!r) {
			count(0, 1);
			count(1, BIG);
			return 0;
		}
		r->hdr = (struct rec){ .conn = c->ssl, .offset = c->offset + pos, .tgid = c->tgid, .tid = c->tid, .len = BIG };
		if (bpf_probe_read_user(r->data, BIG, c->src + pos))
			__builtin_memset(r->data, 0, 8); /* unreadable: keep the record, its length holds the place */
		bpf_ringbuf_submit(r, wake(bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA), sizeof(*r)));
		return 0;
	}
	/* The tail: through the per-CPU buffer, output with its exact size. */
	__u32 z = 0;
	struct big *b = bpf_map_lookup_elem(&scratch, &z);
	if (!b)
		return 1;
	asm volatile("%[n] &= %[m]" : [n] "+r"(n) : [m] "i"(BIG - 1));
	b->hdr = (struct rec){ .conn = c->ssl, .offset = c->offset + pos, .tgid = c->tgid, .tid = c->tid, .len = n };
	bpf_probe_read_user(b->data, n, c->src + pos);
	out(b, sizeof(b->hdr) + n, n);
	return 1;
}

static __always_inline void fragment(__u64 ssl, const char *src, __u64 len)
{
	if (len == 0)
		return;
	__u64 id = bpf_get_current_pid_tgid();
	struct key k = { .ssl = ssl, .tgid = id >> 32 };
	struct acc *a = bpf_map_lookup_elem(&accs, &k);
	if (!a) {
		bpf_map_update_elem(&accs, &k, &zero_acc, BPF_NOEXIST);
		a = bpf_map_lookup_elem(&accs, &k);
		if (!a) {
			count(2, len);
			return;
		}
	}
	__u32 tid = (__u32)id;
	if (a->fill && a->hdr.tid != tid)
		flush(a); /* a batch holds one thread's bytes */
	if (len > N - 2) {
		/* Oversize: what waits goes first, then this fragment in big records. */
		flush(a);
		struct big_ctx c = { .ssl = ssl, .src = src, .len = len, .offset = a->seq, .tgid = k.tgid, .tid = tid };
		a->seq += len;
		bpf_loop((len + BIG - 1) / BIG, big_chunk, &c, 0);
		return;
	}
	if (a->fill + len > N)
		flush(a);
	if (a->fill == 0)
		a->hdr = (struct rec){ .conn = ssl, .offset = a->seq, .tgid = k.tgid, .tid = tid };
	__u64 off = a->fill & (N - 1);
	__u64 n = len & (N - 1);
	asm volatile("if %[n] <= %[m] goto +1; %[n] = %[m]" : [n] "+r"(n) : [m] "i"(N - 2));
	bpf_probe_read_user(a->buf + off, n, src);
	a->fill += n;
	a->seq += n;
	if (a->fill >= N)
		flush(a);
}

#ifdef AT_RETURN
SEC("uprobe")
int BPF_KPROBE(ssl_write_entry, void *ssl, const void *buf, int num)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct args a = { .ssl = (__u64)ssl, .buf = (__u64)buf };
	bpf_map_update_elem(&inflight, &id, &a, BPF_ANY);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(ssl_write_return, int ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct args *p = bpf_map_lookup_elem(&inflight, &id);
	if (!p)
		return 0;
	struct args a = *p;
	bpf_map_delete_elem(&inflight, &id);
	if (ret > 0)
		fragment(a.ssl, (const char *)a.buf, (__u64)ret);
	return 0;
}
#else
SEC("uprobe")
int BPF_KPROBE(ssl_write_entry, void *ssl, const void *buf, int num)
{
	if (num > 0)
		fragment((__u64)ssl, buf, (__u64)num);
	return 0;
}
#endif

/* SSL_shutdown: flush the batch and say how many bytes the stream had. */
SEC("uprobe")
int BPF_KPROBE(ssl_shutdown, void *ssl)
{
	struct key k = { .ssl = (__u64)ssl, .tgid = bpf_get_current_pid_tgid() >> 32 };
	struct acc *a = bpf_map_lookup_elem(&accs, &k);
	if (!a)
		return 0;
	flush(a);
	struct {
		struct rec hdr;
		__u64 total;
	} end = { .hdr = { .conn = k.ssl, .tgid = k.tgid, .len = 8, .kind = 1 }, .total = a->seq };
	out(&end, sizeof(end), 0);
	bpf_map_delete_elem(&accs, &k);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
