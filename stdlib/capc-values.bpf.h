/* stdlib/capc-values.bpf.h — kernel helpers for bpftrace's aggregations and
 * values: avg/stats (count, total) pairs and min/max per CPU (R8, R7: a value
 * pointer is used once, never kept), hist/lhist bucket numbers (R6: unrolled,
 * no loop), string maps, buf() reads with a bounded length (R4), and the raw
 * values capc resolves in userspace (ntop, usym, ustack, join). Included by
 * capc.bpf.h, after the structs and capc_count() it uses.
 */
#ifndef CAPC_VALUES_BPF_H
#define CAPC_VALUES_BPF_H

/* R8 + R7: avg()/stats(): a per-CPU (count, total) pair; the pointer is used once.
 * Returns 0, or the failed update's error (-k reports it; unused, it costs nothing). */
static __always_inline long capc_percpu_avg(void *map, const void *key, __s64 v, void *stats, __u32 full_index)
{
	struct capc_avg *a = bpf_map_lookup_elem(map, key);
	if (a) {
		a->count += 1;
		a->total += v;
		return 0;
	}
	struct capc_avg init = { 1, v };
	long err = bpf_map_update_elem(map, key, &init, BPF_NOEXIST);
	if (err == 0)
		return 0;
	a = bpf_map_lookup_elem(map, key); /* R7: looked up again */
	if (a) {
		a->count += 1;
		a->total += v;
		return 0;
	}
	capc_count(stats, full_index);
	return err;
}

/* R8 + R7: min()/max() per CPU; a CPU's slot counts only once `set`. */
static __always_inline long capc_percpu_minmax(void *map, const void *key, __s64 v, int is_max, void *stats, __u32 full_index)
{
	struct capc_minmax *m = bpf_map_lookup_elem(map, key);
	if (!m) {
		struct capc_minmax init = { v, 1 };
		long err = bpf_map_update_elem(map, key, &init, BPF_NOEXIST);
		if (err == 0)
			return 0;
		m = bpf_map_lookup_elem(map, key); /* R7: looked up again */
		if (!m) {
			capc_count(stats, full_index);
			return err;
		}
	}
	if (!m->set || (is_max ? v > m->value : v < m->value)) {
		m->value = v;
		m->set = 1;
	}
	return 0;
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
static __always_inline long capc_map_set_bytes(void *map, const void *key, const void *value, void *stats, __u32 full_index)
{
	long err = bpf_map_update_elem(map, key, value, BPF_ANY);
	if (err)
		capc_count(stats, full_index);
	return err;
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

/* Read a resolved value (a stack id, an address...) out of a map: copied at once
 * (R7); absent, every byte is `fill` (0xff: stack id -1, no stack). */
static __always_inline void capc_map_get_value(void *map, const void *key, void *dst, __u32 n, int fill)
{
	const void *v = bpf_map_lookup_elem(map, key);
	if (v)
		bpf_probe_read_kernel(dst, n, v);
	else
		for (__u32 i = 0; i < n; i++)
			((__u8 *)dst)[i] = fill;
}

/* `v = min(v, max)` in a form the verifier follows into the next helper call (R4). */
#define capc_bound(v, max) asm volatile("if %[x] <= %[m] goto +1; %[x] = %[m]" : [x] "+r"(v) : [m] "r"((__u64)(max)))

/* buf(p, len): read min(len, cap) bytes; a failed read leaves length 0. */
static __always_inline long capc_read_buf(__u32 *len_out, __u8 *dst, __u32 cap, const void *src, __u64 len, int user)
{
	if (len > cap)
		len = cap;
	capc_bound(len, cap); /* R4: the verifier sees len <= cap */
	long err = user ? bpf_probe_read_user(dst, len, src) : bpf_probe_read_kernel(dst, len, src);
	*len_out = err ? 0 : (__u32)len;
	return err;
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
 * collision) is counted (R11) and leaves a negative id, printed as no stack;
 * a task with no user stack (a kernel thread) simply has an empty one. */
static __always_inline long capc_ustack(void *ctx, void *stack_map, struct capc_ustack *d, __u32 probe, __u64 ip, void *stats, __u32 full_index)
{
	d->id = bpf_get_stackid(ctx, stack_map, BPF_F_USER_STACK);
	d->pid = bpf_get_current_pid_tgid() >> 32;
	d->probe = probe;
	d->ip = ip;
	if (d->id < 0 && d->id != -14 /* EFAULT: no user stack (a kernel thread) */)
		capc_count(stats, full_index);
	return d->id < 0 ? d->id : 0; /* get_stackid's error, for -k */
}

/* kstack: the kernel stack's id in a stack trace map; a failure (map full,
 * hash collision) is counted (R11) and leaves a negative id, printed as no stack. */
static __always_inline long capc_kstack(void *ctx, void *stack_map, struct capc_kstack *d, void *stats, __u32 full_index)
{
	d->id = bpf_get_stackid(ctx, stack_map, 0);
	if (d->id < 0)
		capc_count(stats, full_index);
	return d->id < 0 ? d->id : 0; /* get_stackid's error, for -k */
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

/* ---- typed memory (C types: records, arrays, pointers) ---------------------
 * One reader per address space: `user` selects bpf_probe_read_user, kernel
 * memory is read with bpf_probe_read_kernel. Sizes are compile-time
 * constants lowering gives (R4: no variable-length copy here); a failed read
 * leaves zeros, as bpftrace shows them. */
static __always_inline long capc_read_mem(void *dst, __u32 n, __u64 src, int user)
{
	long err = user ? bpf_probe_read_user(dst, n, (const void *)src) : bpf_probe_read_kernel(dst, n, (const void *)src);
	if (err)
		capc_zero(dst, n);
	return err;
}

/* An integer of n bytes (1..8) at src, zero-extended (the caller sign-extends by casting). */
static __always_inline __u64 capc_read_uint(__u64 src, __u32 n, int user)
{
	__u64 v = 0;
	if (user)
		bpf_probe_read_user(&v, n, (const void *)src);
	else
		bpf_probe_read_kernel(&v, n, (const void *)src);
	return v;
}

/* A bitfield: `size` bits from bit `off` of the little-endian bytes in v. */
static __always_inline __u64 capc_bits(__u64 v, __u32 off, __u32 size)
{
	return (v >> off) & (size >= 64 ? ~0ULL : ((1ULL << size) - 1));
}
static __always_inline __s64 capc_sbits(__u64 v, __u32 off, __u32 size)
{
	return (__s64)(v << (64 - off - size)) >> (64 - size);
}

/* An integer of n bytes in the program's own memory (a variable, a map value), possibly unaligned. */
static __always_inline __u64 capc_load_uint(const void *p, __u32 n)
{
	__u64 v = 0;
	__builtin_memcpy(&v, p, n);
	return v;
}
static __always_inline void capc_store_uint(void *p, __u64 v, __u32 n)
{
	__builtin_memcpy(p, &v, n);
}

/* Copy n bytes of the program's own memory; large copies go through the kernel reader (no memcpy call in BPF). */
static __always_inline void capc_copy(void *dst, const void *src, __u32 n)
{
	if (n <= 64)
		__builtin_memcpy(dst, src, n);
	else
		bpf_probe_read_kernel(dst, n, src);
}

/* Records, tuples and arrays compare byte for byte (R6: n is a constant). */
static __always_inline int capc_memeq(const void *a, const void *b, __u32 n)
{
	const __u8 *x = a, *y = b;
	for (__u32 i = 0; i < n; i++)
		if (x[i] != y[i])
			return 0;
	return 1;
}

/* Read a record/tuple/array map: copied out at once (R7), zeros when absent. */
static __always_inline void capc_map_get_bytes(void *map, const void *key, void *dst, __u32 n)
{
	const void *v = bpf_map_lookup_elem(map, key);
	if (v)
		bpf_probe_read_kernel(dst, n, v);
	else
		capc_zero(dst, n);
}

#endif /* CAPC_VALUES_BPF_H */
