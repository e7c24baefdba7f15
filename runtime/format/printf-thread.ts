// runtime/format/printf-thread.ts — the events ring read, formatted and
// written by a pthread of the native library (runtime/native/capc-printf-thread.c)
// instead of Node's main thread, so printf output never waits for the event
// loop (GC, timers, stdout's queue). Used only where the main-thread native
// formatter (native-printf.ts) would be used and the output is a file
// descriptor capc owns for text (stdout or -o: DirectOutput), with nothing
// else writing there while probes run but what is ordered by control records
// (the session pauses the thread at each one's position, see session.ts) —
// so no capture, exporter or terminal UI. While the thread runs, everything
// Node would write to that output goes through the thread (one writer).
import os from 'node:os';
import { nativeDrain, isUnavailable, type NativeDrainLib } from '../ffi/drain.js';
import type { RingReader } from '../ring/ringbuf.js';
import type { NativePrintf } from './native-printf.js';

/** The text output's file descriptor, as `capc run` hands it to the session (runtime/cli/run.ts). */
export interface DirectOutput {
  /** stdout's or the -o file's descriptor. */
  readonly fd: number;
  /** Hand what the output has gathered (batched-out.ts) to its sink now. */
  flush(): void;
  /** From now on the sink's bytes go to `to` (undefined: back to Node's stream or the file). */
  divert(to: ((d: Buffer) => void) | undefined): void;
  /** Bytes to the sink (after divert(undefined): Node's stream). */
  write(d: Buffer): void;
  /** Resolves once Node's stream holds nothing it has not written. */
  drained(): Promise<void>;
  /** The output was closed under the thread (EPIPE): stop as for Node's own EPIPE. */
  closed(): void;
}

export interface PrintfThreadStats {
  records: number;
  ringBytes: number;
  bytesWritten: number;
  writes: number;
  wakeups: number;
  /** Times a write found the output full (EAGAIN) and waited. */
  fullWaits: number;
  cpuSeconds: number;
  writeErr: number;
  handedBack: boolean;
}

const EPIPE = os.constants.errno.EPIPE;
const errnoName = (n: number) => Object.entries(os.constants.errno).find(([, v]) => v === n)?.[0] ?? `errno ${n}`;
const LEFTOVER_CHUNK = 1 << 20;

/** CAPC_PRINTF_NICE=N (-20..19, for measurements): the printf thread's nice value; 0 (inherited) otherwise. */
function niceValue(): number {
  const v = Number(process.env.CAPC_PRINTF_NICE ?? 0);
  return Number.isInteger(v) && v >= -20 && v <= 19 ? v : 0;
}

export class PrintfThread {
  private stopped: PrintfThreadStats | undefined;

  private constructor(
    private readonly lib: NativeDrainLib,
    private readonly t: unknown,
    private readonly reader: RingReader,
    private readonly out: DirectOutput,
  ) {}

  /**
   * Start draining `reader` on the thread, for `out` (never past the first
   * record of `control` the main thread has not taken): Node's writes to `out`
   * go through the thread from now on, and the thread writes nothing until
   * release() says Node's stream has written what it held. Undefined if
   * the library or the thread is not there: the caller keeps the main thread's path.
   */
  static start(
    printf: NativePrintf,
    reader: RingReader,
    control: RingReader,
    out: DirectOutput,
    drainMs: number,
  ): PrintfThread | undefined {
    const lib = nativeDrain();
    if (isUnavailable(lib)) return undefined;
    const m = reader.mapped;
    const c = control.mapped;
    out.flush();
    const t = lib.printfThreadStart(
      printf.prog,
      reader.fd,
      m.consumerPage,
      m.producerPage,
      m.page,
      reader.size,
      c.consumerPage,
      c.producerPage,
      control.size,
      out.fd,
      drainMs,
      niceValue(),
    );
    if (!t) return undefined;
    const thread = new PrintfThread(lib, t, reader, out);
    out.divert((d) => thread.write(d));
    return thread;
  }

  /** Node's side of the output has written everything it held: the thread may write. */
  release(): void {
    this.lib.printfThreadRelease(this.t);
  }

  /** Everything before producer position `until` is formatted and the thread waits; false if it handed the ring back. */
  pause(until: number): boolean {
    return this.lib.printfThreadPause(this.t, until) === 0;
  }

  resume(): void {
    this.lib.printfThreadResume(this.t);
  }

  private write(d: Buffer): void {
    if (d.length && this.lib.printfThreadWrite(this.t, d, d.length) !== 0) throw new Error('out of memory');
  }

  /** The output's state: EPIPE (closed), another write error, or the ring handed back (a record kind it does not know). */
  status(): { closed: boolean; error?: string; handedBack: boolean } {
    const s = this.stats();
    return {
      closed: s.writeErr === EPIPE,
      error: s.writeErr && s.writeErr !== EPIPE ? errnoName(s.writeErr) : undefined,
      handedBack: s.handedBack,
    };
  }

  stats(): PrintfThreadStats {
    if (this.stopped) return this.stopped;
    const s = {} as Record<string, number | bigint>;
    this.lib.printfThreadStats(this.t, s);
    const n = (k: string) => Number(s[k]);
    return {
      records: n('records'),
      ringBytes: n('ring_bytes'),
      bytesWritten: n('bytes_written'),
      writes: n('writes'),
      wakeups: n('wakeups'),
      fullWaits: n('full_waits'),
      cpuSeconds: n('cpu_ns') / 1e9,
      writeErr: n('write_err'),
      handedBack: n('handed_back') !== 0,
    };
  }

  /**
   * End the thread (after pause(): it reads nothing more), give the output
   * back to Node with what the thread could not write yet, and count what
   * it read in the reader's numbers.
   */
  stop(): PrintfThreadStats {
    if (this.stopped) return this.stopped;
    this.out.flush();
    this.lib.printfThreadStop(this.t);
    const s = this.stats();
    this.stopped = s;
    this.reader.account(s.records, s.ringBytes);
    this.out.divert(undefined);
    const n = this.lib.printfThreadLeftover(this.t, null, 0) as number;
    if (n) {
      const b = Buffer.allocUnsafe(n);
      this.lib.printfThreadLeftover(this.t, b, n);
      for (let at = 0; at < n; at += LEFTOVER_CHUNK) this.out.write(b.subarray(at, Math.min(n, at + LEFTOVER_CHUNK)));
    }
    this.lib.printfThreadFree(this.t);
    return s;
  }
}
