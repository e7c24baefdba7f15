// runtime/capture/drain-protocol.ts — the messages between the main thread
// and the capture thread (runtime/capture/drain-thread.ts), in one place.
import type { MessagePort } from 'node:worker_threads';
import type { DirectStreamBytes, PayloadNeed } from '../events/model.js';
import type { EntryHandler } from './batch.js';

/** Given when the thread is spawned (before the program is loaded, so its start-up overlaps the load). */
export interface DrainThreadData {
  /** Two BigInt64 counters (bytes of batches handed over, bytes taken by the main thread), then an Int32 "configured" flag. */
  shared: SharedArrayBuffer;
  port: MessagePort;
}

/**
 * Where a capture record keeps what the thread reads: compiler/manifest.ts
 * CAPTURE_RECORD (byte offsets) and CAPTURE_KIND.data, sent by the main
 * thread so the thread does not load the compiler's contract itself.
 */
export interface RecordLayout {
  size: number;
  len: number;
  kind: number;
  conn: number;
  offset: number;
  dir: number;
  /** Kernel time of the record's last fragment (u64): a merged entry takes its last record's. */
  tsLast: number;
  /** The `kind` of a data record. */
  dataKind: number;
}

/** The first message: what to read and what to do with it. */
export interface DrainConfig {
  /** The capture ring: map name, fd (shared by both threads: same process), size. */
  name: string;
  fd: number;
  size: number;
  payload: PayloadNeed;
  record: RecordLayout;
  /** Stream files are written by the thread (their fds come in 'adopt' messages). */
  files: boolean;
  /** Longest wait between drains of a ring that is filling (ms). */
  drainMs: number;
  /** The per-CPU counters map and the index of the capture sink's dropped-bytes counter (to size bursts). */
  statsFd: number;
  dropBytesIndex: number;
  /**
   * The kernel's idle flush (the capture's flush program, its fd), run by the native drain's thread every
   * `periodMs` with `idleNs` as its argument, so the main thread need not wake for it. The JavaScript drain
   * does not take it: the session runs the flush then (capture-channel.ts tick).
   */
  flush?: { fd: number; periodMs: number; idleNs: number };
}

/** Layout of DrainThreadData.shared: two BigInt64 counters, then Int32 slots. */
export const SHARED_BYTES = 24;
/** Int32 index: set once the configuration is posted. */
export const SHARED_CONFIGURED = 4;
/** Int32 index: messages posted to the thread so far (it looks at its port only when this moved). */
export const SHARED_POSTED = 5;

export type ToDrainThread =
  | { op: 'configure'; config: DrainConfig }
  | { op: 'adopt'; conn: number; dir: number; fd: number; base: number }
  | { op: 'skip'; conn: number; dir: number }
  | { op: 'release'; conn: number; dir: number }
  /** Drain everything the ring holds now, then answer 'synced'. */
  | { op: 'sync'; id: number }
  /** Drain the rest, close what is open, answer 'stopped' and exit. */
  | { op: 'stop' };

export type FromDrainThread =
  /** Configured, ring mapped: draining from now on. `cpu`: the thread's CPU seconds so far (its start-up). */
  | { t: 'ready'; cpu: number }
  /** Batches (see batch.ts), each `used` bytes long; running totals of ring records and bytes read. */
  | {
      t: 'batch';
      bufs: ArrayBuffer[];
      used: number[];
      records: number;
      ringBytes: number;
      stalls: number;
      /** The largest burst so far: ring bytes waiting at once, plus what the kernel dropped meanwhile. */
      peakBurst: number;
    }
  | { t: 'synced'; id: number }
  /** `cpu`: the thread's CPU seconds in all. */
  | { t: 'stopped'; cpu: number }
  | { t: 'error'; message: string };

/**
 * The main thread's handle on whichever drain reads the capture ring: the
 * native one (native-drain.ts) or the JavaScript worker (drain-client.ts).
 */
export interface CaptureDrain extends DirectStreamBytes {
  /** Ring records read and ring bytes they took. */
  records: number;
  ringBytes: number;
  /** Times the drain stopped because the main thread had not taken its batches (backpressure). */
  stalls: number;
  /** The largest burst seen (ring bytes waiting + dropped meanwhile): the ring that would have held it. */
  peakBurst: number;
  /** The drain thread's CPU seconds: when it was ready (its start-up), and in all (once stopped). */
  cpuAtReady: number;
  cpu: number;
  /** An fd the session's poller waits on: readable when batches were handed over (native drain only). */
  readonly notifyFd?: number;
  /** True for the native drain. */
  readonly native?: boolean;
  ready(): Promise<void>;
  configure(config: DrainConfig, onEntry: EntryHandler): void;
  /** Entries handed on since the last call; throws the drain's failure. */
  take(): number;
  /** Resolves once every record the ring held when called has been handed on. */
  sync(): Promise<void>;
  stop(): Promise<void>;
  terminate(): Promise<void>;
}
