/* runtime/native/capc-batch.c — the batch rules of the native capture drain,
 * the same as runtime/capture/batch.ts buildBatch and drain-thread.ts held():
 * entries in batch.ts's layout (u32 length, u32 held, u32 count, u32 0, held
 * bytes padded to 8); with `merge`, a data record that continues the one
 * before it in its stream (same connection and direction, its offset where
 * that one ended) is merged into that entry, which keeps the first record's
 * header with the summed length and the last record's ts_last; an ident,
 * close or final record of a connection ends merging for both directions.
 * tests/unit/capture-batch.test.ts runs the same cases through both. */
#include <stdlib.h>
#include <string.h>
#include "capc-drain.h"

#define ENTRY_HEADER 16u

static inline uint32_t entry_size(uint32_t held) { return (ENTRY_HEADER + held + 7u) & ~7u; }

/* A pass's streams (conn * 2 + dir): open addressing, sized for the pass. */
struct slot {
  uint64_t key;
  uint64_t end; /* merge: where the entry's bytes end; tail: bytes seen */
  int32_t i;    /* merge: the entry merged into (-1: merging ended) */
  uint8_t used;
};

struct table {
  struct slot *s;
  uint32_t mask;
};

static int table_init(struct table *t, uint32_t n) {
  uint32_t cap = 16;
  while (cap < 2 * n) cap <<= 1;
  t->s = calloc(cap, sizeof *t->s);
  t->mask = cap - 1;
  return t->s ? 0 : -1;
}

static struct slot *table_find(struct table *t, uint64_t key, int create) {
  uint64_t h = key * 0x9e3779b97f4a7c15ull;
  for (uint32_t i = (uint32_t)(h >> 32) & t->mask;; i = (i + 1) & t->mask) {
    struct slot *s = &t->s[i];
    if (!s->used) {
      if (!create) return NULL;
      s->used = 1;
      s->key = key;
      s->i = -1;
      s->end = 0;
      return s;
    }
    if (s->key == key) return s;
  }
}

static inline uint32_t rd32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
static inline void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

uint32_t capc_batch_build(const uint8_t *ring, const struct capc_pass *p, const int32_t *held, int merge,
                          const struct capc_drain_layout *L, uint8_t *out, uint32_t cap) {
  uint32_t n = p->n, size = 0;
  int32_t *into = NULL;
  if (merge) {
    struct table t;
    into = malloc((size_t)(n ? n : 1) * 2 * sizeof *into);
    if (!into || table_init(&t, n)) {
      free(into);
      return UINT32_MAX;
    }
    for (uint32_t i = 0; i < n; i++) {
      into[i] = -1;
      if (!p->data[i] && (uint32_t)p->len[i] >= L->size) {
        /* ident, close, final: nothing merges across it, either direction */
        for (uint64_t d = 0; d < 2; d++) {
          struct slot *s = table_find(&t, p->conn[i] * 2 + d, 0);
          if (s) s->i = -1;
        }
      } else if (p->data[i]) {
        struct slot *s = table_find(&t, p->conn[i] * 2 + p->dir[i], 1);
        if (s->i >= 0 && s->end == p->at[i]) {
          into[i] = s->i;
          s->end += (uint32_t)p->plen[i];
          continue;
        }
        s->i = (int32_t)i;
        s->end = p->at[i] + (uint32_t)p->plen[i];
      }
      size += entry_size((uint32_t)held[i]);
    }
    free(t.s);
  } else {
    for (uint32_t i = 0; i < n; i++) size += entry_size((uint32_t)held[i]);
  }
  if (!out || cap < size) {
    free(into);
    return size;
  }
  uint32_t at = 0;
  uint32_t *starts = into ? (uint32_t *)(into + n) : NULL;
  for (uint32_t i = 0; i < n; i++) {
    if (into && into[i] >= 0) {
      uint32_t start = starts[into[i]];
      uint8_t *h = out + start - ENTRY_HEADER;
      wr32(h, rd32(h) + (uint32_t)p->plen[i]);
      wr32(h + 8, rd32(h + 8) + 1);
      wr32(out + start + L->len, rd32(out + start + L->len) + (uint32_t)p->plen[i]);
      memcpy(out + start + L->ts_last, ring + p->off[i] + L->ts_last, 8);
      continue;
    }
    uint32_t h = (uint32_t)held[i], e = entry_size(h);
    wr32(out + at, (uint32_t)p->len[i]);
    wr32(out + at + 4, h);
    wr32(out + at + 8, 1);
    wr32(out + at + 12, 0);
    memcpy(out + at + ENTRY_HEADER, ring + p->off[i], h);
    memset(out + at + ENTRY_HEADER + h, 0, e - ENTRY_HEADER - h);
    if (starts) starts[i] = at + ENTRY_HEADER;
    at += e;
  }
  free(into);
  return size;
}

void capc_batch_held(const struct capc_pass *p, int payload, uint32_t tail, uint32_t header, int32_t *held) {
  for (uint32_t i = 0; i < p->n; i++) held[i] = p->data[i] && payload != CAPC_PAYLOAD_ALL ? (int32_t)header : p->len[i];
  if (payload != CAPC_PAYLOAD_TAIL) return;
  /* The most recent `tail` bytes of each stream in this pass, whole records only. */
  struct table t;
  if (table_init(&t, p->n)) return;
  for (uint32_t i = p->n; i-- > 0;) {
    if (!p->data[i]) continue;
    struct slot *s = table_find(&t, p->conn[i] * 2 + p->dir[i], 1);
    if (s->end + (uint32_t)p->plen[i] <= tail) held[i] = p->len[i];
    s->end += (uint32_t)p->plen[i];
  }
  free(t.s);
}

uint32_t capc_batch_build_test(const uint8_t *ring, uint32_t n, const int32_t *off, const int32_t *len,
                               const int32_t *plen, const double *conn, const double *at, const uint8_t *dir,
                               const uint8_t *data, const int32_t *held, int merge,
                               const struct capc_drain_layout *L, uint8_t *out, uint32_t cap) {
  uint64_t *c = malloc((size_t)(n ? n : 1) * 2 * sizeof *c);
  if (!c) return UINT32_MAX;
  for (uint32_t i = 0; i < n; i++) {
    c[i] = (uint64_t)conn[i];
    c[n + i] = (uint64_t)at[i];
  }
  struct capc_pass p = {n, off, len, plen, c, c + n, dir, data};
  uint32_t r = capc_batch_build(ring, &p, held, merge, L, out, cap);
  free(c);
  return r;
}

void capc_batch_held_test(uint32_t n, const int32_t *len, const int32_t *plen, const double *conn, const uint8_t *dir,
                          const uint8_t *data, int payload, uint32_t tail, uint32_t header, int32_t *held) {
  uint64_t *c = malloc((size_t)(n ? n : 1) * sizeof *c);
  if (!c) return;
  for (uint32_t i = 0; i < n; i++) c[i] = (uint64_t)conn[i];
  struct capc_pass p = {n, NULL, len, plen, c, NULL, dir, data};
  capc_batch_held(&p, payload, tail, header, held);
  free(c);
}
