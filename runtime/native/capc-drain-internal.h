/* runtime/native/capc-drain-internal.h — what the native drain's files share
 * and do not export: a pass's record arrays, the stream writer's state, and
 * the drain's own state (the thread's and what it shares with the main
 * thread under its mutex). */
#ifndef CAPC_DRAIN_INTERNAL_H
#define CAPC_DRAIN_INTERNAL_H
#include <pthread.h>
#include <stdarg.h>
#include <time.h>
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
  /* The stream offset after the furthest byte seen (any pass), and whether any was. */
  uint64_t next;
  int seen;
};
struct streams {
  struct target **buckets;
  uint32_t nbuckets, count;
  struct target *dirty;
  uint64_t pending_bytes, bytes_written;
  /** A stream's first bytes came before its file: the main thread should hear of it at once (it opens the file). */
  int unadopted;
  /** A stream's bytes came out of order (a gap, or bytes filling one): the main thread marks or settles it. */
  int unordered;
};
void streams_init(struct streams *s);
int streams_add(struct streams *s, uint64_t conn, uint32_t dir, uint64_t offset, const uint8_t *bytes, uint32_t len);
/* Failures are reported through capc_drain_fail(d) (d may be NULL at teardown). */
int streams_flush(struct streams *s, struct capc_drain *d);
int streams_adopt(struct streams *s, uint64_t conn, uint32_t dir, int32_t fd, uint64_t base, struct capc_drain *d);
void streams_skip(struct streams *s, uint64_t conn, uint32_t dir);
int streams_release(struct streams *s, uint64_t conn, uint32_t dir, struct capc_drain *d);
void streams_close_all(struct streams *s, struct capc_drain *d);

/* The drain's state, shared by the thread (capc-drain.c) and the main thread's calls (capc-drain-api.c). */
enum { CMD_ADOPT, CMD_SKIP, CMD_RELEASE, CMD_SYNC, CMD_STOP };
struct cmd {
  int op;
  int32_t fd;
  uint32_t dir;
  uint64_t conn, arg;
};

struct batch {
  struct batch *next;
  uint32_t used;
  uint8_t data[];
};

struct capc_drain {
  struct capc_drain_config cfg;
  /* ring */
  uint8_t *cons_page, *prod_page, *data;
  size_t page;
  uint64_t mask;
  /* thread */
  pthread_t thread;
  clockid_t cpu_clock;
  int epfd, wake_fd, notify_fd;
  struct streams streams;
  struct pass_buf pass;
  int full;
  /* The last pass found the ring empty (a second one in a row hands the batches over). */
  int was_quiet;
  /* A pass read a record the main thread has something to show for at once: anything but data (a connection's
   * identity, close or final totals). */
  int urgent;
  /* Batches of in-order data need not go over when the ring goes quiet (payload none, stream files written
   * here): they carry nothing an output shows (capc-drain.c). */
  int lazy;
  uint64_t last_pass_bytes, payload_read, drops_seen;
  double drops_read_at, last_post, last_flush;
  int wait_ms, post_ms;
  uint8_t *drop_values;
  struct batch *outbox, **outbox_tail;
  uint64_t outbox_bytes;
  /* shared with the main thread (under mu) */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct cmd *cmds;
  uint32_t ncmds, capcmds;
  struct batch *queue, **queue_tail;
  uint64_t queue_bytes;
  uint64_t sync_req, synced;
  int running, failed, aborting;
  char error[256];
  /* counters (read by get_stats) */
  uint64_t records, ring_bytes, stalls, peak_burst, cpu_ns, flushes, flush_errors;
};

void capc_drain_notify(int fd);
void *capc_drain_run(void *arg);
#endif
