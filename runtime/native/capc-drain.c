/* runtime/native/capc-drain.c — the native capture drain's thread: reads the
 * capture ring from its mmapped pages as libbpf does, writes stream files
 * straight from ring memory (capc-streams.c), builds the batches the main
 * thread reads (capc-batch.c) and hands them over through a queue and an
 * eventfd. The loop, its budgets and its backpressure are those of
 * runtime/capture/drain-thread.ts (the JavaScript drain it replaces when
 * this library loads; the main thread's side is capc-drain-api.c): a pass reads at most a quarter of the ring; batches go
 * over when the ring goes quiet (empty at two passes in a row) or every 20-50 ms while it is busy; past
 * MAX_IN_FLIGHT bytes the main thread has not taken the thread stops
 * draining, so the ring fills and the kernel counts what it cannot write. Two things only this drain does, to
 * spare the main thread wake-ups: it runs the kernel's idle flush (capture-channel.ts runs it for the other
 * readers), and under -q --write-streams (payload none) it holds batches of in-order data up to 1 s (see the loop). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "capc-drain-internal.h"

/* cc -DCAPC_DRAIN_PROFILE: thread CPU time by phase on stderr at exit (how BENCHMARKS.md's numbers were taken). */
#ifdef CAPC_DRAIN_PROFILE
static uint64_t tcpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
static uint64_t prof_read, prof_flush, prof_wait, prof_passes, prof_waits, prof_cmd, prof_close;
#define PROF(var, stmt)            \
  do {                             \
    uint64_t t0_ = tcpu();         \
    stmt;                          \
    var += tcpu() - t0_;           \
  } while (0)
#else
#define PROF(var, stmt) stmt
#endif

#define MAX_IN_FLIGHT (64u << 20)
#define SMALL_PASS (256u << 10)
#define MAX_OUTBOX (4u << 20)
#define IDLE_WAIT_MS 50
#define BUSY_BIT 0x80000000u
#define DISCARD_BIT 0x40000000u

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void capc_drain_notify(int fd) {
  uint64_t one = 1;
  ssize_t r = write(fd, &one, 8);
  (void)r;
}

void capc_drain_fail(struct capc_drain *d, const char *fmt, ...) {
  pthread_mutex_lock(&d->mu);
  if (!d->failed) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->error, sizeof d->error, fmt, ap);
    va_end(ap);
    d->failed = 1;
  }
  pthread_mutex_unlock(&d->mu);
}

/* Ring bytes the kernel dropped so far (the capture sink's per-CPU counter). */
static uint64_t dropped_bytes(struct capc_drain *d) {
  if (d->cfg.stats_fd < 0 || !d->drop_values) return d->drops_seen;
  uint32_t key = d->cfg.drop_bytes_index;
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_fd = (uint32_t)d->cfg.stats_fd;
  a.key = (uint64_t)(uintptr_t)&key;
  a.value = (uint64_t)(uintptr_t)d->drop_values;
  if (syscall(SYS_bpf, BPF_MAP_LOOKUP_ELEM, &a, sizeof a) != 0) return d->drops_seen;
  uint64_t n = 0, v;
  for (int i = 0; i < d->cfg.ncpus; i++) {
    memcpy(&v, d->drop_values + 8 * i, 8);
    n += v;
  }
  return n;
}

static inline uint64_t producer_pos(struct capc_drain *d) {
  return __atomic_load_n((uint64_t *)d->prod_page, __ATOMIC_ACQUIRE);
}
static inline uint64_t consumer_pos(struct capc_drain *d) {
  return __atomic_load_n((uint64_t *)d->cons_page, __ATOMIC_ACQUIRE);
}

/* drain-thread.ts measureBurst: the ring bytes waiting plus what the kernel dropped since (as ring bytes). */
static void measure_burst(struct capc_drain *d) {
  uint64_t waiting = producer_pos(d) - consumer_pos(d);
  double t = now_ms();
  if (waiting < d->cfg.ring_size / 2 && t - d->drops_read_at < 50) {
    if (waiting > d->peak_burst) d->peak_burst = waiting;
    return;
  }
  d->drops_read_at = t;
  uint64_t dropped = dropped_bytes(d);
  double per = (double)d->ring_bytes / (double)(d->payload_read ? d->payload_read : 1);
  if (per < 1) per = 1;
  double burst = (double)waiting + (double)(dropped - d->drops_seen) * per;
  if (burst > (double)d->peak_burst) d->peak_burst = (uint64_t)burst;
  d->drops_seen = dropped;
}

static uint64_t in_flight(struct capc_drain *d) {
  pthread_mutex_lock(&d->mu);
  uint64_t q = d->queue_bytes;
  pthread_mutex_unlock(&d->mu);
  return q + d->outbox_bytes + d->streams.pending_bytes;
}

/* One pass: read, write files, batch, release. Returns the records read (-1: failed). */
static long pass(struct capc_drain *d) {
  const struct capc_drain_layout *F = &d->cfg.rec;
  const uint32_t H = F->size;
  struct pass_buf *p = &d->pass;
  measure_burst(d);
  p->n = 0;
  uint64_t start = consumer_pos(d), cons = start, prod = producer_pos(d), budget = d->cfg.ring_size / 4;
  long count = 0;
  while (cons < prod && cons - start < budget) {
    uint64_t off = cons & d->mask;
    uint32_t len = __atomic_load_n((uint32_t *)(d->data + off), __ATOMIC_ACQUIRE);
    if (len & BUSY_BIT) break;
    uint32_t dlen = len & ~(BUSY_BIT | DISCARD_BIT);
    if (!(len & DISCARD_BIT)) {
      if (pass_grow(p)) {
        capc_drain_fail(d, "out of memory");
        return -1;
      }
      uint32_t i = p->n++, ro = (uint32_t)off + 8;
      const uint8_t *r = d->data + ro;
      p->off[i] = (int32_t)ro;
      p->len[i] = (int32_t)dlen;
      p->plen[i] = 0;
      p->conn[i] = p->at[i] = 0;
      p->dir[i] = p->isdata[i] = 0;
      if (dlen >= H) {
        uint32_t plen;
        memcpy(&plen, r + F->len, 4);
        int is_data = r[F->kind] == F->data_kind && (uint64_t)H + plen <= dlen;
        p->isdata[i] = (uint8_t)is_data;
        if (!is_data) d->urgent = 1;
        p->plen[i] = (int32_t)plen;
        d->payload_read += plen;
        memcpy(&p->conn[i], r + F->conn, 8);
        memcpy(&p->at[i], r + F->offset, 8);
        p->dir[i] = r[F->dir] & 1;
        if (is_data && d->cfg.files && streams_add(&d->streams, p->conn[i], p->dir[i], p->at[i], r + H, plen)) {
          capc_drain_fail(d, "out of memory");
          return -1;
        }
      } else {
        d->urgent = 1;
      }
      count++;
    }
    uint64_t taken = (dlen + 8 + 7) & ~7ull;
    cons += taken;
    d->ring_bytes += taken;
    if (cons >= prod) prod = producer_pos(d);
  }
  d->records += (uint64_t)count;
  d->last_pass_bytes = cons - start;
  d->full = d->last_pass_bytes >= budget;
  if (p->n == 0) {
    if (cons != start) __atomic_store_n((uint64_t *)d->cons_page, cons, __ATOMIC_RELEASE);
    return 0;
  }
  int fr = 0;
  PROF(prof_flush, fr = d->cfg.files && streams_flush(&d->streams, d));
  if (fr) return -1;
  struct capc_pass v = {p->n, p->off, p->len, p->plen, p->conn, p->at, p->dir, p->isdata};
  capc_batch_held(&v, d->cfg.payload, d->cfg.tail, H, p->held);
  int merge = d->cfg.payload == CAPC_PAYLOAD_NONE;
  uint32_t size = capc_batch_build(d->data, &v, p->held, merge, F, NULL, 0);
  struct batch *b = size == UINT32_MAX ? NULL : malloc(sizeof *b + size);
  if (!b) {
    capc_drain_fail(d, "out of memory");
    return -1;
  }
  b->next = NULL;
  b->used = capc_batch_build(d->data, &v, p->held, merge, F, b->data, size);
  __atomic_store_n((uint64_t *)d->cons_page, cons, __ATOMIC_RELEASE);
  *d->outbox_tail = b;
  d->outbox_tail = &b->next;
  d->outbox_bytes += b->used;
  return count;
}

/* The kernel's idle flush, when its period has passed: a quiet connection's partial batch goes to the ring
 * (capture-channel.ts ran it from the main thread's loop, which then woke every 50 ms for it alone). Returns the
 * ms until the next one is due. */
static int idle_flush(struct capc_drain *d) {
  if (d->cfg.flush_fd < 0 || d->cfg.flush_ms <= 0) return -1;
  double t = now_ms(), due = d->last_flush + d->cfg.flush_ms;
  if (t < due) return (int)(due - t) + 1;
  d->last_flush = t;
  uint64_t args[2] = {d->cfg.idle_ns, 0};
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.test.prog_fd = (uint32_t)d->cfg.flush_fd;
  a.test.ctx_in = (uint64_t)(uintptr_t)args;
  a.test.ctx_size_in = sizeof args;
  if (syscall(SYS_bpf, BPF_PROG_TEST_RUN, &a, sizeof a) != 0)
    __atomic_add_fetch(&d->flush_errors, 1, __ATOMIC_RELAXED);
  __atomic_add_fetch(&d->flushes, 1, __ATOMIC_RELAXED);
  return d->cfg.flush_ms;
}

/* Hand the batches over: when the ring goes quiet (now), or every post_ms while busy, or past a size. */
static void hand_over(struct capc_drain *d, int now) {
  if (!d->outbox) return;
  double t = now_ms();
  if (!now && t - d->last_post < d->post_ms && d->outbox_bytes < MAX_OUTBOX) return;
  d->last_post = t;
  pthread_mutex_lock(&d->mu);
  *d->queue_tail = d->outbox;
  d->queue_tail = d->outbox_tail;
  d->queue_bytes += d->outbox_bytes;
  pthread_mutex_unlock(&d->mu);
  d->outbox = NULL;
  d->outbox_tail = &d->outbox;
  d->outbox_bytes = 0;
  capc_drain_notify(d->notify_fd);
}

static int drain_all(struct capc_drain *d) {
  long got;
  while ((got = pass(d)) > 0) {
  }
  hand_over(d, 1);
  return got < 0 ? -1 : 0;
}

/* Control from the main thread, in order. Returns 1 to stop, -1 on failure. */
static int commands(struct capc_drain *d) {
  uint64_t w;
  ssize_t r = read(d->wake_fd, &w, 8);
  (void)r;
  pthread_mutex_lock(&d->mu);
  if (d->aborting) {
    pthread_mutex_unlock(&d->mu);
    return 1;
  }
  uint32_t n = d->ncmds;
  struct cmd *c = n ? malloc(n * sizeof *c) : NULL;
  if (c) memcpy(c, d->cmds, n * sizeof *c);
  d->ncmds = 0;
  pthread_mutex_unlock(&d->mu);
  int ret = 0;
  for (uint32_t i = 0; i < n && !ret; i++) {
    switch (c[i].op) {
      case CMD_ADOPT:
        if (streams_adopt(&d->streams, c[i].conn, c[i].dir, c[i].fd, c[i].arg, d)) ret = -1;
        break;
      case CMD_SKIP:
        streams_skip(&d->streams, c[i].conn, c[i].dir);
        break;
      case CMD_RELEASE:
        if (streams_release(&d->streams, c[i].conn, c[i].dir, d)) ret = -1;
        break;
      case CMD_SYNC:
        if (drain_all(d)) ret = -1;
        pthread_mutex_lock(&d->mu);
        d->synced = c[i].arg;
        pthread_cond_broadcast(&d->cv);
        pthread_mutex_unlock(&d->mu);
        capc_drain_notify(d->notify_fd);
        break;
      case CMD_STOP:
        ret = drain_all(d) ? -1 : 1;
        break;
    }
  }
  free(c);
  return ret;
}

void *capc_drain_run(void *arg) {
  struct capc_drain *d = arg;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  prctl(PR_SET_NAME, "capc-capture", 0, 0, 0);
  pthread_getcpuclockid(pthread_self(), &d->cpu_clock);
  struct epoll_event ev[4];
  for (;;) {
    int c;
    PROF(prof_cmd, c = commands(d));
    if (c) break;
    if (in_flight(d) > MAX_IN_FLIGHT) {
      d->stalls++;
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += (long)d->cfg.drain_ms * 1000000L;
      ts.tv_sec += ts.tv_nsec / 1000000000L;
      ts.tv_nsec %= 1000000000L;
      pthread_mutex_lock(&d->mu);
      pthread_cond_timedwait(&d->cv, &d->mu, &ts);
      pthread_mutex_unlock(&d->mu);
      continue;
    }
    int next_flush = idle_flush(d);
    long got;
    PROF(prof_read, got = pass(d));
#ifdef CAPC_DRAIN_PROFILE
    prof_passes++;
#endif
    if (got < 0) break;
    /* A new stream's bytes are copied until its file is open: hand over at once so the main thread opens it
     * (waiting the usual 20-50 ms copied ~15 MB at wire speed, ~0.015 s of CPU per stream). Otherwise the
     * ring has gone quiet when two passes in a row (a wait apart) find it empty: a producer that pauses for
     * less than a wait (a traced program off the CPU for a moment at full speed) does not wake the main
     * thread for it (each wake-up costs it ~0.2-0.5 ms of CPU; 30-70 of them in a 313 MiB transfer). */
    int quiet = got == 0 && d->was_quiet;
    d->was_quiet = got == 0;
    /* With payload none and the files written here (-q --write-streams), batches of in-order data carry nothing an
     * output shows at once (byte counts for the index and the summary): they go every post_ms (1 s), and at once
     * only with a record that shows (a connection's identity or end: capture_conn/capture_end lines, index entries),
     * a gap or out-of-order bytes (loss markers), or a new stream; each hand-over wakes the main thread (~0.3-0.5 ms
     * of its CPU), ~20 times a second for a trickle of small writes before. */
    int urgent = d->streams.unadopted || d->streams.unordered || d->urgent;
    hand_over(d, urgent || (quiet && !d->lazy));
    d->streams.unadopted = d->streams.unordered = d->urgent = 0;
    if (d->full) continue;
    int wait = next_flush >= 0 && next_flush < d->wait_ms ? next_flush : d->wait_ms;
    PROF(prof_wait, epoll_wait(d->epfd, ev, 4, wait));
#ifdef CAPC_DRAIN_PROFILE
    prof_waits++;
#endif
    int small = d->cfg.payload == CAPC_PAYLOAD_NONE && d->last_pass_bytes < SMALL_PASS;
    d->wait_ms = got > 0 && !small ? d->cfg.drain_ms : (d->wait_ms * 2 < IDLE_WAIT_MS ? d->wait_ms * 2 : IDLE_WAIT_MS);
  }
  PROF(prof_close, streams_close_all(&d->streams, d));
#ifdef CAPC_DRAIN_PROFILE
  fprintf(stderr,
          "drain profile: pass %.3f s (flush %.3f s) wait %.3f s commands %.3f s close %.3f s; %llu passes %llu waits\n",
          prof_read / 1e9, prof_flush / 1e9, prof_wait / 1e9, prof_cmd / 1e9, prof_close / 1e9,
          (unsigned long long)prof_passes, (unsigned long long)prof_waits);
#endif
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  pthread_mutex_lock(&d->mu);
  d->cpu_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
  d->running = 0;
  pthread_cond_broadcast(&d->cv);
  pthread_mutex_unlock(&d->mu);
  capc_drain_notify(d->notify_fd);
  return NULL;
}

