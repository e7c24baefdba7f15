// runtime/ring/poller.ts — waits for ring-buffer data without blocking Node's
// event loop: epoll_wait runs on libuv's thread pool (koffi async call) and
// resolves when a ring wakes us or the drain interval passes. Producers
// submit with BPF_RB_NO_WAKEUP below a fill threshold (R10), so the interval
// is what bounds latency for quiet streams; a filling ring still wakes us.
import { native } from '../ffi/libbpf.js';

const EPOLL_CTL_ADD = 1;
const EPOLLIN = 1;
const EPOLL_CLOEXEC = 0x80000;

export class Poller {
  private readonly epfd: number;
  private readonly events = Buffer.alloc(12 * 8);
  private closed = false;
  private waiting = false;

  constructor(fds: number[]) {
    const n = native();
    this.epfd = n.epoll_create1(EPOLL_CLOEXEC) as number;
    if (this.epfd < 0) throw new Error('epoll_create1 failed');
    for (const fd of fds) {
      const ev = Buffer.alloc(12);
      ev.writeUInt32LE(EPOLLIN, 0);
      ev.writeUInt32LE(fd, 4);
      if (n.epoll_ctl(this.epfd, EPOLL_CTL_ADD, fd, ev) !== 0) throw new Error(`epoll_ctl failed for ring fd ${fd}`);
    }
  }

  /** Resolves after a wake-up or `timeoutMs`, whichever comes first. */
  wait(timeoutMs: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.waiting = true;
    return new Promise((resolve) => {
      native().epoll_wait.async(this.epfd, this.events, 8, timeoutMs, () => {
        this.waiting = false;
        resolve();
      });
    });
  }

  /** Close once no wait is in flight (a wait in flight holds the fd for at most one interval). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.waiting) await new Promise((r) => setTimeout(r, 1));
    native().close(this.epfd);
  }
}
