// compiler/3-lower/rules.ts — the verifier rules (R1–R12, product.md), one
// named helper each, with the rewrite it makes in one line. Lowering applies
// a rule only through its helper here, so each rule has one home; the C
// helpers that carry a rule in the kernel (stdlib/capc.bpf.h,
// capc-values.bpf.h, capc-capture.bpf.h) say which rule in a comment. The
// accumulator's R2–R4 and R9 run in hand-written C (capc_accumulate), which
// computes no size, mask or cap of its own: each accumulate() site hands it a
// struct capc_acc_rules built by r2r4AccumulatorRules below.
//
// Negative controls: `omitRules` (LowerOptions) leaves R2, R3 or R12 out so a test
// can prove the kernel rejects the program without it. Only tests set it
// (through the compiler API, tests/support/verifier.ts); capc has no flag or
// variable for it.
import { CLOSE_SIGNATURES, type CloseSignature } from '../../stdlib/signatures.js';
import { addr, bin, call, id, num, type CExpr, type CStmt } from './c-ir.js';

type ExprStmt = Extract<CStmt, { k: 'expr' }>;

/** Rules a test may leave out of the generated C. */
export type OmittableRule = 'R2' | 'R3' | 'R12';

export interface LowerOptions {
  /** Tests only (negative controls): verifier rules to leave out. Never set by capc's flags. */
  omitRules?: readonly OmittableRule[];
  /** -k (1), -kk (2): report failed helper calls with their line (helper-checks.ts). */
  helperChecks?: number;
}

/** R1 power-of-two capture sizes: `accumulate(conn, 1000)` → E0501 "use 1024". Undefined when n is one, else the size to use. */
export function r1PowerOfTwo(n: number): number | undefined {
  if (n > 0 && (n & (n - 1)) === 0) return undefined;
  return 2 ** Math.ceil(Math.log2(Math.max(1, n)));
}

/**
 * R2 a buffer written at a variable offset with a variable length is twice
 * what it is filled to: `char buf[N]` → `char buf[2 * N]`. `mask` is the
 * buffer's offset mask the accumulator flushes with (2N - 1, R3).
 */
export function r2BatchBuffer(n: number, opts: LowerOptions = {}): { size: number; mask: number } {
  const size = opts.omitRules?.includes('R2') ? n : 2 * n;
  return { size, mask: r3Mask(2 * n) };
}

/** R3 every variable offset is masked: `buf[off]` → `buf[off & (size - 1)]`; the mask for a power-of-two size. */
export function r3Mask(size: number): number {
  return size - 1;
}

/**
 * R3 in the accumulator: the write offset into the batch buffer is masked,
 * `buf + fill` → `buf + (fill & (N - 1))`. Omitted (a test), the mask is all
 * ones, which clang drops: the offset reaches the verifier unbounded.
 */
export function r3OffsetMask(n: number, opts: LowerOptions = {}): bigint {
  return opts.omitRules?.includes('R3') ? 0xffff_ffff_ffff_ffffn : BigInt(r3Mask(n));
}

/**
 * R4 every variable-length copy is capped and masked: `read(dst, len)` →
 * `read(dst, min(len, cap))` (capc_read_buf, capc_bound in capc-values.bpf.h;
 * the accumulator masks with N - 1 and caps at N - 2).
 */
export function r4BoundedRead(lenDst: CExpr, dst: CExpr, cap: number, src: CExpr, len: CExpr, user: boolean): CExpr {
  return call('capc_read_buf', addr(lenDst), dst, num(cap), src, len, num(user ? 1 : 0));
}

/** R4 in the accumulator: a fragment's length is masked and capped, `n` → `min(n & (N - 1), N - 2)`. */
export function r4CopyBound(n: number): { mask: number; cap: number } {
  return { mask: r3Mask(n), cap: n - 2 };
}

/**
 * The sizes and masks one accumulate(KEY, N) site hands capc_accumulate
 * (`struct capc_acc_rules`, stdlib/capc-capture.bpf.h), every one from a rule
 * here: `batch` N (R9: sent when full), `off_mask` (R3), `len_mask` and
 * `len_cap` (R4; a longer fragment is sent straight through, R9), `buf_mask`
 * (R2/R3: the 2N buffer's mask, for flushes).
 */
export function r2r4AccumulatorRules(n: number, opts: LowerOptions = {}): CExpr {
  const copy = r4CopyBound(n);
  const offMask = r3OffsetMask(n, opts);
  return {
    k: 'init',
    fields: [
      ['batch', num(n)],
      ['off_mask', num(offMask, offMask > 0xffff_ffffn)],
      ['len_mask', num(copy.mask)],
      ['len_cap', num(copy.cap)],
      ['buf_mask', num(r2BatchBuffer(n, opts).mask)],
    ],
  };
}

/** Keys and strings up to this size may live on the stack; larger ones go to scratch (R5). */
export const ON_STACK_LIMIT = 64;

/** R5 nothing large on the 512-byte stack: `char k[size]` → a slot of the per-CPU scratch map when size > 64. */
export function r5OnStack(size: number): boolean {
  return size <= ON_STACK_LIMIT;
}

/**
 * R6 loops have compile-time trip counts: `while (c) body` →
 * `for (i = 0; i <= LIMIT; i++) { if (!c) break; if (i == LIMIT) { count; break; } body }`
 * (the string, join and log2 helpers in stdlib/ are bounded the same way).
 */
export function r6BoundedLoop(i: string, limit: number, body: CStmt[]): CStmt {
  return {
    k: 'for',
    init: { k: 'decl', type: '__u32', name: i, init: num(0) },
    cond: bin('<=', id(i), num(limit)),
    step: { k: 'un', op: '++', e: id(i) },
    body,
    comment: `R6: at most ${limit} iterations`,
  };
}

/**
 * R7 map value pointers are never kept across calls: `p = lookup(k); call(); use(*p)` →
 * `v = *p; delete(k); use(v)` (here), or a C helper that looks up again
 * (capc_map_add, capc_percpu_*, capc_map_get_str in stdlib/).
 */
export function r7CopyOut(type: string, name: string, ptr: string, comment: string): CStmt {
  return { k: 'decl', type, name, init: { k: 'un', op: '*', e: id(ptr) }, comment: `R7: ${comment}` };
}

/** Aggregations keep one value per CPU, combined by capc (R8). */
const PER_CPU = new Set(['count', 'sum', 'avg', 'min', 'max', 'stats', 'hist', 'lhist']);

/** R8 hot counters and aggregations are per-CPU: `BPF_MAP_TYPE_HASH` → `BPF_MAP_TYPE_PERCPU_HASH` (capc sums the CPUs). */
export function r8PerCpu(kind: string): boolean {
  return PER_CPU.has(kind);
}

/**
 * R9 an accumulator flushes when full, on a thread or direction change and
 * before an oversize fragment (capc_accumulate), when idle and at exit (the
 * flusher program capc runs), and on close: a captured family gets a watcher
 * on each of its close calls, `uprobe:libssl:SSL_write accumulate(…)` →
 * `+ uprobe:libssl:SSL_free { flush; end }`.
 */
export function r9CloseCalls(family: string): CloseSignature[] {
  return CLOSE_SIGNATURES.filter((c) => c.family === family);
}

/**
 * R10 ring-buffer wake-ups are batched: `bpf_ringbuf_submit(r, 0)` →
 * `bpf_ringbuf_submit(r, capc_wakeup_flags(ring, WAKEUP, size))`, which wakes
 * only as unread bytes cross `wakeup` (a quarter of the ring unless set).
 */
export function r10WakeupBytes(ringSize: number, configured = 0): number {
  return configured || Math.max(1, Math.floor(ringSize / 4));
}

/**
 * R10 for the capture ring: wake the reader each time a quarter of the ring
 * fills, but at least every 2 MiB: in a big ring a quarter is a long time at
 * wire speed (8 MiB of a 32 MiB ring is 20 ms at 400 MB/s), time the reader
 * then lacks to get a CPU. A wake-up costs the producer ~10 us: at 400 MB/s,
 * 2 MiB steps are ~200 a second.
 */
export function r10CaptureWakeupBytes(ringSize: number): number {
  return Math.min(2 << 20, r10WakeupBytes(ringSize));
}

/** R10 (see r10WakeupBytes): submit a reserved record with batched wake-ups. */
export function r10Submit(rec: CExpr, ring: string, recordType: string): ExprStmt {
  return {
    k: 'expr',
    e: call(
      'bpf_ringbuf_submit',
      rec,
      call('capc_wakeup_flags', addr(id(ring)), id('CAPC_WAKEUP_BYTES'), { k: 'sizeof', of: recordType }),
    ),
    comment: 'R10: wake the reader only as unread bytes cross the threshold',
  };
}

/** R11 nothing is lost silently: `if (!r) return;` → `if (!r) { capc_count(&stats, COUNTER); return; }` (`bytes`: count them too). */
export function r11Count(statsMap: string, counter: number, comment: string, bytes?: CExpr): ExprStmt {
  return {
    k: 'expr',
    e: bytes
      ? call('capc_count_n', addr(id(statsMap)), num(counter), bytes)
      : call('capc_count', addr(id(statsMap)), num(counter)),
    comment,
  };
}

/**
 * R12 packet reads are bounds-checked against data_end: a header pointer is
 * set only when its fixed part is in the packet, `h = p` →
 * `if (p + sizeof(*h) <= data_end) h = p`, and every read goes through such a
 * pointer (null: the header is not there, its fields read 0). Variable offsets
 * (IPv4 IHL, TCP data offset) are 4-bit fields times 4, so they are bounded
 * before the check; the loops that walk the packet (VLAN tags, IPv6 extension
 * headers, a DNS name, pkt.data[i]) check each step the same way, in
 * stdlib/capc-packet.bpf.h. Returns the condition.
 */
export function r12InPacket(ptr: CExpr, size: CExpr, dataEnd: CExpr, opts: LowerOptions = {}): CExpr {
  if (opts.omitRules?.includes('R12')) return num(1);
  return bin('<=', bin('+', ptr, size), dataEnd);
}
