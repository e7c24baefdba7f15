/* stdlib/capc-capture.bpf.h — payload capture in the kernel: per-connection
 * stream state, the accumulator that batches small fragments (seed 000), and
 * the chunked sender that never truncates. Generated code calls these with a
 * compile-time N (a power of two, R1), so every bound below is a constant the
 * verifier can see.
 *
 * Records on the capture ring: struct capc_cap_rec, then `len` payload bytes.
 * Metadata is written once per batch, not per fragment; records are exactly as
 * long as their payload (no fixed-size reservation).
 *
 * Concurrency: a connection's state is shared by every CPU. The accumulator
 * buffer has one owner at a time (`busy`, taken with compare-and-swap; BPF
 * cannot spin). A CPU that finds it busy sends its fragment on its own. Stream
 * offsets are taken atomically, so the reader can always put bytes in order.
 */
#ifndef CAPC_CAPTURE_BPF_H
#define CAPC_CAPTURE_BPF_H

#include "capc-ident.bpf.h" /* struct capc_conn_key, and the identity a connection's first records carry */

#define CAPC_DIR_EGRESS 0 /* written / sent by the traced process */
#define CAPC_DIR_INGRESS 1 /* read / received */

#define CAPC_REC_DATA 0  /* payload bytes */
#define CAPC_REC_CLOSE 1 /* connection closed: payload = two __u64 totals (egress, ingress) */
#define CAPC_REC_FINAL 2 /* capc is exiting, connection still open: same payload as CLOSE */
#define CAPC_REC_IDENT 3 /* the connection's socket: payload = struct capc_ident (capc-ident.bpf.h), once per connection */

/* Pairs a Go call's entry with its return: the goroutine (g, in r14) within a
 * process. A Go call can move between threads while it blocks, so the thread
 * id would not do; g pointers repeat across processes, so the tgid is added. */
struct capc_gkey {
	__u64 g;
	__u32 tgid;
	__u32 _pad;
};

/* A connection guard (stdlib/signatures.ts ConnGuard): the call is captured only
 * when *(u32 *)(*(u64 *)(conn + ptr_at) + value_at) == equals. NSS: the
 * descriptor's methods say it is a layered one (the SSL layer), not a file. */
static __always_inline int capc_guard(__u64 conn, __u64 ptr_at, __u64 value_at, __u32 equals)
{
	__u64 p = 0;
	__u32 v = 0;
	if (bpf_probe_read_user(&p, sizeof(p), (void *)(conn + ptr_at)) || !p)
		return 0;
	if (bpf_probe_read_user(&v, sizeof(v), (void *)(p + value_at)))
		return 0;
	return v == equals;
}

struct capc_cap_rec {
	struct capc_hdr hdr; /* id: the capture site (manifest); flags: 0 */
	__u64 key;           /* the script's key */
	__u64 conn;          /* connection id, unique in this session (a reused key gets a new one) */
	__u64 offset;        /* offset of the first payload byte in this direction's stream */
	__u64 ts;            /* bpf_ktime_get_ns() of the first fragment */
	__u32 pid;
	__u32 tid;
	__u32 len;           /* payload bytes following this header */
	__u8 dir;            /* CAPC_DIR_* */
	__u8 kind;           /* CAPC_REC_* */
	__u16 _pad;
	char comm[16];
	__u64 ts_last;       /* bpf_ktime_get_ns() of the last fragment (latency to a response's last byte) */
};

/* The runtime decodes records with these offsets (compiler/manifest.ts CAPTURE_RECORD). */
_Static_assert(sizeof(struct capc_cap_rec) == 80, "capc_cap_rec size");
_Static_assert(__builtin_offsetof(struct capc_cap_rec, key) == 8, "capc_cap_rec.key");
_Static_assert(__builtin_offsetof(struct capc_cap_rec, conn) == 16, "capc_cap_rec.conn");
_Static_assert(__builtin_offsetof(struct capc_cap_rec, offset) == 24, "capc_cap_rec.offset");
_Static_assert(__builtin_offsetof(struct capc_cap_rec, ts) == 32, "capc_cap_rec.ts");
_Static_assert(__builtin_offsetof(struct capc_cap_rec, pid) == 40, "capc_cap_rec.pid");
_Static_assert(__builtin_offsetof(struct capc_cap_rec, tid) == 44, "capc_cap_rec.tid");
_Static_assert(__builtin_offsetof(struct capc_cap_rec, len) == 48, "capc_cap_rec.len");
_Static_assert(__builtin_offsetof(struct capc_cap_rec, dir) == 52, "capc_cap_rec.dir");
_Static_assert(__builtin_offsetof(struct capc_cap_rec, kind) == 53, "capc_cap_rec.kind");
_Static_assert(__builtin_offsetof(struct capc_cap_rec, comm) == 56, "capc_cap_rec.comm");
_Static_assert(__builtin_offsetof(struct capc_cap_rec, ts_last) == 72, "capc_cap_rec.ts_last");

/* Stream state of one connection. For accumulate(), the batch buffer follows
 * `rec` directly, so a flush sends header and payload in one output call. */
struct capc_conn {
	__u64 conn;
	__u64 seq[2];   /* bytes of each direction handed out so far (offsets) */
	__u64 last_ns;  /* unused: the idle flush ages a batch from its first fragment (rec.ts), which saves a clock read per call; kept so the layout does not move */
	__u32 busy;     /* 1 while a CPU owns the buffer */
	__u32 fill;     /* bytes waiting in the buffer */
	__u32 closed;   /* close seen while busy: the flusher finishes it */
	__u32 ident;    /* 1 once the connection's identity record is sent */
	struct capc_cap_rec rec; /* header of the batch being filled */
};
_Static_assert(sizeof(struct capc_conn) == 128, "capc_conn size (compiler/3-lower/lower-capture.ts CONN_SIZE)");

/* Where records go: a ring buffer (default) or a perf buffer (older kernels). */
struct capc_sink {
	void *map;
	void *ctx;       /* program context, needed by perf output */
	__u64 wakeup;    /* R10 threshold for rings */
	void *stats;     /* R11 counters */
	__u32 drop_rec;  /* counter index: records dropped */
	__u32 drop_bytes;/* counter index: payload bytes dropped */
	__u32 is_perf;
	__u32 site;      /* event id for records of this site */
};

static __always_inline void capc_count_n(void *stats, __u32 index, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(stats, &index);
	if (v)
		*v += n;
}

/* Output one record of `size` bytes at `data`; a full sink is counted (R11).
 * Returns non-zero when the record could not be written. */
static __always_inline long capc_sink_out(struct capc_sink *s, void *data, __u64 size, __u64 payload)
{
	long err;
	if (s->is_perf)
		err = bpf_perf_event_output(s->ctx, s->map, BPF_F_CURRENT_CPU, data, size);
	else
		err = bpf_ringbuf_output(s->map, data, size, capc_wakeup_flags_output(s->map, s->wakeup, size)); /* R10 */
	if (err) {
		capc_count_n(s->stats, s->drop_rec, 1);        /* R11 */
		capc_count_n(s->stats, s->drop_bytes, payload);
	}
	return err;
}

static __always_inline void capc_rec_init(struct capc_cap_rec *r, struct capc_sink *s, __u64 key, __u64 conn, __u64 offset, __u8 dir, __u8 kind)
{
	__u64 id = bpf_get_current_pid_tgid();
	r->hdr.id = s->site;
	r->hdr.flags = 0;
	r->key = key;
	r->conn = conn;
	r->offset = offset;
	r->ts = r->ts_last = bpf_ktime_get_ns();
	r->pid = id >> 32;
	r->tid = (__u32)id;
	r->len = 0;
	r->dir = dir;
	r->kind = kind;
	r->_pad = 0;
	bpf_get_current_comm(r->comm, sizeof(r->comm));
}

/* The connection's state, created on first use (R7: always looked up again).
 * `zero` points at a zeroed value of the map's value size (read-only data). */
static __always_inline struct capc_conn *capc_conn_get(void *map, struct capc_conn_key *k, const void *zero, __u64 *next_conn, void *stats, __u32 full_index)
{
	struct capc_conn *c = bpf_map_lookup_elem(map, k);
	if (!c) {
		if (bpf_map_update_elem(map, k, zero, BPF_NOEXIST) == 0 || (c = bpf_map_lookup_elem(map, k)) != 0) {
			c = bpf_map_lookup_elem(map, k);
		} else {
			capc_count(stats, full_index); /* R11: connection table full */
			return 0;
		}
		if (!c)
			return 0;
	}
	if (c->conn == 0)
		__sync_val_compare_and_swap(&c->conn, 0, __sync_fetch_and_add(next_conn, 1) + 1);
	return c;
}

/* `v = min(v, max)` in a form the verifier follows into the next helper call:
 * clang 14 may otherwise rematerialise v from a copy the check did not bound. */
#define capc_clamp(v, max) asm volatile("if %[x] <= %[m] goto +1; %[x] = %[m]" : [x] "+r"(v) : [m] "r"((__u64)(max)))

#ifndef CAPC_MAX_CHUNK
#define CAPC_MAX_CHUNK 1024 /* the generated program defines the largest N it uses */
#endif

/* Per-CPU room for one record: header + CAPC_MAX_CHUNK bytes (R5: not the stack). */
struct capc_chunk_buf {
	struct capc_cap_rec rec;
	char data[CAPC_MAX_CHUNK];
};

/* Context for sending one payload in chunks of at most n bytes. */
struct capc_chunks {
	struct capc_sink *sink;
	void *scratch;   /* per-CPU array of struct capc_chunk_buf */
	const char *data;
	__u64 len;
	__u64 key;
	__u64 conn;
	__u64 offset;
	__u32 n;         /* chunk size N */
	__u32 user;      /* data is in user memory */
	__u8 dir;
};

/* bpf_loop callback: chunk i of the payload as its own record. */
static long capc_chunk_cb(__u32 i, struct capc_chunks *c)
{
	__u32 zero = 0;
	struct capc_chunk_buf *b = bpf_map_lookup_elem(c->scratch, &zero); /* R7 */
	if (!b)
		return 1;
	__u64 pos = (__u64)i * c->n;
	if (pos >= c->len)
		return 1;
	__u64 n = c->len - pos;
	if (n > c->n)
		n = c->n;
	if (!c->sink->is_perf && n == CAPC_MAX_CHUNK) {
		/* A full record on a ring: reserve it there and copy the bytes straight in (one copy, not two;
		 * a 16 KiB SSL_write costs ~20% less). A failed reservation is counted like any other (R11). */
		struct capc_chunk_buf *r = bpf_ringbuf_reserve(c->sink->map, sizeof(*r), 0);
		if (!r) {
			capc_count_n(c->sink->stats, c->sink->drop_rec, 1);
			capc_count_n(c->sink->stats, c->sink->drop_bytes, CAPC_MAX_CHUNK);
			return 0;
		}
		capc_rec_init(&r->rec, c->sink, c->key, c->conn, c->offset + pos, c->dir, CAPC_REC_DATA);
		r->rec.len = CAPC_MAX_CHUNK;
		if (c->user)
			bpf_probe_read_user(r->data, CAPC_MAX_CHUNK, c->data + pos); /* zero-filled if unreadable */
		else
			bpf_probe_read_kernel(r->data, CAPC_MAX_CHUNK, c->data + pos);
		bpf_ringbuf_submit(r, capc_wakeup_flags(c->sink->map, c->sink->wakeup, sizeof(*r))); /* R10 */
		return 0;
	}
	capc_clamp(n, CAPC_MAX_CHUNK); /* R4: the verifier sees n <= the buffer */
	capc_rec_init(&b->rec, c->sink, c->key, c->conn, c->offset + pos, c->dir, CAPC_REC_DATA);
	b->rec.len = n;
	if (c->user)
		bpf_probe_read_user(b->data, n, c->data + pos);
	else
		bpf_probe_read_kernel(b->data, n, c->data + pos);
	capc_sink_out(c->sink, b, sizeof(b->rec) + n, n);
	return 0;
}

/* Send `len` bytes as records of at most n bytes each, in order. Never truncates. */
static __always_inline void capc_send_chunks(struct capc_chunks *c)
{
	__u64 chunks = (c->len + c->n - 1) / c->n;
	if (chunks > (1 << 23))
		chunks = 1 << 23; /* bpf_loop's limit: 8M chunks of N bytes */
	bpf_loop(chunks, capc_chunk_cb, c, 0);
}

/* capture(KEY, N): every payload, split into N-byte records, never batched. */
static __always_inline void capc_capture(struct capc_sink *s, struct capc_conn *c, __u64 key, const char *data, __u64 len, __u8 dir, __u32 n, __u32 user, void *scratch)
{
	struct capc_chunks ch = {
		.sink = s, .scratch = scratch, .data = data, .len = len, .key = key, .conn = c->conn,
		.offset = __sync_fetch_and_add(&c->seq[dir & 1], len), .n = n, .user = user, .dir = dir,
	};
	capc_send_chunks(&ch);
}

_Static_assert(CAPC_MAX_CHUNK >= sizeof(struct capc_ident), "an identity record fits the per-CPU record buffer");

/*
 * The connection's identity, sent once, before its data when it is known by
 * then: a CAPC_REC_IDENT record on the same sink, counted like any other
 * (R11). If the sink is full the flag is cleared and the next call tries
 * again. `fd` >= 0 (syscall capture: the key is the fd) looks the socket up
 * now if it is not known yet; -1 (OpenSSL) only sends what the syscalls made
 * inside SSL calls (or SSL_set_fd) have taught, and only once it is final.
 */
static __always_inline void capc_conn_ident(struct capc_sink *s, struct capc_conn *c, void *idmap, struct capc_conn_key *k, __s64 fd, const struct capc_ident *zero, void *scratch)
{
	struct capc_ident *id = fd >= 0 ? capc_ident_of_fd(idmap, k, zero) : bpf_map_lookup_elem(idmap, k);
	if (!id || !(fd >= 0 ? id->c.state != 0 : capc_ident_final(&id->c)))
		return; /* not known yet: a later call sends it */
	if (__sync_val_compare_and_swap(&c->ident, 0, 1) != 0)
		return;
	__u32 zero_key = 0;
	struct capc_chunk_buf *b = bpf_map_lookup_elem(scratch, &zero_key); /* R5: not the stack */
	if (!b) {
		c->ident = 0;
		return;
	}
	capc_rec_init(&b->rec, s, k->key, c->conn, 0, 0, CAPC_REC_IDENT);
	b->rec.len = sizeof(struct capc_ident);
	bpf_probe_read_kernel(b->data, sizeof(struct capc_ident), id);
	if (capc_sink_out(s, b, sizeof(b->rec) + sizeof(struct capc_ident), 0))
		c->ident = 0; /* counted (R11); the next call sends it again */
}

/* Send the batch waiting in the accumulator (header and payload in one call).
 * `buf_mask` is 2N-1 (rules.ts, r2BatchBuffer): the size is bounded by the 2N
 * buffer for the verifier. */
static __always_inline void capc_acc_flush(struct capc_sink *s, struct capc_conn *c, __u64 buf_mask)
{
	__u64 fill = c->fill;
	if (!fill)
		return;
	fill &= buf_mask; /* R3: provably inside the 2N buffer */
	c->rec.len = fill; /* the header (site, offset, thread...) was set when the batch began */
	capc_sink_out(s, &c->rec, sizeof(c->rec) + fill, fill);
	c->fill = 0;
}

/*
 * The sizes and masks of one accumulate(KEY, N) site. Every one is computed by
 * compiler/3-lower/rules.ts (r2r4AccumulatorRules: r2BatchBuffer, r3OffsetMask,
 * r4CopyBound), the one home of the verifier rules; this header takes them as
 * they are. The generated code passes a constant initialiser, so after
 * inlining each is a constant the verifier sees.
 */
struct capc_acc_rules {
	__u64 batch;    /* N: the batch is sent when it holds this many bytes (R9) */
	__u64 off_mask; /* R3: the write offset is masked, N-1 */
	__u64 len_mask; /* R4: a fragment's length is masked, N-1... */
	__u64 len_cap;  /* R4: ...and capped, N-2; a longer fragment goes straight through (R9) */
	__u64 buf_mask; /* R2/R3: the 2N buffer's mask, 2N-1, for every flush */
};

/*
 * accumulate(KEY, N): append a fragment to the connection's batch, with the
 * sizes and masks of `r` (above): R1 N is a power of two; R2 the buffer is 2N;
 * R3 the write offset is masked; R4 the copy is masked and capped so even
 * conservative verifiers accept it; R9 the batch is flushed when full, when
 * the thread or direction changes, and before an oversize fragment, which then
 * goes out on its own so the order is kept.
 */
static __always_inline void capc_accumulate(struct capc_sink *s, struct capc_conn *c, char *buf, __u64 key, const char *data, __u64 len, __u8 dir, const struct capc_acc_rules r, __u32 user, void *scratch)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	dir &= 1;
	if (len == 0)
		return;
	if (__sync_val_compare_and_swap(&c->busy, 0, 1) != 0) {
		/* Another CPU owns the buffer: send this fragment by itself. */
		capc_capture(s, c, key, data, len, dir, CAPC_MAX_CHUNK, user, scratch);
		return;
	}
	/* R9: a batch holds one thread and one direction. */
	if (c->fill && (c->rec.dir != dir || c->rec.tid != tid))
		capc_acc_flush(s, c, r.buf_mask);
	if (len > r.len_cap) {
		/* R9: oversize: flush what is waiting, then send this one straight through,
		 * in records as large as the per-CPU buffer allows (fewer records per byte). */
		capc_acc_flush(s, c, r.buf_mask);
		capc_capture(s, c, key, data, len, dir, CAPC_MAX_CHUNK, user, scratch);
		c->busy = 0;
		return;
	}
	if (c->fill + len > r.batch)
		capc_acc_flush(s, c, r.buf_mask); /* R9: would overflow the batch */
	__u64 at = __sync_fetch_and_add(&c->seq[dir], len);
	if (c->fill && c->rec.offset + c->fill != at)
		capc_acc_flush(s, c, r.buf_mask); /* another CPU sent bytes in between: keep batches contiguous */
	if (c->fill == 0)
		capc_rec_init(&c->rec, s, key, c->conn, at, dir, CAPC_REC_DATA); /* ts = ts_last: the batch's first fragment */
	else
		c->rec.ts_last = bpf_ktime_get_ns(); /* its last fragment so far (latency to a response's last byte; ~20 ns: BENCHMARKS.md) */
	__u64 off = c->fill & r.off_mask; /* R3: off & (N-1) */
	__u64 n = len & r.len_mask;       /* R4: masked... */
	capc_clamp(n, r.len_cap);         /* ...and capped at N-2 */
	if (user)
		bpf_probe_read_user(buf + off, n, data); /* R2: off + n < 2N */
	else
		bpf_probe_read_kernel(buf + off, n, data);
	c->fill += n;
	if (c->fill >= r.batch)
		capc_acc_flush(s, c, r.buf_mask); /* R9: full */
	c->busy = 0;
}

/* The idle flush (and the flush at exit), run by capc every few tens of ms:
 * a partial batch reaches the reader at most ~1.5x idle_ns after its first
 * byte, on a quiet connection or a slow trickle alike. Aging batches from
 * their first fragment (rec.ts, read once per batch) instead of from the last
 * one saves a clock read on every call (~20-30 ns measured, BENCHMARKS.md). */
static __always_inline void capc_acc_idle(struct capc_sink *s, struct capc_conn *c, __u64 key, __u64 idle_ns, __u64 buf_mask, int final)
{
	if (!final && !c->closed && (!c->fill || bpf_ktime_get_ns() - c->rec.ts < idle_ns))
		return;
	if (__sync_val_compare_and_swap(&c->busy, 0, 1) != 0)
		return; /* its owner is active: it will flush */
	capc_acc_flush(s, c, buf_mask);
	c->busy = 0;
}

/* Connection closed (or capc exiting: kind FINAL): flush, then a record with the
 * byte totals of both directions, so the reader can tell a lost tail. Returns
 * non-zero if the totals could not be written: the caller keeps the connection
 * (marked closed) so the flusher tries again. */
static __always_inline long capc_conn_end(struct capc_sink *s, struct capc_conn *c, __u64 key, __u8 kind, __u64 buf_mask)
{
	struct {
		struct capc_cap_rec rec;
		__u64 totals[2];
	} end;
	if (buf_mask)
		capc_acc_flush(s, c, buf_mask);
	capc_rec_init(&end.rec, s, key, c->conn, 0, 0, kind);
	end.rec.len = sizeof(end.totals);
	end.totals[0] = c->seq[0];
	end.totals[1] = c->seq[1];
	return capc_sink_out(s, &end, sizeof(end), 0);
}

#endif /* CAPC_CAPTURE_BPF_H */
