// runtime/session/printf-handoff.ts — the session's side of the printf thread
// (runtime/format/printf-thread.ts), which drains, formats and writes the
// events ring while probes run: starting it once probes are attached, reading
// the control ring while the thread owns the events ring, and taking the ring
// back at the end, on a closed output or when the session fails.
//
// The thread reads no further than the first control record the main thread
// has not taken. Each one taken pauses it after the printf records made before
// that record; the record's output goes behind their text; the thread resumes
// once all are applied. At the end (finishing) the thread stops where the main
// thread's drain would have stopped, and the main thread's path reads the rest.
import { CapcError } from '../errors.js';
import type { NativePrintf } from '../format/native-printf.js';
import { PrintfThread, type DirectOutput, type PrintfThreadStats } from '../format/printf-thread.js';
import type { RingReader } from '../ring/ringbuf.js';
import { readControl, type ControlRecord } from './control.js';

/** What the session lends the handoff for one drain. */
export interface DrainHost {
  events: RingReader;
  ctl: RingReader | undefined;
  /** Set once the probes are detached: this drain is one of the last. */
  finishing: boolean;
  /** Most records the main thread's path reads in one pass (when it has the ring). */
  maxRecords: number;
  /** The main thread's drain of the events ring, up to producer position `until`. */
  drainEvents(until: number, max?: number): number;
  applyControl(rec: ControlRecord): void;
}

export class PrintfHandoff {
  private thread: PrintfThread | undefined;
  /** What the thread did, once it stopped (the session's statistics). */
  stats: PrintfThreadStats | undefined;

  constructor(private readonly direct: DirectOutput) {}

  /** Whether the thread owns the events ring now. */
  get running(): boolean {
    return !!this.thread;
  }

  /**
   * From here on the events ring is the thread's, and what Node would write to the output goes through it; it
   * writes nothing itself until Node's stream has written what it already held. Nothing changes if it cannot start.
   */
  async start(native: NativePrintf, events: RingReader, ctl: RingReader, drainMs: number): Promise<void> {
    this.thread = PrintfThread.start(native, events, ctl, this.direct, drainMs);
    if (!this.thread) return;
    await this.direct.drained();
    this.thread?.release();
  }

  /** A session that failed while the thread ran: it stops after what the ring holds now. */
  abandon(events: RingReader): void {
    if (!this.thread) return;
    this.thread.pause(events.producerPosition());
    this.end();
  }

  /** Drain the control ring while the thread owns the events ring; returns the records the main thread read. */
  drain(host: DrainHost): number {
    const eventsEnd = host.events.producerPosition();
    let n = 0;
    let paused = false;
    n +=
      host.ctl?.drain((_d, view, off) => {
        const rec = readControl(view, off);
        if (this.thread) {
          paused = true;
          if (!this.thread.pause(rec.pos)) this.end(); // handed back: the main thread's from here
        }
        if (!this.thread) n += host.drainEvents(rec.pos);
        host.applyControl(rec);
        this.direct.flush(); // its output, behind the thread's text so far
      }) ?? 0;
    if (this.thread && host.finishing) {
      this.thread.pause(eventsEnd); // (handed back or not: stopped before the same record)
      this.end();
    } else if (paused) this.thread?.resume();
    this.check();
    if (!this.thread) n += host.drainEvents(eventsEnd, host.finishing ? Infinity : host.maxRecords);
    return n;
  }

  /** The thread is paused before its next record: stop it, and the main thread's path takes over from there. */
  private end(): void {
    const t = this.thread;
    if (!t) return;
    this.thread = undefined;
    this.stats = t.stop();
  }

  /** What the thread met writing: EPIPE stops the session as Node's own EPIPE does; another error fails it. */
  private check(): void {
    const st = this.thread?.status();
    if (!st) return;
    if (st.closed) this.direct.closed();
    if (st.error) {
      this.end();
      throw new CapcError('E0906', `cannot write the output: ${st.error}`);
    }
  }
}
