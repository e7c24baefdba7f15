// runtime/capture/drain-client.ts — the main thread's handle on the capture
// thread (drain-thread.ts): starts it, receives its batches as they come
// (handing each entry to the caller, then telling the thread the bytes were
// taken, which is what bounds it), forwards stream-file fds, and turns the
// thread's failures into errors the session reports.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import type { MessagePort, Worker } from 'node:worker_threads';
import { CapcError } from '../errors.js';
import { readBatch, type EntryHandler } from './batch.js';
import {
  SHARED_BYTES,
  SHARED_CONFIGURED,
  SHARED_POSTED,
  type CaptureDrain,
  type DrainConfig,
  type DrainThreadData,
  type FromDrainThread,
  type ToDrainThread,
} from './drain-protocol.js';

/**
 * node:worker_threads, loaded when a JavaScript capture thread is started (the fallback, W0911): a static import
 * would load it (~3 ms) on every start, though the native drain and most programs never use it.
 */
const workerThreads = (): typeof import('node:worker_threads') =>
  createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');

/** The thread's script: dist/drain-thread.mjs next to the bundle, or (running from source) a bootstrap that loads the TypeScript. */
function threadScript(): URL {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 3; i++, dir = path.dirname(dir)) {
    const built = path.join(dir, 'drain-thread.mjs');
    if (fs.existsSync(built)) return pathToFileURL(built);
  }
  return new URL('./drain-thread-dev.mjs', import.meta.url);
}

export class DrainClient implements CaptureDrain {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly counters: BigInt64Array;
  private readonly configured: Int32Array;
  private readonly waiting = new Map<number, () => void>();
  private nextSync = 1;
  private readyNow: (() => void) | undefined;
  private readonly readyP: Promise<void>;
  private stopped: Promise<void>;
  private failure: Error | undefined;
  /** Ring records read and ring bytes they took (from the thread's last batch). */
  records = 0;
  ringBytes = 0;
  /** Times the thread stopped draining because this thread had not taken its batches (backpressure). */
  stalls = 0;
  /** The largest burst the thread saw (ring bytes waiting + dropped meanwhile): the ring that would have held it. */
  peakBurst = 0;
  /** The thread's CPU seconds: when it was ready (its start-up), and in all (once stopped). */
  cpuAtReady = 0;
  cpu = 0;
  /** Entries handed to onEntry since the last take(). */
  private fresh = 0;

  private onEntry: EntryHandler = () => {};

  /** Spawn the thread now (it starts up while the program loads); configure() sets it to work. */
  constructor() {
    const shared = new SharedArrayBuffer(SHARED_BYTES);
    this.counters = new BigInt64Array(shared, 0, 2);
    this.configured = new Int32Array(shared);
    const { MessageChannel, Worker } = workerThreads();
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const data: DrainThreadData = { shared, port: port2 };
    // The thread's heap holds small per-pass arrays and one entry per open stream (payload copies are
    // Buffers, outside it): a small young generation makes V8 collect its garbage before RSS grows (with
    // the defaults, RSS rose ~3 MiB per thousand short connections in tests/e2e/capture-memory.test.ts until
    // a collection took it back); the old-generation cap is far above what it uses.
    this.worker = new Worker(threadScript(), {
      workerData: data,
      transferList: [port2],
      resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 128 },
    });
    this.stopped = new Promise((resolve) => {
      this.worker.once('exit', () => resolve());
      this.worker.once('error', (e) => {
        this.failure ??= e;
        resolve();
      });
    });
    this.readyP = new Promise((resolve) => (this.readyNow = resolve));
    this.port.on('message', (m: FromDrainThread) => this.receive(m));
  }

  /** Resolves once the thread drains the ring (the session attaches probes only then); throws its failure. */
  async ready(): Promise<void> {
    await Promise.race([this.readyP, this.stopped]);
    if (this.failure) throw this.failure;
  }

  /** What to read, what the outputs need, and where every entry of every batch goes. */
  configure(config: DrainConfig, onEntry: EntryHandler): void {
    this.onEntry = onEntry;
    this.send({ op: 'configure', config });
    Atomics.store(this.configured, SHARED_CONFIGURED, 1);
    Atomics.notify(this.configured, SHARED_CONFIGURED);
  }

  private receive(m: FromDrainThread): void {
    switch (m.t) {
      case 'batch': {
        this.records = m.records;
        this.ringBytes = m.ringBytes;
        this.stalls = m.stalls;
        this.peakBurst = m.peakBurst;
        try {
          m.bufs.forEach((buf, i) => {
            readBatch(buf, m.used[i]!, (d, v, off, len, held, count) => {
              this.fresh++;
              this.onEntry(d, v, off, len, held, count);
            });
          });
        } finally {
          Atomics.add(this.counters, 1, BigInt(m.used.reduce((a, b) => a + b, 0)));
          Atomics.notify(this.counters, 1);
        }
        return;
      }
      case 'synced':
        this.waiting.get(m.id)?.();
        this.waiting.delete(m.id);
        return;
      case 'error':
        // E0906: the session still stops cleanly (END, maps, detach) and exits 1; --verbose shows the stack.
        this.failure ??= new CapcError(
          'E0906',
          `the capture thread failed: ${m.message.split('\n')[0]}`,
          ['bytes already written to stream files are kept; check the disk (space, permissions) if a write failed'],
          undefined,
          m.message,
        );
        this.readyNow?.();
        for (const w of this.waiting.values()) w();
        this.waiting.clear();
        return;
      case 'ready':
        this.cpuAtReady = m.cpu;
        this.readyNow?.();
        return;
      case 'stopped':
        this.cpu = m.cpu;
        return;
    }
  }

  private send(m: ToDrainThread): void {
    this.port.postMessage(m);
    Atomics.add(this.configured, SHARED_POSTED, 1);
  }

  /** Entries received since the last call (the session backs off while there are none); throws the thread's failure. */
  take(): number {
    if (this.failure) throw this.failure;
    const n = this.fresh;
    this.fresh = 0;
    return n;
  }

  /** Resolves once every record the ring held when called has been handed over. */
  sync(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextSync++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, () => (this.failure ? reject(this.failure) : resolve()));
      this.send({ op: 'sync', id });
    });
  }

  adopt(conn: number, dir: number, fd: number, base: number): void {
    this.send({ op: 'adopt', conn, dir, fd, base });
  }

  skip(conn: number, dir: number): void {
    this.send({ op: 'skip', conn, dir });
  }

  release(conn: number, dir: number): void {
    this.send({ op: 'release', conn, dir });
  }

  /** Drain the rest, close the files the thread holds, and end it. */
  async stop(): Promise<void> {
    this.send({ op: 'stop' });
    Atomics.notify(this.configured, SHARED_CONFIGURED); // a thread never configured stops waiting
    await this.stopped;
    this.port.close();
    if (this.failure) throw this.failure;
  }

  /** Give up without draining (the session is failing). */
  async terminate(): Promise<void> {
    this.port.close();
    await this.worker.terminate();
  }
}
