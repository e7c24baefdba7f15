/* runtime/native/capc-printf-thread.c — the events ring drained on a pthread
 * of its own when every record kind is a printf capc-printf.c formats and the
 * output is plain text: the thread waits on the ring fd (epoll, as libbpf's
 * ring_buffer__poll, edge-triggered: the producer's R10 wake-ups, or the
 * drain interval), formats with capc_printf_drain and writes the text to
 * the output fd in large writes, so neither reading nor writing waits for
 * Node's event loop (runtime/format/printf-thread.ts is its JavaScript side).
 *
 * Ordering with the main thread's output (control records: print(), clear(),
 * time(), exit(); END; the maps at exit) is kept by pausing: pause(until)
 * returns once every record before producer position `until` is formatted
 * into the thread's buffer and the thread is parked; what the main thread
 * writes meanwhile goes to the thread's inbox (write()), which the thread puts
 * after that text when it resumes. So one writer owns the fd while the thread
 * runs. It starts held (formatting, not writing) until Node's stream has
 * written what it held (release()). stop() takes the thread down after a pause; what it could not write
 * yet (a full pipe) is handed back (leftover()) for Node to write.
 *
 * A full pipe (EAGAIN on a non-blocking fd): the thread keeps formatting into
 * memory up to MAX_BUFFERED bytes, then stops reading the ring, which then
 * fills and the kernel counts what it cannot take (W0901). A closed pipe
 * (EPIPE): the error is kept for the main thread (which stops the session as
 * for its own EPIPE), the text is discarded from then on. A record kind it
 * does not know: it parks before that record and says so (handed_back); the
 * main thread's decoder takes over from there. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "capc-printf-thread.h"

#define FLUSH_AT (64u << 10)
#define START_CAP (256u << 10)
#define MAX_BUFFERED (64u << 20)
#define IDLE_WAIT_MS 50

struct capc_printf_thread {
  const struct capc_printf *prog;
  void *cons_page;
  const uint8_t *prod_page;
  uint32_t page, size;
  /* the control ring, read only: its first record the main thread has not taken bounds what the thread reads */
  const uint8_t *ctl_cons_page, *ctl_prod_page;
  uint32_t ctl_size;
  int ring_fd, out_fd, wake_fd, epfd, wait_ms, drain_ms, nice;
  int own_fd, is_socket; /* own_fd: the pipe opened anew, non-blocking, for this thread alone (or -1) */
  pthread_t th;
  /* the thread's output: text not yet written (buf[off..len)) */
  uint8_t *buf;
  uint32_t off, len, cap;
  int blocked;
  /* shared (under mu) */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  uint8_t *inbox;
  uint32_t inbox_len, inbox_cap;
  uint64_t pause_seq, parked_seq;
  double pause_until; /* valid while pausing */
  int pausing, stopping, exited, handed_back, write_err;
  int held; /* started before Node's stream was drained: format, but write nothing until released */
  /* counters */
  uint64_t records, ring_bytes, bytes_written, writes, wakeups, full_waits, cpu_ns;
};

static void wake(struct capc_printf_thread *t) {
  uint64_t one = 1;
  ssize_t r = write(t->wake_fd, &one, 8);
  (void)r;
}

static int grow(uint8_t **b, uint32_t *cap, uint32_t need) {
  uint32_t c = *cap ? *cap : START_CAP;
  while (c < need) c *= 2;
  if (c == *cap) return 0;
  uint8_t *n = realloc(*b, c);
  if (!n) return -1;
  *b = n;
  *cap = c;
  return 0;
}

/* Compact buf so its text starts at 0 (before appending). */
static void compact(struct capc_printf_thread *t) {
  if (!t->off) return;
  memmove(t->buf, t->buf + t->off, t->len - t->off);
  t->len -= t->off;
  t->off = 0;
}

/* Write what buf holds until done, EAGAIN (blocked) or an error (kept; the text is discarded from then on). */
static void flush_out(struct capc_printf_thread *t) {
  if (t->write_err) {
    t->off = t->len = 0;
    return;
  }
  t->blocked = 0;
  while (t->off < t->len) {
    ssize_t n = t->is_socket ? send(t->out_fd, t->buf + t->off, t->len - t->off, MSG_DONTWAIT | MSG_NOSIGNAL)
                             : write(t->out_fd, t->buf + t->off, t->len - t->off);
    if (n > 0) {
      t->off += (uint32_t)n;
      t->bytes_written += (uint64_t)n;
      t->writes++;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      t->blocked = 1;
      t->full_waits++;
      return;
    }
    pthread_mutex_lock(&t->mu);
    t->write_err = n < 0 ? errno : EIO;
    pthread_mutex_unlock(&t->mu);
    t->off = t->len = 0;
    return;
  }
  t->off = t->len = 0;
}

/* Move the main thread's bytes (written while the thread ran or was parked) behind the text so far. */
static int take_inbox(struct capc_printf_thread *t) {
  pthread_mutex_lock(&t->mu);
  int r = 0;
  if (t->inbox_len) {
    compact(t);
    if (grow(&t->buf, &t->cap, t->len + t->inbox_len)) r = -1;
    else {
      memcpy(t->buf + t->len, t->inbox, t->inbox_len);
      t->len += t->inbox_len;
      t->inbox_len = 0;
    }
  }
  pthread_mutex_unlock(&t->mu);
  return r;
}

/* Format records before `until` into buf. Returns 1 when the ring holds nothing more before `until`, 0 when
 * it stopped with more to read (output held back), -1 at a record it does not know. */
static int drain(struct capc_printf_thread *t, double until, int must) {
  struct capc_printf_result res;
  for (;;) {
    if (!must && t->len - t->off >= MAX_BUFFERED) return 0;
    compact(t);
    if (t->cap - t->len < 4096 && grow(&t->buf, &t->cap, t->len + 4096)) return 0;
    capc_printf_drain(t->prog, t->cons_page, t->prod_page, t->page, t->size, until, UINT32_MAX, t->buf + t->len,
                      t->cap - t->len, &res);
    t->len += res.out_len;
    t->records += res.records;
    t->ring_bytes += res.ring_bytes;
    if (t->write_err) t->off = t->len = 0;
    switch (res.stop) {
      case CAPC_PRINTF_DONE:
        return 1;
      case CAPC_PRINTF_UNHANDLED:
        return -1;
      case CAPC_PRINTF_FULL:
        if (t->len - t->off >= FLUSH_AT && !t->blocked) {
          flush_out(t);
          if (!t->blocked) continue;
        }
        if (grow(&t->buf, &t->cap, t->cap * 2)) return 0;
        continue;
      default: /* TOO_BIG: one record's text is larger than the room left */
        if (grow(&t->buf, &t->cap, t->cap * 2)) return 0;
        continue;
    }
  }
}

#define BUSY_BIT 0x80000000u

/*
 * How far the thread may read the events ring now: up to the producer position p read first, but not past
 * the position of the first control record the main thread has not taken (its output goes between the
 * records before and after that position; the main thread pauses the thread there to print it). A control
 * record with a position below p was reserved before p was read, so it is seen here; one reserved later
 * has a position of at least p. *ctl: 1 when a control record bounds the read, 2 when it is still being
 * written (its position unknown yet: nothing is read until it is).
 */
static double read_limit(struct capc_printf_thread *t, int *ctl) {
  uint64_t p = __atomic_load_n((const uint64_t *)t->prod_page, __ATOMIC_ACQUIRE);
  *ctl = 0;
  if (!t->ctl_cons_page) return (double)p;
  uint64_t cc = __atomic_load_n((const uint64_t *)t->ctl_cons_page, __ATOMIC_ACQUIRE);
  uint64_t cp = __atomic_load_n((const uint64_t *)t->ctl_prod_page, __ATOMIC_ACQUIRE);
  if (cc >= cp) return (double)p;
  const uint8_t *rec = t->ctl_prod_page + t->page + (cc & (t->ctl_size - 1));
  uint32_t len = __atomic_load_n((const uint32_t *)rec, __ATOMIC_ACQUIRE);
  if (len & BUSY_BIT) {
    *ctl = 2;
    return (double)__atomic_load_n((const uint64_t *)t->cons_page, __ATOMIC_ACQUIRE);
  }
  uint64_t pos;
  memcpy(&pos, rec + 8 + 8, 8); /* struct capc_ctl: kind, arg, pos */
  *ctl = 1;
  return (double)(pos < p ? pos : p);
}

static uint64_t ring_waiting(struct capc_printf_thread *t) {
  uint64_t c = __atomic_load_n((uint64_t *)t->cons_page, __ATOMIC_ACQUIRE);
  uint64_t p = __atomic_load_n((const uint64_t *)t->prod_page, __ATOMIC_ACQUIRE);
  return p > c ? p - c : 0;
}

static int ring_empty(struct capc_printf_thread *t) {
  uint64_t c = __atomic_load_n((uint64_t *)t->cons_page, __ATOMIC_ACQUIRE);
  uint64_t p = __atomic_load_n((const uint64_t *)t->prod_page, __ATOMIC_ACQUIRE);
  return c >= p;
}

static void *run(void *arg) {
  struct capc_printf_thread *t = arg;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  prctl(PR_SET_NAME, "capc-printf", 0, 0, 0);
  /* CAPC_PRINTF_NICE (measurements): this thread's nice value, so it gets a CPU before the traced program. */
  if (t->nice) {
    int r = setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), t->nice);
    (void)r;
  }
  for (;;) {
    uint64_t w;
    ssize_t rr = read(t->wake_fd, &w, 8);
    (void)rr;
    pthread_mutex_lock(&t->mu);
    int pausing = t->pausing, stopping = t->stopping, held = t->held;
    uint64_t seq = t->pause_seq;
    double until = t->pause_until;
    pthread_mutex_unlock(&t->mu);
    if (stopping && !pausing) break;
    if (take_inbox(t)) break;
    int ctl = 0;
    int done = drain(t, pausing ? until : read_limit(t, &ctl), pausing);
    if (done < 0) {
      /* A record kind it does not know: park before it for good (every pause answered at once); the main
       * thread stops this thread and its decoder takes over from that record. */
      flush_out(t);
      pthread_mutex_lock(&t->mu);
      t->handed_back = 1;
      while (!t->stopping) {
        t->parked_seq = t->pause_seq;
        pthread_cond_broadcast(&t->cv);
        pthread_cond_wait(&t->cv, &t->mu);
      }
      pthread_mutex_unlock(&t->mu);
      break;
    }
    if (pausing && done) {
      /* Parked: everything before `until` is in buf; the main thread writes its output to the inbox. */
      pthread_mutex_lock(&t->mu);
      t->parked_seq = seq;
      pthread_cond_broadcast(&t->cv);
      while (t->pausing && t->pause_seq == seq && !t->stopping) pthread_cond_wait(&t->cv, &t->mu);
      int stop = t->stopping;
      pthread_mutex_unlock(&t->mu);
      if (stop) break;
      continue;
    }
    /* Read on at once only while a good part of the ring is waiting (a burst): otherwise write, then sleep until
     * the drain interval passes or the producer's R10 wake-up comes, so each pass takes a batch (as libbpf's
     * consumer polling every 5 ms does) instead of chasing the producer record by record. */
    int room = t->len - t->off < MAX_BUFFERED, readable = room && !ctl;
    if (readable && ring_waiting(t) >= t->size / 16) {
      if (t->len - t->off >= FLUSH_AT && !held) flush_out(t);
      continue;
    }
    if (t->len > t->off && !held) flush_out(t);
    /* Wait for: the main thread (always: a pause, a resume, its output), the ring (when there is room to format
     * more and no control record the main thread has not taken bounds the read), the output (when full). */
    int n;
    t->wakeups++;
    if (t->blocked && !held) {
      struct pollfd p[2] = {{t->wake_fd, POLLIN, 0}, {t->out_fd, POLLOUT, 0}};
      n = poll(p, 2, t->wait_ms);
    } else {
      /* The ring is edge-triggered here: it wakes the thread when the producer forces a wake-up (R10: unread
       * bytes crossing the threshold), not whenever a record waits (that is what the timeout is for). */
      struct epoll_event ev[2];
      n = epoll_wait(t->epfd, ev, 2, ctl == 2 ? 1 : readable ? t->wait_ms : IDLE_WAIT_MS);
    }
    /* While records come, wait the drain interval; when quiet, back off to IDLE_WAIT_MS. */
    int data = n > 0 || !ring_empty(t);
    t->wait_ms = data ? t->drain_ms : (t->wait_ms * 2 < IDLE_WAIT_MS ? t->wait_ms * 2 : IDLE_WAIT_MS);
  }
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  pthread_mutex_lock(&t->mu);
  t->cpu_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
  t->exited = 1;
  pthread_cond_broadcast(&t->cv);
  pthread_mutex_unlock(&t->mu);
  return NULL;
}

struct capc_printf_thread *capc_printf_thread_start(const struct capc_printf *prog, int ring_fd, void *cons_page,
                                                    const void *prod_page, uint32_t page, uint32_t size,
                                                    const void *ctl_cons_page, const void *ctl_prod_page,
                                                    uint32_t ctl_size, int out_fd, int drain_ms, int nice) {
  struct capc_printf_thread *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->prog = prog;
  t->cons_page = cons_page;
  t->prod_page = prod_page;
  t->page = page;
  t->size = size;
  t->ring_fd = ring_fd;
  t->ctl_cons_page = ctl_cons_page;
  t->ctl_prod_page = ctl_prod_page;
  t->ctl_size = ctl_size;
  t->out_fd = out_fd;
  t->own_fd = -1;
  /* A pipe: written through a file description of the thread's own, non-blocking whatever Node set on the
   * shared one, so a full pipe never blocks the thread (it keeps formatting and answers pauses). A socket:
   * each send non-blocking. Files and terminals: written as Node writes them. */
  struct stat st;
  if (!fstat(out_fd, &st)) {
    if (S_ISFIFO(st.st_mode)) {
      char path[64];
      snprintf(path, sizeof path, "/proc/self/fd/%d", out_fd);
      t->own_fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      if (t->own_fd >= 0) t->out_fd = t->own_fd;
    } else if (S_ISSOCK(st.st_mode))
      t->is_socket = 1;
  }
  t->drain_ms = t->wait_ms = drain_ms > 0 ? drain_ms : 5;
  t->nice = nice;
  t->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  t->epfd = epoll_create1(EPOLL_CLOEXEC);
  t->held = 1;
  pthread_mutex_init(&t->mu, NULL);
  pthread_cond_init(&t->cv, NULL);
  struct epoll_event ring_ev = {.events = EPOLLIN | EPOLLET, .data = {.fd = ring_fd}};
  struct epoll_event wake_ev = {.events = EPOLLIN, .data = {.fd = t->wake_fd}};
  int ok = t->wake_fd >= 0 && t->epfd >= 0 && !epoll_ctl(t->epfd, EPOLL_CTL_ADD, ring_fd, &ring_ev) &&
           !epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->wake_fd, &wake_ev) && !grow(&t->buf, &t->cap, START_CAP);
  if (!ok || pthread_create(&t->th, NULL, run, t)) {
    if (t->own_fd >= 0) close(t->own_fd);
    if (t->epfd >= 0) close(t->epfd);
    if (t->wake_fd >= 0) close(t->wake_fd);
    free(t->buf);
    free(t);
    return NULL;
  }
  return t;
}

/* Blocks until every record before `until` is formatted and the thread is parked (or handed back / exited).
 * Returns 0, or 1 if the thread handed the ring back (a record kind it does not know). */
int capc_printf_thread_pause(struct capc_printf_thread *t, double until) {
  pthread_mutex_lock(&t->mu);
  uint64_t seq = ++t->pause_seq;
  t->pausing = 1;
  t->pause_until = until;
  pthread_cond_broadcast(&t->cv);
  pthread_mutex_unlock(&t->mu);
  wake(t);
  pthread_mutex_lock(&t->mu);
  while (t->parked_seq < seq && !t->exited) pthread_cond_wait(&t->cv, &t->mu);
  int r = t->handed_back;
  pthread_mutex_unlock(&t->mu);
  return r;
}

/* Node's stream has written what it held: the thread may write to the output from now on. */
void capc_printf_thread_release(struct capc_printf_thread *t) {
  pthread_mutex_lock(&t->mu);
  t->held = 0;
  pthread_mutex_unlock(&t->mu);
  wake(t);
}

void capc_printf_thread_resume(struct capc_printf_thread *t) {
  pthread_mutex_lock(&t->mu);
  if (!t->handed_back) t->pausing = 0;
  pthread_cond_broadcast(&t->cv);
  pthread_mutex_unlock(&t->mu);
  wake(t);
}

/* The main thread's output, put after the thread's text so far (call while paused to keep order). */
int capc_printf_thread_write(struct capc_printf_thread *t, const uint8_t *b, uint32_t n) {
  pthread_mutex_lock(&t->mu);
  int r = grow(&t->inbox, &t->inbox_cap, t->inbox_len + n);
  if (!r) {
    memcpy(t->inbox + t->inbox_len, b, n);
    t->inbox_len += n;
  }
  pthread_mutex_unlock(&t->mu);
  wake(t);
  return r;
}

/* Ends the thread (call after a pause: it reads nothing more) and waits for it. */
void capc_printf_thread_stop(struct capc_printf_thread *t) {
  pthread_mutex_lock(&t->mu);
  t->stopping = 1;
  pthread_cond_broadcast(&t->cv);
  pthread_mutex_unlock(&t->mu);
  wake(t);
  pthread_join(t->th, NULL);
  /* One last try at what is left (a pipe that had room again); the rest is the caller's (leftover). */
  take_inbox(t);
  if (t->len > t->off) flush_out(t);
}

/* After stop: bytes not written yet (a full pipe), copied to out if cap is enough; returns their length. */
uint32_t capc_printf_thread_leftover(struct capc_printf_thread *t, uint8_t *out, uint32_t cap) {
  uint32_t n = t->write_err ? 0 : t->len - t->off;
  if (out && cap >= n) memcpy(out, t->buf + t->off, n);
  return n;
}

void capc_printf_thread_get_stats(struct capc_printf_thread *t, struct capc_printf_thread_stats *s) {
  pthread_mutex_lock(&t->mu);
  *s = (struct capc_printf_thread_stats){t->records,    t->ring_bytes, t->bytes_written, t->writes,
                                         t->wakeups,    t->full_waits, t->cpu_ns,        t->write_err,
                                         t->handed_back, t->exited};
  pthread_mutex_unlock(&t->mu);
}

void capc_printf_thread_free(struct capc_printf_thread *t) {
  if (!t) return;
  if (t->own_fd >= 0) close(t->own_fd);
  close(t->epfd);
  close(t->wake_fd);
  pthread_mutex_destroy(&t->mu);
  pthread_cond_destroy(&t->cv);
  free(t->buf);
  free(t->inbox);
  free(t);
}
