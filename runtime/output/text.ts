// runtime/output/text.ts — plain text output, laid out as bpftrace prints it:
// "Attaching N probes...", printf output as-is, and at exit two blank lines
// then every non-empty map in name order. Drops and full maps are reported
// on stderr with what to do about them.
import type { CapEvent, ConnInfo, MissedTls, PayloadNeed, Renderer, TlsStackInfo } from '../events/model.js';
import { exchangeLine } from '../format/exchange.js';
import { helperErrorText } from '../format/helper-error.js';
import { mapText } from '../format/maps.js';
import { connWhere, identityUnknownText } from '../format/identity.js';
import { DIR_NAME, escapePayload, escapeText, hexDump, humanBytes } from '../format/payload.js';

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

/** `conn 3 psql[812] 127.0.0.1:41712 -> 127.0.0.1:5432` (the script's key while the socket is not known). */
function who(c: ConnInfo): string {
  return `conn ${c.id} ${escapeText(c.comm)}[${c.pid}] ${connWhere(c)}`;
}

const EXPORT_HINT: Record<string, string> = {
  pcapng:
    'free space on the file system (the file stays readable up to the last packet written; missing packets show as sequence gaps)',
  metrics: 'scrapes that timed out or came too many at once were refused; scrape less often or from fewer places',
  otlp: 'the collector did not take them (unreachable, slow or refusing); check --otlp URL and the collector',
};

/** W0906: an exporter could not export everything (never silent, capture goes on). */
export function exportLossText(e: Extract<CapEvent, { kind: 'export-loss' }>): string {
  const bytes = e.bytes ? ` (${e.bytes} payload bytes)` : '';
  const why = e.reason ? `: ${e.reason}` : '';
  return `warning[W0906]: ${e.sink}: ${e.count} ${e.unit}${bytes} not exported to ${e.target}${why}\n  = hint: ${EXPORT_HINT[e.sink] ?? 'see docs/errors.md'}\n`;
}

/** One discovered TLS stack: `TLS: OpenSSL 3 in /usr/lib/.../libssl.so.3 (4 probes; pids 12, 34)`. */
export function tlsStackLine(st: TlsStackInfo, late: boolean): string {
  const pids = st.pids.length
    ? `; pid${st.pids.length === 1 ? '' : 's'} ${st.pids.slice(0, 8).join(', ')}${st.pids.length > 8 ? ', ...' : ''}`
    : '';
  return `TLS${late ? ' (new)' : ''}: ${st.name} in ${st.path} (${st.probes} probe${st.probes === 1 ? '' : 's'}${pids})`;
}

/** W0908: processes whose TLS went through stacks the program does not probe. */
export function missedText(ps: MissedTls[]): string {
  const lines = ps.slice(0, 12).map((p) => {
    const calls = Object.entries(p.calls)
      .map(([f, n]) => `${f} ${n}x`)
      .join(', ');
    return `  ${p.comm}[${p.pid}]: ${calls} in ${p.stack} (${p.path})\n    = would be captured by: ${p.probe}`;
  });
  const more = ps.length > 12 ? `\n  ... and ${ps.length - 12} more` : '';
  return `warning[W0908]: TLS traffic this program did not capture: ${ps.length} process${ps.length === 1 ? '' : 'es'} called TLS functions it does not probe\n${lines.join('\n')}${more}\n  = hint: capc run --tls (or uprobe:tls:* in the program) captures every TLS stack capc finds\n`;
}

/** W0909: a capture that ended with no connection. */
export function noConnectionText(probed: string[], missed: number): string {
  // uprobe:/usr/lib/.../libssl.so.3:SSL_write, ... -> "SSL_write, SSL_read in /usr/lib/.../libssl.so.3"
  const byFile = new Map<string, string[]>();
  for (const p of probed) {
    const m = /^u(?:ret)?probe:(.*):([^:]+)$/.exec(p);
    const [file, fn] = m ? [m[1]!, m[2]!] : ['', p];
    byFile.set(file, [...(byFile.get(file) ?? []), fn]);
  }
  const what = byFile.size
    ? [...byFile]
        .map(([file, fns]) =>
          file === 'tls'
            ? 'the TLS functions of any stack capc found'
            : `${fns.join(', ')}${file ? ` in ${file}` : ''}`,
        )
        .join('; ')
    : 'its probes';
  return `warning[W0909]: the capture saw no connection: nothing in scope called ${what} while capc ran${missed ? ' (see W0908 above for the TLS calls it missed)' : ''}\n  = hint: capc run --tls captures every TLS stack capc finds (OpenSSL, BoringSSL, GnuTLS, NSS, Go), in every process or under -c/-p\n`;
}

export class TextRenderer implements Renderer {
  /** W0908 was printed for this many processes (the no-connection warning refers to it). */
  private missed = 0;

  constructor(
    private readonly out: Out,
    private readonly err: Out,
    private readonly quiet: boolean,
    private readonly hex = false,
    /** False when payloads go only to --write-streams files (-q): no payload or per-connection lines here. */
    private readonly payloads = true,
  ) {}

  payloadNeed(): PayloadNeed {
    return this.payloads ? 'all' : 'none';
  }

  /** printf text is written as it comes: the text of many records at once is the same bytes. */
  printfRuns(): boolean {
    return true;
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
      case 'export-loss':
        this.err.write(exportLossText(e));
        return;
      case 'map-full':
        this.err.write(
          `warning[W0902]: ${e.count} update${e.count === 1 ? '' : 's'} of ${e.map} failed: the map is full (${e.maxEntries} entries)\n  = hint: raise the limit with --max-map-keys or config = { max_map_keys = ... }\n`,
        );
        return;
      case 'identity-unknown':
        this.err.write(identityUnknownText(e.count));
        return;
      case 'loop-limit':
        this.err.write(
          `warning[W0904]: the while loop at ${e.where} stopped ${e.count} time${e.count === 1 ? '' : 's'} at its limit of ${e.limit} iterations\n  = hint: raise it with config = { loop_limit = ... }\n`,
        );
        return;
      case 'capture': {
        if (!this.payloads) return;
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
        if (!this.payloads) return;
        this.out.write(
          `--- ${who(e.conn)} ${e.closed ? 'closed' : e.exited ? 'ended: its process exited' : 'still open at exit'}: ${e.bytes[0]} bytes out, ${e.bytes[1]} in${e.lost[0] + e.lost[1] ? `, ${e.lost[0] + e.lost[1]} lost` : ''}\n`,
        );
        return;
      case 'tls-stacks':
        if (!this.quiet) for (const st of e.stacks) this.err.write(`${tlsStackLine(st, e.late)}\n`);
        return;
      case 'tls-problem':
        this.err.write(`warning[W0907]: ${e.message}\n`);
        return;
      case 'tls-missed':
        this.missed = e.processes.length;
        if (e.processes.length) this.err.write(missedText(e.processes));
        return;
      case 'capture-summary': {
        if (e.identityUnknown) this.err.write(identityUnknownText(e.identityUnknown));
        if (e.connections === 0) this.err.write(noConnectionText(e.probed ?? [], this.missed));
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
      case 'exchange':
        this.out.write(`${exchangeLine(e.x)}\n`);
        return;
      case 'decode-summary': {
        const byProto = Object.entries(e.recognised)
          .map(([p, n]) => `${n} ${p}`)
          .join(', ');
        const line = `decode: ${e.exchanges} exchange${e.exchanges === 1 ? '' : 's'} from ${byProto || 'no'} connection${Object.values(e.recognised).reduce((a, b) => a + b, 0) === 1 ? '' : 's'}${e.unrecognised ? `, ${e.unrecognised} connection${e.unrecognised === 1 ? '' : 's'} not recognised` : ''}${e.paired ? ` (${e.paired} more seen from the server's end too, shown once)` : ''}`;
        if (!e.notDecoded) {
          if (!this.quiet) this.err.write(`${line}, all decoded\n`);
          return;
        }
        this.err.write(
          `warning[W0905]: ${line}; ${e.notDecoded} exchange${e.notDecoded === 1 ? '' : 's'} not (fully) decoded\n  = hint: each is printed with the reason (a stream hole, a statement prepared before capture started...); raise the capture ring if bytes were lost\n`,
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
      case 'cat':
      case 'system':
        this.out.write(e.text);
        return;
      case 'helper-error':
        // bpftrace prints these on its output, in order with printf.
        this.out.write(helperErrorText(e));
        return;
      case 'action-error':
        this.err.write(`error: ${e.action}(): ${e.message}\n`);
        return;
    }
  }

  end(): void {}
}
