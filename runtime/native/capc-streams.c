/* runtime/native/capc-streams.c — how the native drain writes the stream
 * files of --write-streams, as runtime/capture/stream-writer.ts does: each
 * data record's payload at its stream offset straight from ring memory, one
 * positioned writev per file and contiguous run per pass, before the ring
 * space is released. Files are opened by the main thread
 * (runtime/output/stream-files.ts, 0600) and handed over as fds (adopt);
 * bytes that come before their fd are copied and written on adopt; release
 * closes the file. Also the pass's record arrays. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "capc-drain-internal.h"

struct pending {
  struct pending *next;
  uint64_t offset;
  uint32_t len;
  uint8_t data[];
};

int pass_grow(struct pass_buf *p) {
  if (p->n < p->cap) return 0;
  uint32_t cap = p->cap ? p->cap * 2 : 1024;
#define G(f)                                          \
  do {                                                \
    void *n = realloc(p->f, (size_t)cap * sizeof *p->f); \
    if (!n) return -1;                                \
    p->f = n;                                         \
  } while (0)
  G(off);
  G(len);
  G(plen);
  G(held);
  G(conn);
  G(at);
  G(dir);
  G(isdata);
#undef G
  p->cap = cap;
  return 0;
}

void pass_free(struct pass_buf *p) {
  free(p->off);
  free(p->len);
  free(p->plen);
  free(p->held);
  free(p->conn);
  free(p->at);
  free(p->dir);
  free(p->isdata);
  memset(p, 0, sizeof *p);
}

void streams_init(struct streams *s) { memset(s, 0, sizeof *s); }

static uint32_t bucket(const struct streams *s, uint64_t key) {
  return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & (s->nbuckets - 1);
}

static struct target *find(struct streams *s, uint64_t key) {
  if (!s->nbuckets) return NULL;
  for (struct target *t = s->buckets[bucket(s, key)]; t; t = t->hnext)
    if (t->key == key) return t;
  return NULL;
}

static struct target *target(struct streams *s, uint64_t conn, uint32_t dir) {
  uint64_t key = conn * 2 + dir;
  struct target *t = find(s, key);
  if (t) return t;
  if (s->count >= s->nbuckets) {
    uint32_t nb = s->nbuckets ? s->nbuckets * 2 : 256;
    struct target **b = calloc(nb, sizeof *b);
    if (!b) return NULL;
    struct streams old = *s;
    s->buckets = b;
    s->nbuckets = nb;
    for (uint32_t i = 0; i < old.nbuckets; i++)
      for (struct target *x = old.buckets[i], *nx; x; x = nx) {
        nx = x->hnext;
        uint32_t h = bucket(s, x->key);
        x->hnext = b[h];
        b[h] = x;
      }
    free(old.buckets);
  }
  t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->key = key;
  t->fd = -1;
  uint32_t h = bucket(s, key);
  t->hnext = s->buckets[h];
  s->buckets[h] = t;
  s->count++;
  return t;
}

static int close_run(struct target *t) {
  if (!t->queued_bytes) return 0;
  if (t->nruns == t->capruns) {
    uint32_t cap = t->capruns ? t->capruns * 2 : 4;
    struct run *r = realloc(t->runs, cap * sizeof *r);
    if (!r) return -1;
    t->runs = r;
    t->capruns = cap;
  }
  t->runs[t->nruns++] = (struct run){t->queued_at, t->queued_bytes, t->queued_first, t->niov - t->queued_first};
  t->queued_bytes = 0;
  return 0;
}

int streams_add(struct streams *s, uint64_t conn, uint32_t dir, uint64_t offset, const uint8_t *bytes, uint32_t len) {
  if (!len) return 0;
  struct target *t = target(s, conn, dir);
  if (!t) return -1;
  if (t->seen && offset != t->next) s->unordered = 1;
  if (!t->seen || offset + len > t->next) t->next = offset + len;
  t->seen = 1;
  if (t->skip) return 0;
  if (t->fd < 0) {
    /* Positioned writes: the order they are written in on adopt does not matter. */
    if (!t->pending) s->unadopted = 1;
    struct pending *p = malloc(sizeof *p + len);
    if (!p) return -1;
    p->next = t->pending;
    p->offset = offset;
    p->len = len;
    memcpy(p->data, bytes, len);
    t->pending = p;
    s->pending_bytes += len;
    return 0;
  }
  if (t->queued_bytes && t->queued_at + t->queued_bytes != offset && close_run(t)) return -1;
  if (!t->queued_bytes) {
    t->queued_at = offset;
    t->queued_first = t->niov;
  }
  if (t->niov == t->capiov) {
    uint32_t cap = t->capiov ? t->capiov * 2 : 64;
    struct iovec *v = realloc(t->iov, cap * sizeof *v);
    if (!v) return -1;
    t->iov = v;
    t->capiov = cap;
  }
  t->iov[t->niov++] = (struct iovec){(void *)bytes, len};
  t->queued_bytes += len;
  if (!t->dirty) {
    t->dirty = 1;
    t->dnext = s->dirty;
    s->dirty = t;
  }
  return 0;
}

/* Every byte of iov[0..n) at pos, resuming after short writes. */
static int pwritev_all(int fd, struct iovec *iov, uint32_t n, uint64_t pos, uint64_t bytes, struct capc_drain *d) {
  uint64_t done = 0;
  while (n) {
    int k = n > IOV_MAX ? IOV_MAX : (int)n;
    ssize_t w = pwritev(fd, iov, k, (off_t)(pos + done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      if (d) capc_drain_fail(d, "short write to a stream file: %llu of %llu bytes (%s)", (unsigned long long)done,
                             (unsigned long long)bytes, w < 0 ? strerror(errno) : "no space written");
      return -1;
    }
    done += (uint64_t)w;
    while (n && (size_t)w >= iov->iov_len) {
      w -= (ssize_t)iov->iov_len;
      iov++;
      n--;
    }
    if (n && w) {
      iov->iov_base = (uint8_t *)iov->iov_base + w;
      iov->iov_len -= (size_t)w;
    }
  }
  return 0;
}

static int write_runs(struct streams *s, struct target *t, struct capc_drain *d) {
  int r = close_run(t);
  for (uint32_t i = 0; i < t->nruns && !r; i++) {
    struct run *x = &t->runs[i];
    r = pwritev_all(t->fd, t->iov + x->first, x->count, x->at - t->base, x->bytes, d);
    if (!r) s->bytes_written += x->bytes;
  }
  t->nruns = t->niov = 0;
  t->queued_bytes = 0;
  return r;
}

int streams_flush(struct streams *s, struct capc_drain *d) {
  int r = 0;
  for (struct target *t = s->dirty, *n; t; t = n) {
    n = t->dnext;
    t->dirty = 0;
    t->dnext = NULL;
    if (!r && write_runs(s, t, d)) r = -1;
  }
  s->dirty = NULL;
  return r;
}

static void drop_pending(struct streams *s, struct target *t) {
  for (struct pending *p = t->pending, *n; p; p = n) {
    n = p->next;
    s->pending_bytes -= p->len;
    free(p);
  }
  t->pending = NULL;
}

int streams_adopt(struct streams *s, uint64_t conn, uint32_t dir, int32_t fd, uint64_t base, struct capc_drain *d) {
  struct target *t = target(s, conn, dir);
  if (!t) {
    capc_drain_fail(d, "out of memory");
    return -1;
  }
  t->fd = fd;
  t->base = base;
  t->skip = 0;
  int r = 0;
  for (struct pending *p = t->pending; p && !r; p = p->next) {
    struct iovec v = {p->data, p->len};
    r = pwritev_all(fd, &v, 1, p->offset - base, p->len, d);
    if (!r) s->bytes_written += p->len;
  }
  drop_pending(s, t);
  return r;
}

void streams_skip(struct streams *s, uint64_t conn, uint32_t dir) {
  struct target *t = target(s, conn, dir);
  if (!t) return;
  drop_pending(s, t);
  t->skip = 1;
}

static void unlink_target(struct streams *s, struct target *t) {
  for (struct target **e = &s->buckets[bucket(s, t->key)]; *e; e = &(*e)->hnext)
    if (*e == t) {
      *e = t->hnext;
      break;
    }
  for (struct target **e = &s->dirty; *e; e = &(*e)->dnext)
    if (*e == t) {
      *e = t->dnext;
      break;
    }
  s->count--;
  free(t->iov);
  free(t->runs);
  free(t);
}

int streams_release(struct streams *s, uint64_t conn, uint32_t dir, struct capc_drain *d) {
  struct target *t = find(s, conn * 2 + dir);
  if (!t) return 0;
  int r = 0;
  if (t->fd >= 0) {
    r = write_runs(s, t, d);
    close(t->fd);
  }
  drop_pending(s, t);
  unlink_target(s, t);
  return r;
}

void streams_close_all(struct streams *s, struct capc_drain *d) {
  if (d) streams_flush(s, d);
  for (uint32_t i = 0; i < s->nbuckets; i++)
    for (struct target *t = s->buckets[i], *n; t; t = n) {
      n = t->hnext;
      if (t->fd >= 0) close(t->fd);
      drop_pending(s, t);
      free(t->iov);
      free(t->runs);
      free(t);
    }
  free(s->buckets);
  s->buckets = NULL;
  s->nbuckets = s->count = 0;
  s->dirty = NULL;
}
