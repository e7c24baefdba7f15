// runtime/capture/drain-protocol.ts — the messages between the main thread
// and the capture thread (runtime/capture/drain-thread.ts), in one place.
import type { MessagePort } from 'node:worker_threads';
import type { PayloadNeed } from '../events/model.js';

export interface DrainThreadData {
  /** The capture ring: map name, fd (shared by both threads: same process), size. */
  name: string;
  fd: number;
  size: number;
  payload: PayloadNeed;
  /** Stream files are written by the thread (their fds come in 'adopt' messages). */
  files: boolean;
  /** Longest wait between drains of a quiet ring (ms). */
  drainMs: number;
  /** Two BigInt64 counters: bytes of batches handed over, bytes taken by the main thread. */
  shared: SharedArrayBuffer;
  port: MessagePort;
}

export type ToDrainThread =
  | { op: 'adopt'; conn: number; dir: number; fd: number }
  | { op: 'skip'; conn: number; dir: number }
  | { op: 'release'; conn: number; dir: number }
  /** Drain everything the ring holds now, then answer 'synced'. */
  | { op: 'sync'; id: number }
  /** Drain the rest, close what is open, answer 'stopped' and exit. */
  | { op: 'stop' };

export type FromDrainThread =
  | { t: 'batch'; buf: ArrayBuffer; used: number; records: number; ringBytes: number; stalls: number }
  | { t: 'synced'; id: number }
  | { t: 'stopped' }
  | { t: 'error'; message: string };
