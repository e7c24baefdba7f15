// runtime/session/capture-channel.ts — the userspace half of payload capture
// for one session: reads the capture sink, puts bytes back in stream order,
// runs the kernel flusher on a timer so quiet connections' partial batches
// arrive within the idle bound, and at exit flushes everything and reports
// totals next to the kernel's drop counters. A ring-buffer sink is read by
// the capture thread (runtime/capture/drain-thread.ts), which also writes
// the stream files; the main thread gets what the outputs need and keeps
// stream order here. A perf-buffer sink (or CAPC_CAPTURE_INLINE=1, to
// measure against) is read on the main thread as before.
import fs from 'node:fs';
import { CAPTURE_KIND, CAPTURE_RECORD, type Manifest, type ManifestCapture } from '../../compiler/index.js';
import { testRun, testRunWithResult } from '../bpf/attach.js';
import { readCounter } from '../bpf/maps-reader.js';
import type { BpfObject } from '../bpf/object.js';
import { DrainClient } from '../capture/drain-client.js';
import type { CaptureDrain } from '../capture/drain-protocol.js';
import { NativeDrainClient } from '../capture/native-drain.js';
import { isUnavailable, nativeDrain } from '../ffi/drain.js';
import { warnOnce } from '../files/trust-warnings.js';
import { decodeCaptureRecord } from '../capture/records.js';
import { Streams } from '../capture/streams.js';
import type { Renderer } from '../events/model.js';
import { PerfReader } from '../ring/perfbuf.js';
import { RingFill, RingReader } from '../ring/ringbuf.js';
import type { SampledRing } from './snapshot.js';

/** The record fields the capture thread reads (drain-protocol.ts RecordLayout). */
const { len, kind, conn, offset, dir, tsLast } = CAPTURE_RECORD.fields;
const RECORD_FIELDS = { len, kind, conn, offset, dir, tsLast };

export interface CaptureChannelOptions {
  /** Longest wait between drains of a quiet ring (ms). */
  drainMs: number;
  /** The counters map (R11), to size bursts from the kernel's drop count. */
  statsFd: number;
}

export class CaptureChannel {
  /** Read on this thread: perf buffers (and rings under CAPC_CAPTURE_INLINE=1, to measure against). */
  private readonly reader: RingReader | PerfReader | undefined;
  /** Read by the capture thread (native, or the JavaScript worker). */
  private readonly thread: CaptureDrain | undefined;
  /** The ring, mapped here only to sample its fill (the terminal UI shows it). */
  private readonly observer: RingFill | undefined;
  private readonly streams: Streams;
  private readonly flushFd: number;
  private lastFlush = 0;
  readonly flushPeriodMs: number;
  /** The native drain's thread runs the idle flush itself: the session loop need not wake for it. */
  readonly flushedByThread: boolean;
  flushErrors = 0;

  /**
   * The capture thread for `cap`: the native drain (runtime/native/), or,
   * when its library is missing or not trusted (W0911) or CAPC_CAPTURE_DRAIN=js
   * asks for it, the JavaScript worker, spawned before the program is loaded
   * so that its start-up (a worker isolate, ~50 ms of CPU) overlaps the load;
   * undefined when the sink is read on the main thread.
   */
  static startThread(cap: ManifestCapture): CaptureDrain | undefined {
    if (cap.sink.kind !== 'ringbuf' || process.env.CAPC_CAPTURE_INLINE === '1') return undefined;
    if (process.env.CAPC_CAPTURE_DRAIN !== 'js') {
      const lib = nativeDrain();
      if (!isUnavailable(lib)) return new NativeDrainClient(lib);
      warnOnce('W0911', `capc's native drain library is not used: ${lib.reason}`, [
        'the capture ring is drained by the JavaScript capture thread instead (nothing is lost, it costs more CPU)',
      ]);
    }
    return new DrainClient();
  }

  constructor(
    private readonly manifest: Manifest,
    private readonly cap: ManifestCapture,
    obj: BpfObject,
    private readonly renderer: Renderer,
    opts: CaptureChannelOptions = { drainMs: 5, statsFd: -1 },
    thread = CaptureChannel.startThread(cap),
  ) {
    const fd = obj.mapFd(cap.sink.map);
    this.streams = new Streams(cap, (e) => renderer.event(e));
    this.flushFd = obj.program(cap.flushProgram).fd;
    this.flushPeriodMs = Math.max(5, Math.floor(cap.idleFlushMs / 2));
    this.flushedByThread = !!thread?.native;
    if (!thread) {
      this.reader =
        cap.sink.kind === 'perfbuf'
          ? new PerfReader(cap.sink.map, fd, cap.sink.size)
          : new RingReader(cap.sink.map, fd, cap.sink.size);
    } else {
      // Stream files first: an output that writes them takes the thread's direct writes, then needs no bytes itself.
      const files = renderer.useDirectStreamBytes?.(thread);
      const payload = renderer.payloadNeed?.() ?? 'all';
      // Outputs that take everything use it at once (a view of the batch is enough); kept tails are copied.
      const copy = payload !== 'all';
      thread.configure(
        {
          name: cap.sink.map,
          fd,
          size: cap.sink.size,
          payload,
          record: { ...RECORD_FIELDS, size: CAPTURE_RECORD.size, dataKind: CAPTURE_KIND.data },
          files: !!files,
          drainMs: opts.drainMs,
          statsFd: opts.statsFd,
          dropBytesIndex: cap.dropBytes,
          ...(this.flushedByThread
            ? { flush: { fd: this.flushFd, periodMs: this.flushPeriodMs, idleNs: cap.idleFlushMs * 1e6 } }
            : {}),
        },
        (data, view, off, length, held, count) => {
          const rec = decodeCaptureRecord(data, view, off, length, held, copy);
          if (rec) this.streams.add(rec, Date.now(), count);
        },
      );
      this.thread = thread;
      this.observer = new RingFill(cap.sink.map, fd, cap.sink.size);
    }
  }

  /** Resolves once the sink is being read (the capture thread has started). */
  async ready(): Promise<void> {
    await this.thread?.ready();
  }

  /** The sink when it is a ring buffer (the UI samples its fill); undefined for perf buffers. */
  get ringSink(): SampledRing | undefined {
    return this.observer ?? (this.reader instanceof RingReader ? this.reader : undefined);
  }

  /** The fd the session waits on for wake-ups (the native drain's hand-overs; none for the JavaScript thread, whose batches come as messages). */
  get fd(): number | undefined {
    return this.thread ? this.thread.notifyFd : this.reader!.fd;
  }

  /**
   * Records read here since the last call, at most `max` (a ring read here;
   * a perf buffer is read whole). With the capture thread this is 0 (its
   * batches are handled as they arrive, each its own turn of the event loop,
   * so timers and exporters run between them, and the session loop need not
   * poll faster for them); the thread's failure, if any, is thrown here.
   */
  drain(max = Infinity): number {
    if (this.thread) {
      this.thread.take();
      return 0;
    }
    const onRecord = (data: Uint8Array, view: DataView, off: number, len: number) => {
      const rec = decodeCaptureRecord(data, view, off, len);
      if (rec) this.streams.add(rec);
    };
    const r = this.reader!;
    return r instanceof RingReader ? r.drain(onRecord, max) : r.drain(onRecord);
  }

  /** Everything the sink holds now has been handled. */
  async drainAll(): Promise<void> {
    if (this.thread) await this.thread.sync();
    this.drain();
  }

  /** Called from the session loop: idle flush on its period (unless the capture thread runs it), stalled gaps resolved. */
  tick(now = Date.now()): void {
    if (!this.flushedByThread && now - this.lastFlush >= this.flushPeriodMs) {
      this.lastFlush = now;
      if (testRun(this.flushFd, [BigInt(this.cap.idleFlushMs) * 1_000_000n, 0n])) this.flushErrors++;
    }
    this.streams.tick(now);
  }

  /**
   * The longest the session loop may sleep for this channel's sake (ms): the idle flush's period when the
   * loop runs it, or reads the sink itself; otherwise until the first record waiting behind a gap is due
   * (Streams.nextDue), Infinity when none waits.
   */
  idleBound(now = Date.now()): number {
    if (!this.flushedByThread || this.reader) return this.flushPeriodMs;
    return Math.max(0, this.streams.nextDue() - now);
  }

  /**
   * End the connections of processes that exited without closing them, once
   * quiet for 50 idle-flush periods (at least 5 s: by then the kernel has
   * flushed their last batch). Called about once a second.
   */
  reap(now = Date.now()): number {
    return this.streams.reap((pid) => fs.existsSync(`/proc/${pid}`), now, Math.max(5000, 50 * this.cap.idleFlushMs));
  }

  /** After the probes are detached: flush every batch, send every connection's totals, settle. */
  async finish(statsFd: number): Promise<void> {
    // Final pass: flush every batch and send every connection's totals. A full sink
    // makes the flusher keep those connections; drain and pass again.
    for (let pass = 0; pass < 20; pass++) {
      const { retval } = testRunWithResult(this.flushFd, [0n, 1n]);
      await this.drainAll();
      if (retval === 0) break;
    }
    this.streams.finish();
    const count = (kind: string) =>
      this.manifest.counters
        .filter((c) => c.kind === kind)
        .reduce((n, c) => n + Number(readCounter(statsFd, c.index)), 0);
    const t = this.streams.totals;
    const perfLost = this.reader instanceof PerfReader ? this.reader.lost : 0;
    const droppedBytes = count('capture-drop-bytes');
    const burst = this.thread?.peakBurst ?? 0;
    let neededRing: number | undefined;
    if (droppedBytes > 0 && burst > this.cap.sink.size) {
      neededRing = this.cap.sink.size;
      while (neededRing < burst) neededRing *= 2;
    }
    this.renderer.event({
      kind: 'capture-summary',
      neededRing,
      ringSize: this.cap.sink.kind === 'ringbuf' ? this.cap.sink.size : undefined,
      connections: t.connections,
      bytes: t.bytes,
      records: this.recordsRead(),
      lostBytes: t.lostBytes,
      droppedBytes,
      droppedRecords: count('capture-drop-records') + perfLost,
      refusedConnections: count('conn-table-full'),
      unpairedReturns: count('unpaired-return'),
      identityUnknown: count('identity-unknown'),
      probed: [...new Set(this.cap.sites.map((x) => x.probe))],
    });
  }

  private recordsRead(): number {
    return (this.thread ?? this.reader!).records;
  }

  /** Consumer-side numbers for CAPC_STATS_FILE. */
  stats(): {
    sink: string;
    records: number;
    ringBytes: number;
    payloadBytes: number;
    thread: boolean;
    /** Which drain read the ring: the native one, the JavaScript capture thread, or the main thread. */
    drain: 'native' | 'js' | 'main';
    stalls: number;
    /** The capture thread's CPU seconds: its start-up (before it drained), and the rest. */
    threadCpu?: { startup: number; draining: number };
    /** The largest burst the capture thread saw, in ring bytes. */
    peakBurst?: number;
  } {
    const t = this.streams.totals;
    return {
      sink: this.cap.sink.map,
      records: this.recordsRead(),
      ringBytes: (this.thread ?? this.reader!).ringBytes,
      payloadBytes: t.bytes[0] + t.bytes[1],
      thread: !!this.thread,
      drain: this.thread ? (this.thread.native ? 'native' : 'js') : 'main',
      stalls: this.thread?.stalls ?? 0,
      threadCpu: this.thread
        ? { startup: this.thread.cpuAtReady, draining: this.thread.cpu - this.thread.cpuAtReady }
        : undefined,
      peakBurst: this.thread?.peakBurst,
    };
  }

  /** After the outputs have ended: the capture thread writes what is left to the stream files and exits. */
  async stop(): Promise<void> {
    await this.thread?.stop();
  }

  async close(): Promise<void> {
    this.reader?.close();
    this.observer?.close();
    await this.thread?.terminate();
  }
}
