/* runtime/native/capc-printf.c — printf records of the events ring formatted
 * natively, for text output when every record kind the program emits is a
 * printf whose format runtime/format/fast-printf.ts handles (integers and
 * strings with %d %i %u %x %X %o %c %s %p, flags, width, precision, length).
 * The rules are that file's, line for line (not libc's printf: %p of 0 is
 * 0x0, %#o always adds a 0, a precision never hides a zero), so the bytes are
 * the same; tests/unit/native-printf.test.ts compares the two. The ring is
 * the one the main thread's RingReader mapped; drain stops at a record it
 * does not know (the JavaScript decoder takes it), at `until`, after `max`
 * records, or when the output buffer is full. */
#include <stdlib.h>
#include <string.h>
#include "capc-drain.h"

#define BUSY_BIT 0x80000000u
#define DISCARD_BIT 0x40000000u

enum { SEG_LIT = 0, SEG_STR = 1, SEG_INT = 2, SEG_CHR = 3 };
enum { FL_MINUS = 1, FL_PLUS = 2, FL_SPACE = 4, FL_HASH = 8, FL_ZERO = 16 };

struct seg {
  uint8_t kind, conv, size, is_signed, bits, flags;
  int32_t width, precision; /* -1: none */
  uint32_t offset, len;     /* field offset (lit: offset into the literal pool) and size */
};
struct event {
  uint32_t size, nsegs;
  struct seg *segs;
  uint8_t *lits;
};
struct capc_printf {
  uint32_t nevents;
  struct event *events;
};

struct capc_printf *capc_printf_new(void) { return calloc(1, sizeof(struct capc_printf)); }

void capc_printf_free(struct capc_printf *p) {
  if (!p) return;
  for (uint32_t i = 0; i < p->nevents; i++) {
    free(p->events[i].segs);
    free(p->events[i].lits);
  }
  free(p->events);
  free(p);
}

/* Record kind `id`: its size and segments (struct capc_printf_seg each), literal bytes in `lits`. */
int capc_printf_add(struct capc_printf *p, uint32_t id, uint32_t size, uint32_t nsegs,
                    const struct capc_printf_seg *segs, const uint8_t *lits, uint32_t nlits) {
  if (id >= 1u << 20) return -1;
  if (id >= p->nevents) {
    struct event *e = realloc(p->events, (id + 1) * sizeof *e);
    if (!e) return -1;
    memset(e + p->nevents, 0, (id + 1 - p->nevents) * sizeof *e);
    p->events = e;
    p->nevents = id + 1;
  }
  struct event *e = &p->events[id];
  e->segs = malloc((nsegs ? nsegs : 1) * sizeof *e->segs);
  e->lits = malloc(nlits ? nlits : 1);
  if (!e->segs || !e->lits) return -1;
  for (uint32_t i = 0; i < nsegs; i++) {
    const struct capc_printf_seg *s = &segs[i];
    e->segs[i] = (struct seg){s->kind, s->conv, s->size, s->is_signed, s->bits, s->flags,
                              s->width, s->precision, s->offset, s->len};
  }
  memcpy(e->lits, lits, nlits);
  e->size = size;
  e->nsegs = nsegs;
  return 0;
}

/* Output being built; `room` false once a record did not fit (it is retried in a bigger buffer). */
struct out {
  uint8_t *p;
  uint32_t len, cap;
  int full;
};

static inline void put(struct out *o, const void *b, uint32_t n) {
  if (o->full || o->len + n > o->cap) {
    o->full = 1;
    return;
  }
  uint8_t *d = o->p + o->len;
  if (n <= 16) { /* most pieces are a few bytes: a loop beats a call to memcpy */
    const uint8_t *x = b;
    for (uint32_t i = 0; i < n; i++) d[i] = x[i];
  } else
    memcpy(d, b, n);
  o->len += n;
}
static inline void fill(struct out *o, uint8_t c, uint32_t n) {
  if (o->full || o->len + n > o->cap) {
    o->full = 1;
    return;
  }
  memset(o->p + o->len, c, n);
  o->len += n;
}

/* fast-printf.ts pad(): `body` to `width`, left or right, zeros after a sign or 0x when zero_ok and '0'. */
static void pad_put(struct out *o, const char *body, uint32_t n, uint8_t flags, int32_t width, int zero_ok) {
  if (width <= 0 || n >= (uint32_t)width) {
    put(o, body, n);
    return;
  }
  uint32_t gap = (uint32_t)width - n;
  if (flags & FL_MINUS) {
    put(o, body, n);
    fill(o, ' ', gap);
  } else if (zero_ok && (flags & FL_ZERO)) {
    uint32_t sign = 0;
    if (n && (body[0] == '-' || body[0] == '+' || body[0] == ' ')) sign = 1;
    else if (n >= 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X')) sign = 2;
    put(o, body, sign);
    fill(o, '0', gap);
    put(o, body + sign, n - sign);
  } else {
    fill(o, ' ', gap);
    put(o, body, n);
  }
}

/* Digits of v in radix (into the end of buf); returns where they start. Constant divisors: the compiler
 * turns them into multiplications (a division by a variable costs ~30 cycles a digit). */
static char *digits(uint64_t v, unsigned radix, int upper, char *end) {
  const char *d = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char *p = end;
  switch (radix) {
    case 10:
      do {
        *--p = (char)('0' + v % 10);
        v /= 10;
      } while (v);
      break;
    case 16:
      do {
        *--p = d[v & 15];
        v >>= 4;
      } while (v);
      break;
    default:
      do {
        *--p = (char)('0' + (v & 7));
        v >>= 3;
      } while (v);
  }
  return p;
}

/* fast-printf.ts intConvFull (and intText), for one integer argument as C would get it. */
static void int_conv(struct out *o, const struct seg *s, uint64_t v) {
  char buf[160], body[160];
  char *end = buf + sizeof buf, *dg;
  const char *prefix = "";
  uint32_t n;
  uint8_t c = s->conv;
  if (c == 'p') {
    dg = digits(v, 16, 0, end);
    n = (uint32_t)(end - dg);
    body[0] = '0';
    body[1] = 'x';
    memcpy(body + 2, dg, n);
    pad_put(o, body, n + 2, s->flags, s->width, 0);
    return;
  }
  if (!s->flags && s->width <= 0 && s->precision < 0) {
    /* No flags, width or precision (most trace lines): the digits, after a minus sign for a negative %d. */
    int neg = (c == 'd' || c == 'i') && (int64_t)v < 0;
    dg = digits(neg ? (uint64_t)0 - v : v, c == 'o' ? 8 : c == 'u' || c == 'd' || c == 'i' ? 10 : 16, c == 'X', end);
    if (neg) *--dg = '-';
    put(o, dg, (uint32_t)(end - dg));
    return;
  }
  if (c == 'd' || c == 'i') {
    int64_t x = (int64_t)v;
    dg = digits(x < 0 ? (uint64_t)0 - v : v, 10, 0, end);
    if (x < 0) prefix = "-";
    else if (s->flags & FL_PLUS) prefix = "+";
    else if (s->flags & FL_SPACE) prefix = " ";
  } else {
    dg = digits(v, c == 'o' ? 8 : c == 'u' ? 10 : 16, c == 'X', end);
    if ((c == 'x' || c == 'X') && (s->flags & FL_HASH) && v) prefix = c == 'x' ? "0x" : "0X";
    if (c == 'o' && (s->flags & FL_HASH)) *--dg = '0';
  }
  n = (uint32_t)(end - dg);
  uint32_t pl = (uint32_t)strlen(prefix), at = 0;
  memcpy(body, prefix, pl);
  at = pl;
  if (s->precision >= 0 && n < (uint32_t)s->precision) {
    uint32_t z = (uint32_t)s->precision - n;
    if (z > sizeof body - at - n) z = (uint32_t)(sizeof body - at - n);
    memset(body + at, '0', z);
    at += z;
  }
  memcpy(body + at, dg, n);
  pad_put(o, body, at + n, s->flags, s->width, s->precision < 0);
}

static void format(struct out *o, const struct event *e, const uint8_t *r) {
  for (uint32_t i = 0; i < e->nsegs && !o->full; i++) {
    const struct seg *s = &e->segs[i];
    const uint8_t *f = r + s->offset;
    if (s->kind == SEG_LIT) {
      put(o, e->lits + s->offset, s->len);
      continue;
    }
    if (s->kind == SEG_STR) {
      const uint8_t *nul = memchr(f, 0, s->len);
      uint32_t n = nul ? (uint32_t)(nul - f) : s->len;
      if (s->precision >= 0 && n > (uint32_t)s->precision) n = (uint32_t)s->precision;
      uint32_t gap = s->width > 0 && n < (uint32_t)s->width ? (uint32_t)s->width - n : 0;
      if (!(s->flags & FL_MINUS)) fill(o, ' ', gap);
      put(o, f, n);
      if (s->flags & FL_MINUS) fill(o, ' ', gap);
      continue;
    }
    /* The argument as C gets it: 64 bits, sign- or zero-extended from the field... */
    uint64_t v = 0;
    switch (s->size) {
      case 1:
        v = s->is_signed ? (uint64_t)(int64_t) * (const int8_t *)f : *f;
        break;
      case 2: {
        uint16_t x;
        memcpy(&x, f, 2);
        v = s->is_signed ? (uint64_t)(int64_t)(int16_t)x : x;
        break;
      }
      case 4: {
        uint32_t x;
        memcpy(&x, f, 4);
        v = s->is_signed ? (uint64_t)(int64_t)(int32_t)x : x;
        break;
      }
      default:
        memcpy(&v, f, 8);
    }
    if (s->kind == SEG_CHR) {
      uint8_t ch = (uint8_t)v;
      uint32_t gap = s->width > 1 ? (uint32_t)s->width - 1 : 0;
      if (!(s->flags & FL_MINUS)) fill(o, ' ', gap);
      put(o, &ch, 1);
      if (s->flags & FL_MINUS) fill(o, ' ', gap);
      continue;
    }
    /* ...then read through the length modifier: none 32 bits, h 16, hh 8, l/ll 64. */
    unsigned bits = s->conv == 'p' ? 64 : s->bits;
    if (bits < 64) {
      uint64_t mask = (1ull << bits) - 1;
      if ((s->conv == 'd' || s->conv == 'i') && (v & (1ull << (bits - 1)))) v |= ~mask;
      else v &= mask;
    }
    int_conv(o, s, v);
  }
}

uint32_t capc_printf_drain(const struct capc_printf *p, void *cons_page, const void *prod_page, uint32_t page,
                           uint32_t size, double until_d, uint32_t max, uint8_t *outp, uint32_t cap,
                           struct capc_printf_result *res) {
  uint64_t *consp = cons_page;
  const uint8_t *data = (const uint8_t *)prod_page + page;
  uint64_t mask = size - 1, until = until_d >= 1.8e19 ? UINT64_MAX : (uint64_t)until_d;
  uint64_t cons = __atomic_load_n(consp, __ATOMIC_ACQUIRE);
  uint64_t prod = __atomic_load_n((const uint64_t *)prod_page, __ATOMIC_ACQUIRE);
  struct out o = {outp, 0, cap, 0};
  uint32_t count = 0, since = 0;
  memset(res, 0, sizeof *res);
  res->stop = CAPC_PRINTF_DONE;
  while (cons < prod && count < max && cons < until) {
    uint64_t off = cons & mask;
    uint32_t len = __atomic_load_n((const uint32_t *)(data + off), __ATOMIC_ACQUIRE);
    if (len & BUSY_BIT) break;
    uint32_t dlen = len & ~(BUSY_BIT | DISCARD_BIT);
    if (!(len & DISCARD_BIT)) {
      const uint8_t *r = data + off + 8;
      uint32_t id;
      memcpy(&id, r, 4);
      const struct event *e = id < p->nevents && p->events[id].segs ? &p->events[id] : NULL;
      if (!e || dlen < e->size) {
        res->stop = CAPC_PRINTF_UNHANDLED;
        break;
      }
      uint32_t before = o.len;
      format(&o, e, r);
      if (o.full) {
        o.len = before; /* this record again, next call */
        res->stop = before ? CAPC_PRINTF_FULL : CAPC_PRINTF_TOO_BIG;
        break;
      }
      count++;
    }
    uint64_t taken = (dlen + 8 + 7) & ~7ull;
    cons += taken;
    res->ring_bytes += taken;
    if (++since >= 64) {
      __atomic_store_n(consp, cons, __ATOMIC_RELEASE);
      since = 0;
    }
    if (cons >= prod) prod = __atomic_load_n((const uint64_t *)prod_page, __ATOMIC_ACQUIRE);
  }
  __atomic_store_n(consp, cons, __ATOMIC_RELEASE);
  res->records = count;
  res->out_len = o.len;
  return count;
}
