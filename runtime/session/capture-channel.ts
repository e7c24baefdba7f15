// runtime/session/capture-channel.ts — the userspace half of payload capture
// for one session: reads the capture sink (ring buffer or perf buffer), puts
// bytes back in stream order, runs the kernel flusher on a timer so quiet
// connections' partial batches arrive within the idle bound, and at exit
// flushes everything and reports totals next to the kernel's drop counters.
import fs from 'node:fs';
import type { Manifest, ManifestCapture } from '../../compiler/index.js';
import { testRun, testRunWithResult } from '../bpf/attach.js';
import { readCounter } from '../bpf/maps-reader.js';
import type { BpfObject } from '../bpf/object.js';
import { decodeCaptureRecord } from '../capture/records.js';
import { Streams } from '../capture/streams.js';
import type { Renderer } from '../events/model.js';
import { PerfReader } from '../ring/perfbuf.js';
import { RingReader } from '../ring/ringbuf.js';

export class CaptureChannel {
  private readonly reader: RingReader | PerfReader;
  private readonly streams: Streams;
  private readonly flushFd: number;
  private lastFlush = 0;
  readonly flushPeriodMs: number;
  flushErrors = 0;

  constructor(
    private readonly manifest: Manifest,
    private readonly cap: ManifestCapture,
    obj: BpfObject,
    private readonly renderer: Renderer,
  ) {
    const fd = obj.mapFd(cap.sink.map);
    this.reader =
      cap.sink.kind === 'perfbuf'
        ? new PerfReader(cap.sink.map, fd, cap.sink.size)
        : new RingReader(cap.sink.map, fd, cap.sink.size);
    this.streams = new Streams(cap, (e) => renderer.event(e));
    this.flushFd = obj.program(cap.flushProgram).fd;
    this.flushPeriodMs = Math.max(5, Math.floor(cap.idleFlushMs / 2));
  }

  /** The sink when it is a ring buffer (the UI samples its fill); undefined for perf buffers. */
  get ringSink(): RingReader | undefined {
    return this.reader instanceof RingReader ? this.reader : undefined;
  }

  /** The fd to wait on for wake-ups. */
  get fd(): number {
    return this.reader.fd;
  }

  /** Read at most `max` records (ring buffer sinks; a perf buffer is read whole). */
  drain(max = Infinity): number {
    const onRecord = (data: Uint8Array, view: DataView, off: number, len: number) => {
      const rec = decodeCaptureRecord(data, view, off, len);
      if (rec) this.streams.add(rec);
    };
    return this.reader instanceof RingReader ? this.reader.drain(onRecord, max) : this.reader.drain(onRecord);
  }

  /** Called from the session loop: idle flush on its period, stalled gaps resolved. */
  tick(now = Date.now()): void {
    if (now - this.lastFlush >= this.flushPeriodMs) {
      this.lastFlush = now;
      if (testRun(this.flushFd, [BigInt(this.cap.idleFlushMs) * 1_000_000n, 0n])) this.flushErrors++;
    }
    this.streams.tick(now);
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
  finish(statsFd: number): void {
    // Final pass: flush every batch and send every connection's totals. A full sink
    // makes the flusher keep those connections; drain and pass again.
    for (let pass = 0; pass < 20; pass++) {
      const { retval } = testRunWithResult(this.flushFd, [0n, 1n]);
      this.drain();
      if (retval === 0) break;
    }
    this.streams.finish();
    const count = (kind: string) =>
      this.manifest.counters
        .filter((c) => c.kind === kind)
        .reduce((n, c) => n + Number(readCounter(statsFd, c.index)), 0);
    const t = this.streams.totals;
    const perfLost = this.reader instanceof PerfReader ? this.reader.lost : 0;
    this.renderer.event({
      kind: 'capture-summary',
      connections: t.connections,
      bytes: t.bytes,
      records: t.records,
      lostBytes: t.lostBytes,
      droppedBytes: count('capture-drop-bytes'),
      droppedRecords: count('capture-drop-records') + perfLost,
      refusedConnections: count('conn-table-full'),
      unpairedReturns: count('unpaired-return'),
      identityUnknown: count('identity-unknown'),
      probed: [...new Set(this.cap.sites.map((x) => x.probe))],
    });
  }

  /** Consumer-side numbers for CAPC_STATS_FILE. */
  stats(): { sink: string; records: number; ringBytes: number; payloadBytes: number } {
    const t = this.streams.totals;
    return {
      sink: this.cap.sink.map,
      records: this.reader.records,
      ringBytes: this.reader.ringBytes,
      payloadBytes: t.bytes[0] + t.bytes[1],
    };
  }

  close(): void {
    this.reader.close();
  }
}
