/* stdlib/capc.bpf.h — the hand-written kernel side of capc, included first by
 * every generated program (and precompiled once per kernel and clang). It
 * brings in the kernel types (vmlinux.h) and libbpf's helpers, and defines the
 * small helpers generated code calls: counters (R11), ring submission with
 * batched wake-ups (R10), map updates that never keep a value pointer (R7)
 * and per-CPU aggregation (R8), bounded string helpers (R6). The aggregation
 * and value helpers are in capc-values.bpf.h, included at the end.
 * Everything here is static inline: nothing is emitted unless used.
 */
#ifndef CAPC_BPF_H
#define CAPC_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

/* libbpf 1.1 names the first five argument registers; x86-64 passes six. */
#ifndef PT_REGS_PARM6
#define PT_REGS_PARM6(x) ((x)->r9)
#endif

#ifndef BPF_RB_NO_WAKEUP
#define BPF_RB_NO_WAKEUP 1
#define BPF_RB_FORCE_WAKEUP 2
#endif

/* Header of every record on an event ring; `id` selects the layout in the manifest. */
struct capc_hdr {
	__u32 id;
	__u32 flags;
};

/* A record on the control ring (exit, print, clear, zero); rare, so it always
 * wakes the reader. `pos` is the events ring's producer position: capc prints
 * every event reserved before it first, so control actions keep their place
 * among printf output, and a flood of events can never drop them (#3924). */
struct capc_ctl {
	__u32 kind;
	__u32 arg;
	__u64 pos;
	__u64 a;
	__u64 b;
};
_Static_assert(sizeof(struct capc_ctl) == 32, "capc_ctl is 32 bytes (CTL_RECORD_SIZE)");
#define CAPC_CTL_EXIT 1
#define CAPC_CTL_PRINT 2
#define CAPC_CTL_CLEAR 3
#define CAPC_CTL_ZERO 4

/* Values of aggregation maps (per CPU, combined by capc: R8). */
struct capc_avg {
	__s64 count;
	__s64 total;
};
struct capc_minmax {
	__s64 value;
	__s64 set; /* 0: this CPU never saw a value */
};

/* Values capc resolves when printing (layouts in compiler/manifest.ts). */
struct capc_inet {
	__u64 af; /* 2 (AF_INET) or 10 (AF_INET6) */
	__u8 addr[16];
};
struct capc_usym {
	__u64 addr;
	__u32 pid;
	__u32 probe; /* uprobe instance that saw it (its ip gives the load address), or ~0 */
	__u64 ip;
};
struct capc_ustack {
	__s64 id; /* stack id in the stack trace map; negative: no stack */
	__u32 pid;
	__u32 probe;
	__u64 ip;
};
struct capc_kstack {
	__s64 id; /* stack id in the kernel stack trace map; negative: no stack */
};
_Static_assert(sizeof(struct capc_inet) == 24 && sizeof(struct capc_usym) == 24 && sizeof(struct capc_ustack) == 24, "resolved values are 24 bytes");

/* Load-time constants, set by the runtime before the object is loaded. */
struct capc_ro {
	__u64 cpid;     /* pid of the -c command, 0 without one */
	__u64 start_ns; /* bpf_ktime_get_ns() when capc started: base of `elapsed` */
	__u64 scope;    /* CAPC_SCOPE_* bits (capture scope and TLS discovery, capc-scope.bpf.h) */
};
#define CAPC_SCOPE_TREE 1 /* captures only in the -c/-p process tree (the capc_scope map) */
#define CAPC_SCOPE_HOLD 2 /* -c with TLS discovery: stop a new executable at exec until capc has attached to it */

/* R11: every drop or failed update is counted in a per-CPU array and shown to the user. */
static __always_inline void capc_count(void *stats, __u32 index)
{
	__u64 *v = bpf_map_lookup_elem(stats, &index);
	if (v)
		*v += 1; /* per-CPU slot: no atomics needed (R8) */
}

/* R10: wake the consumer only as the ring's unread bytes cross a multiple of
 * `wakeup_bytes` (ring/4 by default): at most ~4 wake-ups per ring of data,
 * and none for a quiet ring, which the consumer drains on its own timer.
 * Waking on every record past the threshold (the first version) made a
 * consumer that fell behind cost the producer ~10us per record, which slowed
 * it further. A crossing missed because other CPUs reserved at the same time
 * is caught at the next multiple. `avail` counts this record; `rec` is its
 * size. */
static __always_inline __u64 capc_wake_on_crossing(__u64 avail, __u64 rec, __u64 wakeup_bytes)
{
	__u64 before = avail > rec + 8 ? avail - rec - 8 : 0;
	return avail / wakeup_bytes != before / wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/* For bpf_ringbuf_submit(): the record is reserved, so the ring already counts it. */
static __always_inline __u64 capc_wakeup_flags(void *ring, __u64 wakeup_bytes, __u64 rec)
{
	return capc_wake_on_crossing(bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA), rec, wakeup_bytes);
}

/* For bpf_ringbuf_output(): the record is not in the ring yet. */
static __always_inline __u64 capc_wakeup_flags_output(void *ring, __u64 wakeup_bytes, __u64 rec)
{
	return capc_wake_on_crossing(bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA) + rec, rec, wakeup_bytes);
}

/* exit(), print(@m), clear(@m), zero(@m): one record on the control ring. A
 * failed reservation is counted (R11), never silent. */
static __always_inline void capc_ctl_send(void *ctl, void *events, void *stats, __u32 drop_index, __u32 kind, __u32 arg, __u64 a, __u64 b)
{
	struct capc_ctl *c = bpf_ringbuf_reserve(ctl, sizeof(*c), 0);
	if (!c) {
		capc_count(stats, drop_index);
		return;
	}
	c->kind = kind;
	c->arg = arg;
	c->pos = bpf_ringbuf_query(events, BPF_RB_PROD_POS);
	c->a = a;
	c->b = b;
	bpf_ringbuf_submit(c, 0);
}

/* exit(): the runtime stops after printing what came before. */
static __always_inline void capc_exit(void *ctl, void *events, void *stats, __u32 drop_index, __u32 code)
{
	capc_ctl_send(ctl, events, stats, drop_index, CAPC_CTL_EXIT, code, 0, 0);
}

/* The map updates below return 0, or the failed bpf_map_update_elem's error:
 * -k reports it with the script's line (helper-checks.ts); unused, the
 * compiler drops it, so the program without -k pays nothing. */

/* R8 + R7: add to a per-CPU counter; the value pointer is used once, never kept. */
static __always_inline long capc_percpu_add(void *map, const void *key, __s64 delta, void *stats, __u32 full_index)
{
	__s64 *v = bpf_map_lookup_elem(map, key);
	if (v) {
		*v += delta;
		return 0;
	}
	__s64 init = delta;
	long err = bpf_map_update_elem(map, key, &init, BPF_NOEXIST);
	if (err == 0)
		return 0;
	/* Another CPU created the entry first (or the map is full): look it up again (R7). */
	v = bpf_map_lookup_elem(map, key);
	if (v) {
		*v += delta;
		return 0;
	}
	capc_count(stats, full_index);
	return err;
}

/* `@m[k] = v` on a plain map. */
static __always_inline long capc_map_set(void *map, const void *key, __s64 value, void *stats, __u32 full_index)
{
	long err = bpf_map_update_elem(map, key, &value, BPF_ANY);
	if (err)
		capc_count(stats, full_index);
	return err;
}

/* `@m[k] += v`, `@m[k]++` on a plain (shared) map: atomic, and R7 on races. */
static __always_inline long capc_map_add(void *map, const void *key, __s64 delta, void *stats, __u32 full_index)
{
	__s64 *v = bpf_map_lookup_elem(map, key);
	if (v) {
		__sync_fetch_and_add(v, delta);
		return 0;
	}
	__s64 init = delta;
	long err = bpf_map_update_elem(map, key, &init, BPF_NOEXIST);
	if (err == 0)
		return 0;
	v = bpf_map_lookup_elem(map, key);
	if (v) {
		__sync_fetch_and_add(v, delta);
		return 0;
	}
	capc_count(stats, full_index);
	return err;
}

/* -k/-kk: a helper call failed; one record on the events ring (so it keeps its
 * place among printf output) with the site's id (its helper and line are in
 * the manifest) and the error. A full ring is counted (R11). */
struct capc_helper_err {
	struct capc_hdr hdr;
	__s64 rc;
};
static __always_inline void capc_helper_error(void *events, void *stats, __u32 drop_index, __u32 id, __s64 rc)
{
	struct capc_helper_err *e = bpf_ringbuf_reserve(events, sizeof(*e), 0);
	if (!e) {
		capc_count(stats, drop_index);
		return;
	}
	e->hdr.id = id;
	e->hdr.flags = 0;
	e->rc = rc;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
}

/* Read `@m[k]`: 0 when absent, as in bpftrace. */
static __always_inline __s64 capc_map_get(void *map, const void *key)
{
	__s64 *v = bpf_map_lookup_elem(map, key);
	return v ? *v : 0;
}

/* Zero `n` bytes (n a compile-time constant). Large areas use 8-byte stores in
 * a bounded loop (R6) instead of a memset clang cannot emit for BPF. */
#define capc_zero(p, n)                                                                   \
	do {                                                                              \
		if ((n) <= 256) {                                                         \
			__builtin_memset((p), 0, (n));                                    \
		} else {                                                                  \
			for (__u32 capc_i = 0; capc_i < (n) / 8; capc_i++) {              \
				((__u64 *)(p))[capc_i] = 0;                               \
				/* or clang turns the loop back into memset(), which BPF lacks */ \
				asm volatile("" ::: "memory");                            \
			}                                                                 \
			for (__u32 capc_j = (n) / 8 * 8; capc_j < (n); capc_j++)           \
				((char *)(p))[capc_j] = 0;                                \
		}                                                                         \
	} while (0)

/* String equality without a branch per byte: the differences are ORed
 * together and tested once. Byte-by-byte `if`s would each leave the verifier
 * a path to explore; inside a bounded loop (R6) they add up past its limit of
 * 8,192 pending paths. */

/* `a` equals the literal `lit` of `len` characters: a holds more than len
 * bytes (the compiler checks its capacity), so a[len] is its NUL or not. */
static __always_inline int capc_streq_lit(const char *a, const char *lit, __u32 len)
{
	__u64 diff = 0;
	for (__u32 i = 0; i < len; i++)
		diff |= (__u8)a[i] ^ (__u8)lit[i];
	diff |= (__u8)a[len];
	return diff == 0;
}

/* Two NUL-terminated strings of at most `n` bytes (R6: a constant trip
 * count): bytes count until a's NUL, that one included. */
static __always_inline int capc_streq(const char *a, const char *b, __u32 n)
{
	__u64 diff = 0, live = 1;
	for (__u32 i = 0; i < n; i++) {
		__u64 c = (__u8)a[i];
		diff |= live * (c ^ (__u8)b[i]);
		live &= (c + 0xff) >> 8; /* 0 from a's NUL on */
	}
	return diff == 0;
}

/* str(p, len): read at most len characters (and never more than n-1) plus a NUL.
 * The length is bounded by an explicit check the verifier can follow (R4). */
static __always_inline long capc_read_str_n(char *dst, __u32 n, const void *src, __u64 len, int user)
{
	__u64 want = len + 1;
	if (want > n)
		want = n;
	if (want < 1)
		want = 1;
	if (user)
		return bpf_probe_read_user_str(dst, want, src);
	return bpf_probe_read_kernel_str(dst, want, src);
}

/* Task identity. */
/*
 * Integer operations C leaves undefined, defined the way .cap documents them
 * (and bpftrace behaves): division is unsigned 64-bit and a zero divisor gives
 * 0; a shift by 64 or more gives 0 (-1 for a negative value shifted right).
 * Signed overflow wraps (-fwrapv). capc calls these only when the divisor or
 * the shift count is not a constant it has already checked.
 */
static __always_inline __u64 capc_div(__u64 a, __u64 b) { return b ? a / b : 0; }
static __always_inline __u64 capc_mod(__u64 a, __u64 b) { return b ? a % b : 0; }
static __always_inline __u64 capc_shl(__u64 a, __u64 n) { return n < 64 ? a << n : 0; }
static __always_inline __u64 capc_shr(__u64 a, __u64 n) { return n < 64 ? a >> n : 0; }
static __always_inline __s64 capc_sar(__s64 a, __u64 n) { return a >> (n < 64 ? n : 63); }

static __always_inline __u64 capc_pid(void) { return bpf_get_current_pid_tgid() >> 32; }
static __always_inline __u64 capc_tid(void) { return (__u32)bpf_get_current_pid_tgid(); }
static __always_inline __u64 capc_uid(void) { return (__u32)bpf_get_current_uid_gid(); }
static __always_inline __u64 capc_gid(void) { return bpf_get_current_uid_gid() >> 32; }
static __always_inline __u64 capc_cgroup(void) { return bpf_get_current_cgroup_id(); }

/* Arguments 7..10 of a user function live on its stack (x86-64 SysV). */
static __always_inline __u64 capc_uarg_stack(struct pt_regs *ctx, int n)
{
	__u64 v = 0;
	bpf_probe_read_user(&v, sizeof(v), (void *)(PT_REGS_SP(ctx) + 8 * (n - 5)));
	return v;
}

/* Aggregations, histograms, string maps and values capc resolves (R4-R8). */
#include "capc-values.bpf.h"
/* strncmp(), strcontains(), constant-byte comparisons. */
#include "capc-strings.bpf.h"

#endif /* CAPC_BPF_H */
