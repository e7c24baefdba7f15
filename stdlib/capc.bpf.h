/* stdlib/capc.bpf.h — the hand-written kernel side of capc, included first by
 * every generated program (and precompiled once per kernel and clang). It
 * brings in the kernel types (vmlinux.h) and libbpf's helpers, and defines the
 * small helpers generated code calls: counters (R11), ring submission with
 * batched wake-ups (R10), map updates that never keep a value pointer (R7)
 * and per-CPU aggregation (R8), bounded string helpers (R6).
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
_Static_assert(sizeof(struct capc_inet) == 24 && sizeof(struct capc_usym) == 24 && sizeof(struct capc_ustack) == 24, "resolved values are 24 bytes");

/* Load-time constants, set by the runtime before the object is loaded. */
struct capc_ro {
	__u64 cpid;     /* pid of the -c command, 0 without one */
	__u64 start_ns; /* bpf_ktime_get_ns() when capc started: base of `elapsed` */
};

/* R11: every drop or failed update is counted in a per-CPU array and shown to the user. */
static __always_inline void capc_count(void *stats, __u32 index)
{
	__u64 *v = bpf_map_lookup_elem(stats, &index);
	if (v)
		*v += 1; /* per-CPU slot: no atomics needed (R8) */
}

/* R10: wake the consumer only when the ring holds `wakeup_bytes` or more;
 * otherwise it drains on its own timer. One wake-up costs ~10us here. */
static __always_inline __u64 capc_wakeup_flags(void *ring, __u64 wakeup_bytes)
{
	return bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
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

/* R8 + R7: add to a per-CPU counter; the value pointer is used once, never kept. */
static __always_inline void capc_percpu_add(void *map, const void *key, __s64 delta, void *stats, __u32 full_index)
{
	__s64 *v = bpf_map_lookup_elem(map, key);
	if (v) {
		*v += delta;
		return;
	}
	__s64 init = delta;
	if (bpf_map_update_elem(map, key, &init, BPF_NOEXIST) == 0)
		return;
	/* Another CPU created the entry first (or the map is full): look it up again (R7). */
	v = bpf_map_lookup_elem(map, key);
	if (v)
		*v += delta;
	else
		capc_count(stats, full_index);
}

/* `@m[k] = v` on a plain map. */
static __always_inline void capc_map_set(void *map, const void *key, __s64 value, void *stats, __u32 full_index)
{
	if (bpf_map_update_elem(map, key, &value, BPF_ANY))
		capc_count(stats, full_index);
}

/* `@m[k] += v`, `@m[k]++` on a plain (shared) map: atomic, and R7 on races. */
static __always_inline void capc_map_add(void *map, const void *key, __s64 delta, void *stats, __u32 full_index)
{
	__s64 *v = bpf_map_lookup_elem(map, key);
	if (v) {
		__sync_fetch_and_add(v, delta);
		return;
	}
	__s64 init = delta;
	if (bpf_map_update_elem(map, key, &init, BPF_NOEXIST) == 0)
		return;
	v = bpf_map_lookup_elem(map, key);
	if (v)
		__sync_fetch_and_add(v, delta);
	else
		capc_count(stats, full_index);
}

/* R8 + R7: avg()/stats(): a per-CPU (count, total) pair; the pointer is used once. */
static __always_inline void capc_percpu_avg(void *map, const void *key, __s64 v, void *stats, __u32 full_index)
{
	struct capc_avg *a = bpf_map_lookup_elem(map, key);
	if (a) {
		a->count += 1;
		a->total += v;
		return;
	}
	struct capc_avg init = { 1, v };
	if (bpf_map_update_elem(map, key, &init, BPF_NOEXIST) == 0)
		return;
	a = bpf_map_lookup_elem(map, key); /* R7: looked up again */
	if (a) {
		a->count += 1;
		a->total += v;
	} else {
		capc_count(stats, full_index);
	}
}

/* R8 + R7: min()/max() per CPU; a CPU's slot counts only once `set`. */
static __always_inline void capc_percpu_minmax(void *map, const void *key, __s64 v, int is_max, void *stats, __u32 full_index)
{
	struct capc_minmax *m = bpf_map_lookup_elem(map, key);
	if (!m) {
		struct capc_minmax init = { v, 1 };
		if (bpf_map_update_elem(map, key, &init, BPF_NOEXIST) == 0)
			return;
		m = bpf_map_lookup_elem(map, key); /* R7: looked up again */
		if (!m) {
			capc_count(stats, full_index);
			return;
		}
	}
	if (!m->set || (is_max ? v > m->value : v < m->value)) {
		m->value = v;
		m->set = 1;
	}
}

/* hist(): the log2 bucket of v, as bpftrace numbers them: 0 for v < 0, 1 for 0,
 * k + 2 for 2^k <= v < 2^(k+1). R6: six unrolled steps, no loop. */
static __always_inline __u64 capc_log2_bucket(__s64 sv)
{
	if (sv < 0)
		return 0;
	if (sv == 0)
		return 1;
	__u64 v = sv, r = 0, s;
	s = (__u64)(v > 0xFFFFFFFFULL) << 5; v >>= s; r |= s;
	s = (__u64)(v > 0xFFFFULL) << 4; v >>= s; r |= s;
	s = (__u64)(v > 0xFFULL) << 3; v >>= s; r |= s;
	s = (__u64)(v > 0xFULL) << 2; v >>= s; r |= s;
	s = (__u64)(v > 0x3ULL) << 1; v >>= s; r |= s;
	r |= v >> 1;
	return r + 2;
}

/* lhist(v, min, max, step): 0 below min, 1 + (v - min) / step inside, the last
 * bucket (max - min) / step + 1 at or above max (bpftrace's numbering). */
static __always_inline __u64 capc_lin_bucket(__s64 v, __s64 min, __s64 max, __u64 step)
{
	__u64 last = (__u64)(max - min) / step + 1;
	if (v < min)
		return 0;
	if (v >= max)
		return last;
	__u64 b = (__u64)(v - min) / step + 1;
	return b > last ? last : b;
}

/* `@m[k] = "string"`: the value was built in scratch (R5); the map copies it. */
static __always_inline void capc_map_set_bytes(void *map, const void *key, const void *value, void *stats, __u32 full_index)
{
	if (bpf_map_update_elem(map, key, value, BPF_ANY))
		capc_count(stats, full_index);
}

/* Read a string map: copied out at once (R7), empty when absent. */
static __always_inline void capc_map_get_str(void *map, const void *key, char *dst, __u32 n)
{
	const char *v = bpf_map_lookup_elem(map, key);
	if (v)
		bpf_probe_read_kernel_str(dst, n, v);
	else
		dst[0] = 0;
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
			for (__u32 capc_i = 0; capc_i < (n) / 8; capc_i++)                \
				((__u64 *)(p))[capc_i] = 0;                               \
			for (__u32 capc_j = (n) / 8 * 8; capc_j < (n); capc_j++)           \
				((char *)(p))[capc_j] = 0;                                \
		}                                                                         \
	} while (0)

/* Compare two NUL-terminated strings of at most `n` bytes (R6: bounded loop). */
static __always_inline int capc_streq(const char *a, const char *b, __u32 n)
{
	for (__u32 i = 0; i < n; i++) {
		if (a[i] != b[i])
			return 0;
		if (a[i] == 0)
			return 1;
	}
	return 1;
}

/* str(p, len): read at most len characters (and never more than n-1) plus a NUL.
 * The length is bounded by an explicit check the verifier can follow (R4). */
static __always_inline void capc_read_str_n(char *dst, __u32 n, const void *src, __u64 len, int user)
{
	__u64 want = len + 1;
	if (want > n)
		want = n;
	if (want < 1)
		want = 1;
	if (user)
		bpf_probe_read_user_str(dst, want, src);
	else
		bpf_probe_read_kernel_str(dst, want, src);
}

/* `v = min(v, max)` in a form the verifier follows into the next helper call (R4). */
#define capc_bound(v, max) asm volatile("if %[x] <= %[m] goto +1; %[x] = %[m]" : [x] "+r"(v) : [m] "r"((__u64)(max)))

/* buf(p, len): read min(len, cap) bytes; a failed read leaves length 0. */
static __always_inline void capc_read_buf(__u32 *len_out, __u8 *dst, __u32 cap, const void *src, __u64 len, int user)
{
	if (len > cap)
		len = cap;
	capc_bound(len, cap); /* R4: the verifier sees len <= cap */
	long err = user ? bpf_probe_read_user(dst, len, src) : bpf_probe_read_kernel(dst, len, src);
	*len_out = err ? 0 : (__u32)len;
}

/* ntop(): an address as the family and its bytes (v4 in the first 4). */
static __always_inline void capc_inet_u32(struct capc_inet *d, __u64 af, __u32 addr)
{
	__builtin_memset(d, 0, sizeof(*d));
	d->af = af == 10 ? 10 : 2;
	__builtin_memcpy(d->addr, &addr, 4);
}
static __always_inline void capc_inet_bytes(struct capc_inet *d, __u64 af, const void *src, __u32 n)
{
	__builtin_memset(d, 0, sizeof(*d));
	d->af = af;
	bpf_probe_read_kernel(d->addr, n > 16 ? 16 : n, src);
}

/* usym(addr): the address and who saw it; capc finds the symbol. */
static __always_inline void capc_usym(struct capc_usym *d, __u64 addr, __u32 probe, __u64 ip)
{
	d->addr = addr;
	d->pid = bpf_get_current_pid_tgid() >> 32;
	d->probe = probe;
	d->ip = ip;
}

/* ustack: the user stack's id in a stack trace map; a failure (map full, hash
 * collision) is counted (R11) and leaves a negative id, printed as no stack. */
static __always_inline void capc_ustack(void *ctx, void *stack_map, struct capc_ustack *d, __u32 probe, __u64 ip, void *stats, __u32 full_index)
{
	d->id = bpf_get_stackid(ctx, stack_map, BPF_F_USER_STACK);
	d->pid = bpf_get_current_pid_tgid() >> 32;
	d->probe = probe;
	d->ip = ip;
	if (d->id < 0)
		capc_count(stats, full_index);
}

/* join(argv): the strings of a NULL-terminated char *[] into `slot`-byte slots,
 * at most 16 (R6: a constant trip count); *n is how many were read. */
static __always_inline void capc_join(__u64 *n, char *dst, __u32 slot, const void *argv, int user)
{
	*n = 0;
#pragma unroll
	for (__u32 i = 0; i < 16; i++) {
		const char *p = 0;
		const void *at = (const char *const *)argv + i;
		if (user)
			bpf_probe_read_user(&p, sizeof(p), at);
		else
			bpf_probe_read_kernel(&p, sizeof(p), at);
		if (!p)
			break;
		if (user)
			bpf_probe_read_user_str(dst + i * slot, slot, p);
		else
			bpf_probe_read_kernel_str(dst + i * slot, slot, p);
		*n = i + 1;
	}
}

/* Task identity. */
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

/* Arguments 7.. of a kernel function live on its stack. */
static __always_inline __u64 capc_karg_stack(struct pt_regs *ctx, int n)
{
	__u64 v = 0;
	bpf_probe_read_kernel(&v, sizeof(v), (void *)(PT_REGS_SP(ctx) + 8 * (n - 5)));
	return v;
}

/* `args->arr[i]` with a variable i: bounds-checked, read with a helper (the
 * verifier allows no variable offsets into a tracepoint record); 0 when out of range. */
static __always_inline __u64 capc_read_elem(const void *base, __u64 i, __u32 count, __u32 size)
{
	__u64 v = 0;
	if (i < count)
		bpf_probe_read_kernel(&v, size > 8 ? 8 : size, (const char *)base + i * size);
	return v;
}

/* `args->arr[i]` of a __data_loc array: `dl` holds its offset in the record
 * (low 16 bits) and its length in bytes (high 16); 0 when i is out of range. */
static __always_inline __u64 capc_read_dl_elem(const void *ctx, __u32 dl, __u64 i, __u32 size)
{
	__u64 v = 0;
	if (i < (dl >> 16) / size)
		bpf_probe_read_kernel(&v, size > 8 ? 8 : size, (const char *)ctx + (dl & 0xffff) + i * size);
	return v;
}

#endif /* CAPC_BPF_H */
