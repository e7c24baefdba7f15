// runtime/output/text.ts — plain text output, laid out as bpftrace prints it:
// "Attaching N probes...", printf output as-is, and at exit two blank lines
// then every non-empty map in name order. Drops and full maps are reported
// on stderr with what to do about them.
import type { CapEvent, ConnInfo, PayloadNeed, Renderer } from '../events/model.js';
import { mapText } from '../format/maps.js';
import { DIR_NAME, escapePayload, hexDump, humanBytes } from '../format/payload.js';

export interface Out {
  /** Bytes, or text as UTF-8. */
  write(data: Buffer | string): void;
  /** Bytes as a latin1 string (one character per byte), when the output can batch them. */
  writeLatin1?(bytes: string): void;
}

/** A size as the size options take it: 32M, 4K. */
function sizeArg(n: number): string {
  if (n % 2 ** 30 === 0) return `${n / 2 ** 30}G`;
  if (n % 2 ** 20 === 0) return `${n / 2 ** 20}M`;
  return `${Math.ceil(n / 1024)}K`;
}

function who(c: ConnInfo): string {
  return `conn ${c.id} ${c.comm}[${c.pid}] key 0x${c.key.toString(16)}`;
}

export class TextRenderer implements Renderer {
  /**
   * `payload` false (with --write-streams: the bytes are in the files) shows
   * no captured bytes, only each connection's losses and end.
   */
  constructor(
    private readonly out: Out,
    private readonly err: Out,
    private readonly quiet: boolean,
    private readonly hex = false,
    private readonly payload = true,
  ) {}

  payloadNeed(): PayloadNeed {
    return this.payload ? 'all' : 'none';
  }

  event(e: CapEvent): void {
    switch (e.kind) {
      case 'attaching':
        if (!this.quiet) this.out.write(`Attaching ${e.probes} probe${e.probes === 1 ? '' : 's'}...\n`);
        return;
      case 'detaching':
        if (!this.quiet) this.err.write(`Detaching ${e.probes} probe${e.probes === 1 ? '' : 's'}...\n`);
        return;
      case 'printf':
        if (e.latin1 !== undefined && this.out.writeLatin1) this.out.writeLatin1(e.latin1);
        else this.out.write(e.text);
        return;
      case 'lost':
        this.err.write(
          `warning[W0901]: ${e.count} event${e.count === 1 ? '' : 's'} lost: ring buffer ${e.ring} was full\n  = hint: raise its size with --ringbuf-size or config = { ringbuf_size = ... }\n`,
        );
        return;
      case 'map-full':
        this.err.write(
          `warning[W0902]: ${e.count} update${e.count === 1 ? '' : 's'} of ${e.map} failed: the map is full (${e.maxEntries} entries)\n  = hint: raise the limit with --max-map-keys or config = { max_map_keys = ... }\n`,
        );
        return;
      case 'loop-limit':
        this.err.write(
          `warning[W0904]: the while loop at ${e.where} stopped ${e.count} time${e.count === 1 ? '' : 's'} at its limit of ${e.limit} iterations\n  = hint: raise it with config = { loop_limit = ... }\n`,
        );
        return;
      case 'capture': {
        if (!this.payload) return;
        const arrow = e.dir === 0 ? '>>>' : '<<<';
        const len = e.len ?? e.data.length;
        if (e.data.length < len) {
          // Bytes no output kept (the terminal UI's closing output: older than what it holds).
          this.out.write(`${arrow} ${who(e.conn)} ${DIR_NAME[e.dir]} ${len} bytes at ${e.offset} (not kept)\n`);
          return;
        }
        const body = this.hex ? Buffer.from(hexDump(e.data, e.offset)) : escapePayload(e.data);
        const nl = body.length && body[body.length - 1] === 0x0a ? '' : '\n';
        this.out.write(
          Buffer.concat([
            Buffer.from(`${arrow} ${who(e.conn)} ${DIR_NAME[e.dir]} ${e.data.length} bytes at ${e.offset}\n`),
            body,
            Buffer.from(nl),
          ]),
        );
        return;
      }
      case 'capture-loss':
        this.out.write(`!!! ${who(e.conn)} ${DIR_NAME[e.dir]}: ${e.bytes} bytes lost at offset ${e.offset}\n`);
        return;
      case 'capture-end':
        this.out.write(
          `--- ${who(e.conn)} ${e.closed ? 'closed' : e.exited ? 'ended: its process exited' : 'still open at exit'}: ${e.bytes[0]} bytes out, ${e.bytes[1]} in${e.lost[0] + e.lost[1] ? `, ${e.lost[0] + e.lost[1]} lost` : ''}\n`,
        );
        return;
      case 'capture-summary': {
        const lost = e.lostBytes || e.droppedBytes || e.refusedConnections;
        const line = `capture: ${e.connections} connection${e.connections === 1 ? '' : 's'}, ${humanBytes(e.bytes[0])} out, ${humanBytes(e.bytes[1])} in, ${e.records} records`;
        if (!lost) {
          if (!this.quiet) this.err.write(`${line}, nothing lost\n`);
          return;
        }
        const ring = e.neededRing ? sizeArg(e.neededRing) : '16M';
        const hint = e.neededRing
          ? `a capture ring of ${humanBytes(e.neededRing)} would have held the largest burst (the ring is ${humanBytes(e.ringSize ?? 0)}): -> ringbuf(${ring}) or --capture-ring-size ${ring}`
          : `raise the capture ring (-> ringbuf(${ring}), --capture-ring-size) or max_connections`;
        this.err.write(
          `warning[W0903]: ${line}; ${e.lostBytes} bytes missing from streams, kernel dropped ${e.droppedBytes} bytes in ${e.droppedRecords} records${e.refusedConnections ? `, ${e.refusedConnections} fragments of connections the table had no room for` : ''}\n  = hint: ${hint}\n`,
        );
        return;
      }
      case 'maps':
        if (e.atExit) this.out.write('\n\n');
        for (const m of [...e.maps].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
          if (m.entries.length) this.out.write(mapText(m, { top: e.top, div: e.div }));
        }
        return;
      case 'time':
        this.out.write(e.text);
        return;
      case 'join':
      case 'value':
        this.out.write(Buffer.concat([e.text, Buffer.from('\n')]));
        return;
    }
  }

  end(): void {}
}
