/* runtime/native/capc-printf-thread.h — the events ring drained, formatted
 * and written on a pthread of its own (capc-printf-thread.c), for
 * runtime/ffi/drain.ts. */
#ifndef CAPC_PRINTF_THREAD_H
#define CAPC_PRINTF_THREAD_H
#include "capc-drain.h"

struct capc_printf_thread;
struct capc_printf_thread_stats {
  uint64_t records, ring_bytes, bytes_written, writes, wakeups, full_waits, cpu_ns;
  int32_t write_err, handed_back, exited;
};
struct capc_printf_thread *capc_printf_thread_start(const struct capc_printf *prog, int ring_fd, void *cons_page,
                                                    const void *prod_page, uint32_t page, uint32_t size,
                                                    const void *ctl_cons_page, const void *ctl_prod_page,
                                                    uint32_t ctl_size, int out_fd, int drain_ms, int nice);
int capc_printf_thread_pause(struct capc_printf_thread *t, double until);
void capc_printf_thread_release(struct capc_printf_thread *t);
void capc_printf_thread_resume(struct capc_printf_thread *t);
int capc_printf_thread_write(struct capc_printf_thread *t, const uint8_t *b, uint32_t n);
void capc_printf_thread_stop(struct capc_printf_thread *t);
uint32_t capc_printf_thread_leftover(struct capc_printf_thread *t, uint8_t *out, uint32_t cap);
void capc_printf_thread_get_stats(struct capc_printf_thread *t, struct capc_printf_thread_stats *s);
void capc_printf_thread_free(struct capc_printf_thread *t);
#endif
