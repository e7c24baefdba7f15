/* runtime/native/capc-drain-api.c — the native capture drain's calls from
 * the main thread (bound by runtime/ffi/drain.ts): start the thread on a
 * ring, queue control commands (adopt, skip, release, sync, stop) for it,
 * take the batches it handed over, wait for a sync, read its counters, stop
 * and free it. The thread itself is capc-drain.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "capc-drain-internal.h"

int capc_drain_abi(void) { return CAPC_DRAIN_ABI; }

struct capc_drain *capc_drain_open(const struct capc_drain_config *cfg, char *err, size_t errlen) {
  struct capc_drain *d = calloc(1, sizeof *d);
  if (!d) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  d->cfg = *cfg;
  d->epfd = d->wake_fd = d->notify_fd = -1;
  d->page = (size_t)sysconf(_SC_PAGESIZE);
  d->mask = cfg->ring_size - 1;
  d->outbox_tail = &d->outbox;
  d->queue_tail = &d->queue;
  d->wait_ms = cfg->drain_ms;
  d->lazy = cfg->payload == CAPC_PAYLOAD_NONE && cfg->files;
  d->post_ms = d->lazy ? 1000 : cfg->payload == CAPC_PAYLOAD_NONE ? 50 : 20;
  pthread_mutex_init(&d->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_cond_init(&d->cv, &ca);
  streams_init(&d->streams);
  if (cfg->ncpus > 0) d->drop_values = calloc((size_t)cfg->ncpus, 8);
  void *cp = mmap(NULL, d->page, PROT_READ | PROT_WRITE, MAP_SHARED, cfg->ring_fd, 0);
  void *pp = mmap(NULL, d->page + 2 * (size_t)cfg->ring_size, PROT_READ, MAP_SHARED, cfg->ring_fd, (off_t)d->page);
  if (cp == MAP_FAILED || pp == MAP_FAILED) {
    snprintf(err, errlen, "cannot map the capture ring: %s", strerror(errno));
    if (cp != MAP_FAILED) munmap(cp, d->page);
    if (pp != MAP_FAILED) munmap(pp, d->page + 2 * (size_t)cfg->ring_size);
    free(d->drop_values);
    free(d);
    return NULL;
  }
  d->cons_page = cp;
  d->prod_page = pp;
  d->data = (uint8_t *)pp + d->page;
  d->epfd = epoll_create1(EPOLL_CLOEXEC);
  d->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  d->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  struct epoll_event e = {.events = EPOLLIN};
  e.data.fd = cfg->ring_fd;
  int ok = d->epfd >= 0 && d->wake_fd >= 0 && d->notify_fd >= 0 &&
           epoll_ctl(d->epfd, EPOLL_CTL_ADD, cfg->ring_fd, &e) == 0;
  e.data.fd = d->wake_fd;
  ok = ok && epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->wake_fd, &e) == 0;
  d->running = 1;
  if (!ok || pthread_create(&d->thread, NULL, capc_drain_run, d) != 0) {
    snprintf(err, errlen, "cannot start the capture thread: %s", strerror(errno));
    d->running = 0;
    capc_drain_free(d);
    return NULL;
  }
  return d;
}

int capc_drain_notify_fd(const struct capc_drain *d) { return d->notify_fd; }

static void push(struct capc_drain *d, struct cmd c) {
  pthread_mutex_lock(&d->mu);
  if (d->ncmds == d->capcmds) {
    uint32_t cap = d->capcmds ? d->capcmds * 2 : 64;
    struct cmd *n = realloc(d->cmds, cap * sizeof *n);
    if (!n) {
      pthread_mutex_unlock(&d->mu);
      capc_drain_fail(d, "out of memory");
      return;
    }
    d->cmds = n;
    d->capcmds = cap;
  }
  d->cmds[d->ncmds++] = c;
  pthread_mutex_unlock(&d->mu);
  capc_drain_notify(d->wake_fd);
}

void capc_drain_adopt(struct capc_drain *d, uint64_t conn, uint32_t dir, int32_t fd, uint64_t base) {
  push(d, (struct cmd){CMD_ADOPT, fd, dir, conn, base});
}
void capc_drain_skip(struct capc_drain *d, uint64_t conn, uint32_t dir) {
  push(d, (struct cmd){CMD_SKIP, -1, dir, conn, 0});
}
void capc_drain_release(struct capc_drain *d, uint64_t conn, uint32_t dir) {
  push(d, (struct cmd){CMD_RELEASE, -1, dir, conn, 0});
}

uint64_t capc_drain_sync(struct capc_drain *d) {
  pthread_mutex_lock(&d->mu);
  uint64_t id = ++d->sync_req;
  pthread_mutex_unlock(&d->mu);
  push(d, (struct cmd){CMD_SYNC, -1, 0, 0, id});
  return id;
}

int capc_drain_wait_synced(struct capc_drain *d, uint64_t id) {
  pthread_mutex_lock(&d->mu);
  while (d->synced < id && !d->failed && d->running) pthread_cond_wait(&d->cv, &d->mu);
  int r = d->synced >= id ? 0 : -1;
  pthread_mutex_unlock(&d->mu);
  return r;
}

uint32_t capc_drain_peek(struct capc_drain *d) {
  uint64_t w;
  ssize_t r = read(d->notify_fd, &w, 8);
  (void)r;
  pthread_mutex_lock(&d->mu);
  uint32_t n = d->queue ? d->queue->used : 0;
  pthread_mutex_unlock(&d->mu);
  return n;
}

uint32_t capc_drain_pop(struct capc_drain *d, uint8_t *buf, uint32_t cap) {
  pthread_mutex_lock(&d->mu);
  struct batch *b = d->queue;
  if (!b || b->used > cap) {
    pthread_mutex_unlock(&d->mu);
    return 0;
  }
  d->queue = b->next;
  if (!d->queue) d->queue_tail = &d->queue;
  d->queue_bytes -= b->used;
  pthread_cond_broadcast(&d->cv);
  pthread_mutex_unlock(&d->mu);
  uint32_t n = b->used;
  memcpy(buf, b->data, n);
  free(b);
  return n;
}

void capc_drain_get_stats(struct capc_drain *d, struct capc_drain_stats *o) {
  pthread_mutex_lock(&d->mu);
  o->failed = d->failed;
  o->running = d->running;
  o->synced = d->synced;
  o->cpu_ns = d->cpu_ns;
  if (d->running) {
    struct timespec ts;
    if (clock_gettime(d->cpu_clock, &ts) == 0) o->cpu_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
  }
  pthread_mutex_unlock(&d->mu);
  /* Plain reads of the thread's counters: monotonic, and only shown. */
  o->records = __atomic_load_n(&d->records, __ATOMIC_RELAXED);
  o->ring_bytes = __atomic_load_n(&d->ring_bytes, __ATOMIC_RELAXED);
  o->stalls = __atomic_load_n(&d->stalls, __ATOMIC_RELAXED);
  o->peak_burst = __atomic_load_n(&d->peak_burst, __ATOMIC_RELAXED);
  o->bytes_written = __atomic_load_n(&d->streams.bytes_written, __ATOMIC_RELAXED);
  o->flushes = __atomic_load_n(&d->flushes, __ATOMIC_RELAXED);
  o->flush_errors = __atomic_load_n(&d->flush_errors, __ATOMIC_RELAXED);
}

const char *capc_drain_error(const struct capc_drain *d) { return d->error; }

void capc_drain_stop(struct capc_drain *d, int abort) {
  if (abort) {
    pthread_mutex_lock(&d->mu);
    d->aborting = 1;
    pthread_mutex_unlock(&d->mu);
    capc_drain_notify(d->wake_fd);
  } else {
    push(d, (struct cmd){CMD_STOP, -1, 0, 0, 0});
  }
  pthread_join(d->thread, NULL);
  d->thread = 0;
}

void capc_drain_free(struct capc_drain *d) {
  if (!d) return;
  if (d->thread) capc_drain_stop(d, 1);
  streams_close_all(&d->streams, NULL);
  for (struct batch *b = d->queue, *n; b; b = n) n = b->next, free(b);
  for (struct batch *b = d->outbox, *n; b; b = n) n = b->next, free(b);
  if (d->cons_page) munmap(d->cons_page, d->page);
  if (d->prod_page) munmap(d->prod_page, d->page + 2 * (size_t)d->cfg.ring_size);
  if (d->epfd >= 0) close(d->epfd);
  if (d->wake_fd >= 0) close(d->wake_fd);
  if (d->notify_fd >= 0) close(d->notify_fd);
  pass_free(&d->pass);
  free(d->cmds);
  free(d->drop_values);
  pthread_mutex_destroy(&d->mu);
  pthread_cond_destroy(&d->cv);
  free(d);
}
