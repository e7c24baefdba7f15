// runtime/capture/native-drain.ts — the main thread's handle on the native
// capture drain (runtime/native/capc-drain.c through runtime/ffi/drain.ts):
// the same contract as drain-client.ts (the JavaScript drain, its fallback),
// without a worker isolate. The drain is a pthread that reads the ring,
// writes the stream files and queues batches (batch.ts's format); it makes
// an eventfd readable when it hands batches over, which the session's poller
// waits on, and take() then reads them into fresh buffers and hands each
// entry on. sync() and stop() wait on libuv's thread pool.
import { CapcError } from '../errors.js';
import { native } from '../ffi/libbpf.js';
import type { NativeDrainLib } from '../ffi/drain.js';
import { readBatch, type EntryHandler } from './batch.js';
import type { CaptureDrain, DrainConfig } from './drain-protocol.js';

const PAYLOAD = { none: 0, all: 1, tail: 2 } as const;

type Handle = unknown;

export class NativeDrainClient implements CaptureDrain {
  private h: Handle | undefined;
  private failure: Error | undefined;
  private onEntry: EntryHandler = () => {};
  records = 0;
  ringBytes = 0;
  stalls = 0;
  peakBurst = 0;
  /** Idle flushes the thread ran (DrainConfig.flush), and those the kernel refused. */
  flushes = 0;
  flushErrors = 0;
  /** No worker isolate to start: the thread drains from its first instruction. */
  cpuAtReady = 0;
  cpu = 0;
  readonly native = true;

  constructor(private readonly lib: NativeDrainLib) {}

  /** The eventfd the session waits on (readable when batches were handed over). */
  get notifyFd(): number | undefined {
    return this.h ? (this.lib.notifyFd(this.h) as number) : undefined;
  }

  async ready(): Promise<void> {
    if (this.failure) throw this.failure;
  }

  configure(config: DrainConfig, onEntry: EntryHandler): void {
    this.onEntry = onEntry;
    const p = config.payload;
    const err = Buffer.alloc(256);
    const r = config.record;
    this.h = this.lib.open(
      {
        ring_fd: config.fd,
        ring_size: config.size,
        payload: typeof p === 'object' ? PAYLOAD.tail : PAYLOAD[p],
        tail: typeof p === 'object' ? p.tail : 0,
        files: config.files ? 1 : 0,
        drain_ms: config.drainMs,
        stats_fd: config.statsFd,
        drop_bytes_index: config.dropBytesIndex,
        ncpus: native().num_possible_cpus() as number,
        flush_fd: config.flush?.fd ?? -1,
        flush_ms: config.flush?.periodMs ?? 0,
        idle_ns: config.flush?.idleNs ?? 0,
        rec: {
          size: r.size,
          len: r.len,
          kind: r.kind,
          conn: r.conn,
          offset: r.offset,
          dir: r.dir,
          ts_last: r.tsLast,
          data_kind: r.dataKind,
        },
      },
      err,
      err.length,
    );
    if (!this.h) this.fail(err.subarray(0, Math.max(0, err.indexOf(0))).toString());
  }

  private fail(message: string): void {
    // E0906, as the JavaScript drain's failures: the session still stops cleanly and exits 1.
    this.failure ??= new CapcError('E0906', `the capture thread failed: ${message}`, [
      'bytes already written to stream files are kept; check the disk (space, permissions) if a write failed',
    ]);
  }

  private refresh(): void {
    if (!this.h) return;
    const s = {} as Record<string, bigint | number>;
    this.lib.stats(this.h, s);
    this.records = Number(s.records);
    this.ringBytes = Number(s.ring_bytes);
    this.stalls = Number(s.stalls);
    this.peakBurst = Number(s.peak_burst);
    this.flushes = Number(s.flushes);
    this.flushErrors = Number(s.flush_errors);
    this.cpu = Number(s.cpu_ns) / 1e9;
    if (s.failed) this.fail(this.lib.error(this.h) as string);
  }

  /** Hand on every batch handed over so far; returns the entries. Throws the thread's failure. */
  take(): number {
    if (this.failure) throw this.failure;
    if (!this.h) return 0;
    let entries = 0;
    for (let size = this.lib.peek(this.h) as number; size > 0; size = this.lib.peek(this.h) as number) {
      // A fresh buffer per batch: an output that takes everything keeps views of it.
      const buf = new ArrayBuffer(size);
      const used = this.lib.pop(this.h, new Uint8Array(buf), size) as number;
      readBatch(buf, used, (d, v, off, len, held, count) => {
        entries++;
        this.onEntry(d, v, off, len, held, count);
      });
    }
    this.refresh();
    if (this.failure) throw this.failure;
    return entries;
  }

  sync(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.h) return Promise.resolve();
    const h = this.h;
    const id = this.lib.sync(h);
    return new Promise((resolve, reject) => {
      this.lib.waitSynced.async(h, id, () => {
        try {
          this.take();
          resolve();
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  adopt(conn: number, dir: number, fd: number, base: number): void {
    if (this.h) this.lib.adopt(this.h, conn, dir, fd, base);
  }

  skip(conn: number, dir: number): void {
    if (this.h) this.lib.skip(this.h, conn, dir);
  }

  release(conn: number, dir: number): void {
    if (this.h) this.lib.release(this.h, conn, dir);
  }

  private end(abort: boolean): Promise<void> {
    const h = this.h;
    if (!h) return Promise.resolve();
    return new Promise((resolve) =>
      this.lib.stop.async(h, abort ? 1 : 0, () => {
        resolve();
      }),
    );
  }

  /** Drain the rest, close the files the thread holds, and end it. */
  async stop(): Promise<void> {
    if (!this.h) {
      if (this.failure) throw this.failure;
      return;
    }
    await this.end(false);
    try {
      this.take();
    } finally {
      this.refresh();
      this.lib.free(this.h);
      this.h = undefined;
    }
  }

  /** Give up without draining (the session is failing). */
  async terminate(): Promise<void> {
    if (!this.h) return;
    await this.end(true);
    this.lib.free(this.h);
    this.h = undefined;
  }
}
