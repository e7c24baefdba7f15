// runtime/ring/perfbuf.ts — reads a perf event array (the perfbuf sink, for
// kernels without BPF ring buffers) through libbpf's perf_buffer: one buffer
// per CPU, a callback per record, and the kernel's own count of records it
// could not write (lost samples), which capc reports like ring drops (R11).
import { koffiRegister, koffiView, native, type Ptr } from '../ffi/libbpf.js';

export type PerfRecord = (data: Uint8Array, view: DataView, offset: number, length: number) => void;

export class PerfReader {
  private pb: Ptr | null;
  private handler: PerfRecord = () => {};
  private readonly callbacks: unknown[];
  /** Records the kernel could not write (perf's lost-sample counts). */
  lost = 0;
  readonly fd: number;
  records = 0;
  /** Bytes the records took in the perf buffers (8-byte perf header + size field + data, rounded to 8). */
  ringBytes = 0;

  constructor(
    readonly name: string,
    mapFd: number,
    bytesPerCpu: number,
  ) {
    const n = native();
    const sample = koffiRegister(
      ((_ctx: unknown, _cpu: number, data: unknown, size: number) => {
        const buf = new Uint8Array(koffiView(data, size));
        this.handler(buf, new DataView(buf.buffer, buf.byteOffset, buf.byteLength), 0, size);
      }) as never,
      n.PerfSampleFn,
    );
    const lost = koffiRegister(
      ((_ctx: unknown, _cpu: number, cnt: bigint | number) => {
        this.lost += Number(cnt);
      }) as never,
      n.PerfLostFn,
    );
    this.callbacks = [sample, lost];
    const pages = Math.max(1, Math.floor(bytesPerCpu / 4096));
    this.pb = n.perf_buffer_new(mapFd, pages, sample, lost, null, null);
    if (!this.pb) throw new Error(`cannot open perf buffer ${name}`);
    this.fd = n.perf_buffer_epoll_fd(this.pb) as number;
  }

  drain(onRecord: PerfRecord): number {
    if (!this.pb) return 0;
    let count = 0;
    this.handler = (d, v, o, l) => {
      count++;
      this.records++;
      this.ringBytes += (l + 12 + 7) & ~7;
      onRecord(d, v, o, l);
    };
    native().perf_buffer_consume(this.pb);
    this.handler = () => {};
    return count;
  }

  close(): void {
    if (this.pb) native().perf_buffer_free(this.pb);
    this.pb = null;
    void this.callbacks;
  }
}
