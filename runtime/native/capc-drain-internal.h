/* runtime/native/capc-drain-internal.h — what the native drain's files share
 * and do not export: a pass's record arrays and the stream writer's state. */
#ifndef CAPC_DRAIN_INTERNAL_H
#define CAPC_DRAIN_INTERNAL_H
#include <stdarg.h>
#include <sys/uio.h>
#include "capc-drain.h"

struct capc_drain;
void capc_drain_fail(struct capc_drain *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One pass's records (struct of arrays, grown as needed). */
struct pass_buf {
  uint32_t n, cap;
  int32_t *off, *len, *plen, *held;
  uint64_t *conn, *at;
  uint8_t *dir, *isdata;
};
int pass_grow(struct pass_buf *p);
void pass_free(struct pass_buf *p);

struct pending;
struct run {
  uint64_t at, bytes;
  uint32_t first, count;
};
/* One stream (conn, dir) of --write-streams. */
struct target {
  struct target *hnext, *dnext;
  uint64_t key, base;
  int32_t fd;
  int skip, dirty;
  struct pending *pending;
  struct iovec *iov;
  uint32_t niov, capiov;
  struct run *runs;
  uint32_t nruns, capruns;
  uint64_t queued_at, queued_bytes;
  uint32_t queued_first;
};
struct streams {
  struct target **buckets;
  uint32_t nbuckets, count;
  struct target *dirty;
  uint64_t pending_bytes, bytes_written;
  /** A stream's first bytes came before its file: the main thread should hear of it at once (it opens the file). */
  int unadopted;
};
void streams_init(struct streams *s);
int streams_add(struct streams *s, uint64_t conn, uint32_t dir, uint64_t offset, const uint8_t *bytes, uint32_t len);
/* Failures are reported through capc_drain_fail(d) (d may be NULL at teardown). */
int streams_flush(struct streams *s, struct capc_drain *d);
int streams_adopt(struct streams *s, uint64_t conn, uint32_t dir, int32_t fd, uint64_t base, struct capc_drain *d);
void streams_skip(struct streams *s, uint64_t conn, uint32_t dir);
int streams_release(struct streams *s, uint64_t conn, uint32_t dir, struct capc_drain *d);
void streams_close_all(struct streams *s, struct capc_drain *d);
#endif
