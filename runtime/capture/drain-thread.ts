// runtime/capture/drain-thread.ts — the capture thread (a worker thread,
// bundled as dist/drain-thread.mjs): owns the reading side of the capture
// ring, so the ring keeps being drained while the main thread renders,
// collects garbage or waits on a terminal. Each pass it reads what the ring
// holds (at most a quarter of it), writes the payload to the stream files
// straight from ring memory (stream-writer.ts), copies into
// one transferable batch only what the outputs need (runtime/capture/
// batch.ts) and releases the ring space; batches are handed over when the
// ring goes quiet (empty at two passes in a row), or every 20-50 ms while it is busy. Payload bytes are
// never touched one by one in JavaScript. Between passes it waits on the
// ring like libbpf's consumers (a wake-up every quarter of the ring, R10,
// or a timer), longer when passes find little and no output needs bytes.
//
// Backpressure: the thread never waits for files (it writes them itself).
// What it has handed to the main thread and the main thread has not taken
// yet is bounded (MAX_IN_FLIGHT); past that it stops draining until the main
// thread catches up, so the ring fills and the kernel counts what it cannot
// write (W0903) instead of capc's memory growing without bound.
import { isMainThread, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { native } from '../ffi/libbpf.js';
import { StreamWriter } from './stream-writer.js';
import { RingReader } from '../ring/ringbuf.js';
import { buildBatch, heldBytes, type BatchWriter } from './batch.js';
import {
  SHARED_CONFIGURED,
  SHARED_POSTED,
  type DrainConfig,
  type DrainThreadData,
  type ToDrainThread,
} from './drain-protocol.js';

/** Bytes handed to the main thread and not yet taken, past which the ring is left to fill. */
const MAX_IN_FLIGHT = 64 * 1024 * 1024;

/** A pass that read less than this found the ring nearly idle. */
const SMALL_PASS = 256 * 1024;
/** Batch bytes held back before they are handed over anyway. */
const MAX_OUTBOX = 4 * 1024 * 1024;
/** Longest wait between looks at a quiet ring: the latency the session loop already allows rare output. */
const IDLE_WAIT_MS = 50;

const PR_SET_NAME = 15;
const EPOLL_CTL_ADD = 1;
const EPOLLIN = 1;
const EPOLL_CLOEXEC = 0x80000;

class DrainThread {
  private readonly reader: RingReader;
  private readonly writer: StreamWriter | undefined;
  private readonly epfd: number;
  private readonly events = Buffer.alloc(12 * 8);
  private readonly counters: BigInt64Array;
  private readonly slots: Int32Array;
  private seenPosted = 0;
  private stopping = false;
  /** The last pass stopped at its budget: more is waiting. */
  private full = false;
  private lastPassBytes = 0;
  /** Batches not handed over yet, and when the last ones were. */
  private outbox: BatchWriter[] = [];
  private outboxBytes = 0;
  private lastPost = 0;
  /** How long batches may wait while the ring is busy: display latency, or just bookkeeping when no output needs bytes. */
  private readonly postMs: number;
  /** The last pass found the ring empty. */
  private wasQuiet = false;
  private waitMs: number;
  /** Ring bytes one pass reads at most, so space goes back to the producer in steps. */
  private readonly budget: number;
  /** Times it stopped draining because the main thread had not taken what it was given (backpressure). */
  private stalls = 0;
  /** Burst sizing (see measureBurst). */
  private peakBurst = 0;
  private dropsSeen = 0;
  private dropsReadAt = 0;
  private payloadRead = 0;
  private readonly dropValues: Buffer;
  // One pass's records (struct of arrays: no object per record; batch.ts PassRecords).
  n = 0;
  off = new Int32Array(1024);
  len = new Int32Array(1024);
  plen = new Int32Array(1024);
  conn = new Float64Array(1024);
  at = new Float64Array(1024);
  dir = new Uint8Array(1024);
  data = new Uint8Array(1024);

  constructor(
    private readonly port: MessagePort,
    private readonly cfg: DrainConfig,
    shared: SharedArrayBuffer,
  ) {
    this.reader = new RingReader(cfg.name, cfg.fd, cfg.size);
    this.writer = cfg.files ? new StreamWriter() : undefined;
    this.waitMs = cfg.drainMs;
    this.budget = cfg.size / 4;
    this.postMs = cfg.payload === 'none' ? 50 : 20;
    this.dropValues = Buffer.alloc(8 * (native().num_possible_cpus() as number));
    this.counters = new BigInt64Array(shared, 0, 2);
    this.slots = new Int32Array(shared);
    const n = native();
    this.epfd = n.epoll_create1(EPOLL_CLOEXEC) as number;
    const ev = Buffer.alloc(12);
    ev.writeUInt32LE(EPOLLIN, 0);
    ev.writeUInt32LE(cfg.fd, 4);
    if (this.epfd < 0 || n.epoll_ctl(this.epfd, EPOLL_CTL_ADD, cfg.fd, ev) !== 0)
      throw new Error('capture thread: cannot wait on the capture ring');
  }

  run(): void {
    this.post({ t: 'ready', cpu: threadCpuSeconds() });
    try {
      while (!this.stopping) {
        this.messages();
        if (this.stopping) break;
        if (this.inFlight() > MAX_IN_FLIGHT) {
          this.stalls++;
          Atomics.wait(this.counters, 1, Atomics.load(this.counters, 1), this.cfg.drainMs);
          continue;
        }
        // A pass that stopped at its budget goes on at once. Otherwise wait, like libbpf's consumers: for a
        // wake-up (the producer crossed a quarter of the ring, R10) or drainMs, so a busy stream is read in
        // a few large passes rather than many small ones; a quiet ring is looked at less and less often.
        const got = this.pass();
        // The ring has gone quiet when two passes in a row (a wait apart) find it empty: a producer's
        // pause shorter than a wait does not wake the main thread (capc-drain.c does the same).
        this.handOver(got === 0 && this.wasQuiet);
        this.wasQuiet = got === 0;
        if (this.full) continue;
        native().epoll_wait(this.epfd, this.events, 8, this.waitMs);
        // Output waits on a busy ring: look again after drainMs. When no output needs bytes (files only), a
        // pass that found little lets the ring fill longer: fewer, larger passes (each costs ~100 us here).
        const small = this.cfg.payload === 'none' && this.lastPassBytes < SMALL_PASS;
        this.waitMs = got > 0 && !small ? this.cfg.drainMs : Math.min(IDLE_WAIT_MS, this.waitMs * 2);
      }
      this.writer?.closeAll();
      this.post({ t: 'stopped', cpu: threadCpuSeconds() });
    } catch (e) {
      this.post({ t: 'error', message: (e as Error).stack ?? String(e) });
    } finally {
      this.reader.close();
      native().close(this.epfd);
    }
  }

  private inFlight(): number {
    return Number(Atomics.load(this.counters, 0) - Atomics.load(this.counters, 1)) + (this.writer?.pendingBytes ?? 0);
  }

  private post(m: unknown, transfer: ArrayBuffer[] = []): void {
    this.port.postMessage(m, transfer);
  }

  /** Control messages from the main thread, in order (the port is looked at only when one was posted). */
  private messages(): void {
    const posted = Atomics.load(this.slots, SHARED_POSTED);
    if (posted === this.seenPosted) return;
    this.seenPosted = posted;
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
      const msg = m.message as ToDrainThread;
      switch (msg.op) {
        case 'adopt':
          this.writer?.adopt(msg.conn, msg.dir, msg.fd, msg.base);
          break;
        case 'skip':
          this.writer?.skip(msg.conn, msg.dir);
          break;
        case 'release':
          this.writer?.release(msg.conn, msg.dir);
          break;
        case 'sync':
          while (this.pass() > 0) {
            /* everything the ring holds now */
          }
          this.handOver(true);
          this.post({ t: 'synced', id: msg.id });
          break;
        case 'stop':
          while (this.pass() > 0) {
            /* the rest */
          }
          this.handOver(true);
          this.stopping = true;
          return;
      }
    }
  }

  private grow(): void {
    const g = <T extends Int32Array | Float64Array | Uint8Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(a.length * 2);
      b.set(a);
      return b;
    };
    this.off = g(this.off);
    this.len = g(this.len);
    this.plen = g(this.plen);
    this.conn = g(this.conn);
    this.at = g(this.at);
    this.dir = g(this.dir);
    this.data = g(this.data);
  }

  /**
   * The burst this pass finds: the ring bytes waiting, plus the bytes the
   * kernel dropped since the last pass (as ring bytes: payload plus record
   * overhead). The largest tells what ring would have held everything. The
   * drop counter is read only when the ring is half full or every 50 ms.
   */
  private measureBurst(): void {
    const waiting = this.reader.pending();
    const t = performance.now();
    if (waiting < this.cfg.size / 2 && t - this.dropsReadAt < 50) {
      this.peakBurst = Math.max(this.peakBurst, waiting);
      return;
    }
    this.dropsReadAt = t;
    const dropped = this.droppedBytes();
    const perPayloadByte = this.reader.ringBytes / Math.max(1, this.payloadRead) || 1;
    this.peakBurst = Math.max(this.peakBurst, waiting + (dropped - this.dropsSeen) * Math.max(1, perPayloadByte));
    this.dropsSeen = dropped;
  }

  private droppedBytes(): number {
    const key = Buffer.alloc(4);
    key.writeUInt32LE(this.cfg.dropBytesIndex, 0);
    if (native().map_lookup_elem(this.cfg.statsFd, key, this.dropValues) !== 0) return this.dropsSeen;
    let n = 0;
    for (let i = 0; i < this.dropValues.length; i += 8) n += Number(this.dropValues.readBigUInt64LE(i));
    return n;
  }

  /** One pass: read, write files, hand over, release. Returns the records read. */
  private pass(): number {
    const F = this.cfg.record;
    const H = F.size;
    this.measureBurst();
    this.n = 0;
    const writer = this.writer;
    const { count, end } = this.reader.peek((ring, view, off, length) => {
      if (this.n === this.off.length) this.grow();
      const i = this.n++;
      this.off[i] = off;
      this.len[i] = length;
      if (length < H) {
        this.data[i] = 0; // not a capture record: handed over whole, the decoder ignores it
        return;
      }
      const plen = view.getUint32(off + F.len, true);
      const isData = view.getUint8(off + F.kind) === F.dataKind && H + plen <= length;
      this.data[i] = isData ? 1 : 0;
      this.plen[i] = plen;
      this.payloadRead += plen;
      this.conn[i] = view.getUint32(off + F.conn, true) + view.getUint32(off + F.conn + 4, true) * 2 ** 32;
      this.at[i] = view.getUint32(off + F.offset, true) + view.getUint32(off + F.offset + 4, true) * 2 ** 32;
      this.dir[i] = view.getUint8(off + F.dir) & 1;
      if (isData && writer)
        writer.add(this.conn[i]!, this.dir[i]!, this.at[i]!, ring.subarray(off + H, off + H + plen));
    }, this.budget);
    this.lastPassBytes = end - this.reader.consumed();
    this.full = this.lastPassBytes >= this.budget;
    if (this.n === 0) {
      if (end) this.reader.release(end);
      return 0;
    }
    writer?.flush();
    const batch = this.batch();
    this.reader.release(end);
    Atomics.add(this.counters, 0, BigInt(batch.used));
    this.outbox.push(batch);
    this.outboxBytes += batch.used;
    return count;
  }

  /**
   * Hand the batches over: when the ring goes quiet (`now`), or every
   * postMs while it is busy (fewer, larger messages for the main thread:
   * nothing waits on them but outputs and bookkeeping), or past a size.
   */
  private handOver(now: boolean): void {
    if (!this.outbox.length) return;
    const t = performance.now();
    if (!now && t - this.lastPost < this.postMs && this.outboxBytes < MAX_OUTBOX) return;
    this.lastPost = t;
    const bufs = this.outbox.map((b) => b.bytes.buffer as ArrayBuffer);
    this.post(
      {
        t: 'batch',
        bufs,
        used: this.outbox.map((b) => b.used),
        records: this.reader.records,
        ringBytes: this.reader.ringBytes,
        stalls: this.stalls,
        peakBurst: this.peakBurst,
      },
      bufs,
    );
    this.outbox = [];
    this.outboxBytes = 0;
  }

  private batch(): BatchWriter {
    return buildBatch(
      this.reader.bytes,
      this,
      heldBytes(this, this.cfg.payload, this.cfg.record.size),
      this.cfg.payload === 'none',
      this.cfg.record,
    );
  }
}

const CLOCK_THREAD_CPUTIME_ID = 3;
const timespec = Buffer.alloc(16);
function threadCpuSeconds(): number {
  native().clock_gettime(CLOCK_THREAD_CPUTIME_ID, timespec);
  return Number(timespec.readBigInt64LE(0)) + Number(timespec.readBigInt64LE(8)) / 1e9;
}

/** Wait (blocking this thread only) for the configuration, which follows once the program is loaded. */
function configuration(data: DrainThreadData): DrainConfig | undefined {
  const flag = new Int32Array(data.shared);
  for (;;) {
    const m = receiveMessageOnPort(data.port);
    if (m) {
      const msg = m.message as ToDrainThread;
      return msg.op === 'configure' ? msg.config : undefined;
    }
    Atomics.wait(flag, SHARED_CONFIGURED, 0, 100);
  }
}

if (!isMainThread) {
  const data = workerData as DrainThreadData;
  // Bind libbpf/libc now, while the main thread is still loading the program; name the thread (ps, top, stats).
  native().prctl_name(PR_SET_NAME, 'capc-capture', 0, 0, 0);
  const cfg = configuration(data);
  if (cfg) new DrainThread(data.port, cfg, data.shared).run();
  data.port.close();
}
