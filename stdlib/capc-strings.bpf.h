/* SPDX-License-Identifier: Apache-2.0 */
/*
 * capc-strings.bpf.h — string and byte functions of .cap beyond == and !=
 * (capc.bpf.h): strncmp(), strcontains(), and comparisons with constant
 * bytes (pton()). Like capc_streq*, they are branch-light: differences are
 * ORed together and tested once, with loops of constant trip counts (R6), so
 * the verifier explores one path per call, not one per byte.
 * Included by capc.bpf.h; static inline, nothing emitted unless used.
 */
#ifndef CAPC_STRINGS_BPF_H
#define CAPC_STRINGS_BPF_H

/* `n` bytes at `a` equal the constant bytes `lit` (n a compile-time constant).
 * strncmp() against a literal passes the literal with its NUL when n reaches
 * it, so a longer `a` does not match. */
static __always_inline int capc_memeq_lit(const void *a, const char *lit, __u32 n)
{
	__u64 diff = 0;
	for (__u32 i = 0; i < n; i++)
		diff |= ((const __u8 *)a)[i] ^ (__u8)lit[i];
	return diff == 0;
}

/* strcontains(h, lit): the literal `lit` (nlen > 0 characters, no NUL) occurs
 * in the NUL-terminated string `h` of capacity hsize. A match at i needs no
 * NUL in h before i (bytes after the NUL are not the string's). */
static __always_inline int capc_strcontains_lit(const char *h, __u32 hsize, const char *lit, __u32 nlen)
{
	__u64 found = 0, live = 1;
	for (__u32 i = 0; i + nlen <= hsize; i++) {
		__u64 diff = 0;
		for (__u32 j = 0; j < nlen; j++)
			diff |= (__u8)h[i + j] ^ (__u8)lit[j];
		found |= live & (diff == 0);
		live &= ((__u64)(__u8)h[i] + 0xff) >> 8; /* 0 from h's NUL on */
	}
	return found != 0;
}

/* strcontains(h, n) of two strings known only at run time (capacities hsize
 * and nsize): at each start i, the needle's bytes up to its NUL must all
 * match, and its NUL must come before h's capacity ends. The empty needle
 * is in every string. */
static __always_inline int capc_strcontains(const char *h, __u32 hsize, const char *n, __u32 nsize)
{
	__u64 found = 0, live = 1;
	for (__u32 i = 0; i < hsize; i++) {
		__u64 diff = 0, nlive = 1;
		for (__u32 j = 0; j < nsize; j++) {
			__u64 c = (__u8)n[j];
			nlive &= (c + 0xff) >> 8; /* 0 from the needle's NUL on */
			/* past h's capacity with the needle still going: no match at i */
			diff |= i + j < hsize ? nlive * (c ^ (__u8)h[i + j]) : nlive;
		}
		found |= live & (diff == 0);
		live &= ((__u64)(__u8)h[i] + 0xff) >> 8;
	}
	return found != 0;
}

#endif /* CAPC_STRINGS_BPF_H */
