/* runtime/native/capc-drain.h — the native capture drain (libcapc-drain.so):
 * a pthread that reads the capture ring from its mmapped pages, writes each
 * data record's payload to its stream file straight from ring memory (one
 * positioned writev per file and contiguous run per pass) and queues, for the
 * main thread, batches in the format of runtime/capture/batch.ts. The
 * TypeScript side (runtime/ffi/drain.ts, runtime/capture/native-drain.ts)
 * binds these functions with koffi; the JavaScript drain
 * (runtime/capture/drain-thread.ts) is the reference and the fallback, and
 * both obey the same batch rules (capc-batch.c). */
#ifndef CAPC_DRAIN_H
#define CAPC_DRAIN_H
#include <stddef.h>
#include <stdint.h>

#define CAPC_DRAIN_ABI 2

/* Where a capture record keeps what the drain reads (compiler/manifest.ts CAPTURE_RECORD). */
struct capc_drain_layout {
  uint32_t size, len, kind, conn, offset, dir, ts_last, data_kind;
};

/* What the outputs need of the payload: nothing (headers only, merged), everything, or each stream's tail. */
enum { CAPC_PAYLOAD_NONE = 0, CAPC_PAYLOAD_ALL = 1, CAPC_PAYLOAD_TAIL = 2 };

struct capc_drain_config {
  int32_t ring_fd;
  uint32_t ring_size;
  int32_t payload;
  uint32_t tail;
  int32_t files;
  int32_t drain_ms;
  int32_t stats_fd;
  uint32_t drop_bytes_index;
  int32_t ncpus;
  /* The kernel's idle flush (capc_flush, a raw_tp program run with BPF_PROG_TEST_RUN), run by the thread every
   * flush_ms with idle_ns as its argument, so the main thread need not wake for it; flush_fd < 0: not run here. */
  int32_t flush_fd;
  int32_t flush_ms;
  uint64_t idle_ns;
  struct capc_drain_layout rec;
};

struct capc_drain_stats {
  uint64_t records, ring_bytes, stalls, peak_burst, cpu_ns, bytes_written, synced, flushes, flush_errors;
  int32_t failed, running;
};

struct capc_drain;

int capc_drain_abi(void);
/* Maps the ring and starts the thread; NULL with a message in err on failure. */
struct capc_drain *capc_drain_open(const struct capc_drain_config *cfg, char *err, size_t errlen);
/* An eventfd that becomes readable when batches were handed over, a sync completed or the thread failed. */
int capc_drain_notify_fd(const struct capc_drain *d);
void capc_drain_adopt(struct capc_drain *d, uint64_t conn, uint32_t dir, int32_t fd, uint64_t base);
void capc_drain_skip(struct capc_drain *d, uint64_t conn, uint32_t dir);
void capc_drain_release(struct capc_drain *d, uint64_t conn, uint32_t dir);
/* Size of the next batch handed over (0: none); pop copies it into buf (cap >= that size) and frees it. */
uint32_t capc_drain_peek(struct capc_drain *d);
uint32_t capc_drain_pop(struct capc_drain *d, uint8_t *buf, uint32_t cap);
/* Ask for everything the ring holds now to be handed over; returns the id to wait for. */
uint64_t capc_drain_sync(struct capc_drain *d);
/* Blocks (call it off the event loop) until sync `id` completed or the thread failed or stopped. */
int capc_drain_wait_synced(struct capc_drain *d, uint64_t id);
void capc_drain_get_stats(struct capc_drain *d, struct capc_drain_stats *out);
/* The thread's failure, if any ("" otherwise). */
const char *capc_drain_error(const struct capc_drain *d);
/* Blocks: drain the rest (unless abort), close the files, end the thread. Then capc_drain_free. */
void capc_drain_stop(struct capc_drain *d, int abort);
void capc_drain_free(struct capc_drain *d);

/* One pass's records (struct of arrays), as batch.ts PassRecords. */
struct capc_pass {
  uint32_t n;
  const int32_t *off, *len, *plen;
  const uint64_t *conn, *at;
  const uint8_t *dir, *data;
};
/* buildBatch of runtime/capture/batch.ts: entries for `held[i]` bytes of each record, merged when `merge`.
 * Returns the bytes the batch takes; writes it to out only if cap is enough. */
uint32_t capc_batch_build(const uint8_t *ring, const struct capc_pass *p, const int32_t *held, int merge,
                          const struct capc_drain_layout *L, uint8_t *out, uint32_t cap);
/* drain-thread.ts held(): what each record carries to the main thread. */
void capc_batch_held(const struct capc_pass *p, int payload, uint32_t tail, uint32_t header, int32_t *held);
/* The same as capc_batch_build, with arrays as a test passes them (conn, at as doubles). */
uint32_t capc_batch_build_test(const uint8_t *ring, uint32_t n, const int32_t *off, const int32_t *len,
                               const int32_t *plen, const double *conn, const double *at, const uint8_t *dir,
                               const uint8_t *data, const int32_t *held, int merge,
                               const struct capc_drain_layout *L, uint8_t *out, uint32_t cap);
/* capc_batch_held, the same way. */
void capc_batch_held_test(uint32_t n, const int32_t *len, const int32_t *plen, const double *conn, const uint8_t *dir,
                          const uint8_t *data, int payload, uint32_t tail, uint32_t header, int32_t *held);

/* capc-printf.c: printf records of the events ring formatted natively (fast-printf.ts's rules). */
struct capc_printf;
struct capc_printf_seg {
  uint8_t kind, conv, size, is_signed, bits, flags;
  int32_t width, precision;
  uint32_t offset, len;
};
enum { CAPC_PRINTF_DONE = 0, CAPC_PRINTF_FULL = 1, CAPC_PRINTF_UNHANDLED = 2, CAPC_PRINTF_TOO_BIG = 3 };
struct capc_printf_result {
  uint32_t records, out_len, stop, unused;
  uint64_t ring_bytes;
};
struct capc_printf *capc_printf_new(void);
void capc_printf_free(struct capc_printf *p);
int capc_printf_add(struct capc_printf *p, uint32_t id, uint32_t size, uint32_t nsegs,
                    const struct capc_printf_seg *segs, const uint8_t *lits, uint32_t nlits);
uint32_t capc_printf_drain(const struct capc_printf *p, void *cons_page, const void *prod_page, uint32_t page,
                           uint32_t size, double until, uint32_t max, uint8_t *out, uint32_t cap,
                           struct capc_printf_result *res);
#endif
