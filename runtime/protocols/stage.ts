// runtime/protocols/stage.ts — decoding as a stage between the capture
// reader and the outputs: it watches the captured streams (data, loss
// markers, ends) go by, keeps one ConnectionDecoder per connection, and adds
// an `exchange` event for each request/response pair. The raw capture
// events pass on unchanged (or are held back when only exchanges are wanted).
// At the capture summary it ends the connections still open and adds the
// decoding totals. No I/O.
import type { CapEvent, ConnInfo, Renderer } from '../events/model.js';
import { ConnectionDecoder, type ConnIdentity, type DecodeOptions } from './connection.js';
import type { Stamp } from './exchange.js';

/**
 * IDENTITY: the kernel timestamp of a record's last fragment, once records
 * carry it (`tsLast`); until then the first fragment's stands for both.
 */
function stampOf(e: { ts: bigint }): Stamp {
  const last = (e as { tsLast?: bigint }).tsLast;
  return { first: e.ts, last: last ?? e.ts };
}

/** IDENTITY: the connection's addresses, once ConnInfo carries them. */
function identityOf(c: ConnInfo): ConnIdentity {
  const k = c as ConnInfo & Partial<Pick<ConnIdentity, 'local' | 'peer'>>;
  return { id: c.id, pid: c.pid, comm: c.comm, local: k.local ?? null, peer: k.peer ?? null };
}

export class DecodeStage implements Renderer {
  private readonly conns = new Map<number, ConnectionDecoder>();
  private readonly recognised: Record<string, number> = {};
  private unrecognised = 0;
  private exchanges = 0;
  private notDecoded = 0;
  private skipped = 0;

  private opts: DecodeOptions | undefined;

  /**
   * `raw`: pass the raw capture events (data, loss, end) on as well. Until
   * configure() is called with protocols, every event passes unchanged.
   */
  constructor(
    private readonly inner: Renderer,
    private readonly raw = true,
  ) {}

  /** Decode these protocols (undefined: decode nothing, pass everything on). */
  configure(opts: DecodeOptions | undefined): void {
    this.opts = opts;
  }

  get active(): boolean {
    return this.opts !== undefined;
  }

  private decoder(c: ConnInfo): ConnectionDecoder {
    let d = this.conns.get(c.id);
    if (!d) {
      d = new ConnectionDecoder(identityOf(c), this.opts!, (x) => this.inner.event({ kind: 'exchange', x }));
      this.conns.set(c.id, d);
    }
    // The process name can change (exec) after the first record.
    d.conn.comm = c.comm;
    return d;
  }

  event(e: CapEvent): void {
    if (!this.opts) return this.inner.event(e);
    switch (e.kind) {
      case 'capture':
        if (this.raw) this.inner.event(e);
        this.decoder(e.conn).data(e.dir, e.data, stampOf(e));
        return;
      case 'capture-loss':
        if (this.raw) this.inner.event(e);
        this.decoder(e.conn).loss(e.dir, e.bytes);
        return;
      case 'capture-end': {
        const d = this.conns.get(e.conn.id);
        if (d) {
          d.end(e.closed ? 'the connection closed before the response' : 'its process exited before the response');
          this.retire(d);
        }
        if (this.raw) this.inner.event(e);
        return;
      }
      case 'capture-summary':
        for (const d of this.conns.values()) {
          d.end('capc stopped before the response');
          this.retire(d);
        }
        this.inner.event(e);
        this.inner.event({
          kind: 'decode-summary',
          recognised: this.recognised,
          unrecognised: this.unrecognised,
          exchanges: this.exchanges,
          notDecoded: this.notDecoded,
          skippedBytes: this.skipped,
        });
        return;
      default:
        this.inner.event(e);
    }
  }

  private retire(d: ConnectionDecoder): void {
    this.conns.delete(d.conn.id);
    if (d.protocol && d.recognised) this.recognised[d.protocol] = (this.recognised[d.protocol] ?? 0) + 1;
    else this.unrecognised++;
    this.exchanges += d.exchanges;
    this.notDecoded += d.notDecoded;
    this.skipped += d.skipped;
  }

  end(): void {
    this.inner.end();
  }
}
