// runtime/output/json.ts — JSON lines with bpftrace's envelope
// (`{"type": T, "data": D}`, one object per line, never a blank line).
// Printf text is decoded as UTF-8 (invalid bytes become U+FFFD).
import type { CapEvent, PayloadNeed, Renderer } from '../events/model.js';
import { exchangeJson } from '../format/exchange.js';
import { helperErrorJson } from '../format/helper-error.js';
import { jsonValue, mapJson } from '../format/maps.js';
import { identityDetailJson, identityJson } from '../format/identity.js';
import { DIR_NAME } from '../format/payload.js';
import type { Out } from './text.js';

export class JsonRenderer implements Renderer {
  /**
   * `payloads: false`: captured bytes go only to --write-streams files (-q); capture lines are left out here.
   * `quiet` (-q): no attached_probes line, as bpftrace -q -f json.
   */
  constructor(
    private readonly out: Out,
    private readonly opts: { payloads?: boolean; quiet?: boolean } = {},
  ) {}

  payloadNeed(): PayloadNeed {
    return this.opts.payloads === false ? 'none' : 'all';
  }

  private line(type: string, data: unknown): void {
    this.out.write(`${jsonValue({ type, data })}\n`);
  }

  event(e: CapEvent): void {
    switch (e.kind) {
      case 'attaching':
        if (!this.opts.quiet) this.line('attached_probes', { probes: e.probes });
        return;
      case 'printf':
        this.line('printf', e.text.toString('utf8'));
        return;
      case 'cat':
        this.line('cat', e.text.toString('utf8'));
        return;
      case 'system':
        // bpftrace 0.17 names system()'s output "syscall".
        this.line('syscall', e.text.toString('utf8'));
        return;
      case 'helper-error':
        this.out.write(`${helperErrorJson(e)}\n`);
        return;
      case 'action-error':
        this.line('error', { function: e.action, message: e.message });
        return;
      case 'lost':
        this.line('lost_events', { events: e.count, ring: e.ring });
        return;
      case 'export-loss':
        this.line('export_loss', {
          sink: e.sink,
          target: e.target,
          count: e.count,
          unit: e.unit,
          ...(e.bytes !== undefined ? { bytes: e.bytes } : {}),
          ...(e.reason !== undefined ? { reason: e.reason } : {}),
        });
        return;
      case 'map-full':
        this.line('map_full', { map: e.map, failed_updates: e.count, max_entries: e.maxEntries });
        return;
      case 'identity-unknown':
        this.line('identity_unknown', { passes: e.count });
        return;
      case 'loop-limit':
        this.line('loop_limit', { where: e.where, count: e.count, limit: e.limit });
        return;
      case 'capture':
        if (this.opts.payloads === false) return;
        this.line('capture', {
          conn: e.conn.id,
          key: `0x${e.conn.key.toString(16)}`,
          pid: e.conn.pid,
          tid: e.tid,
          comm: e.conn.comm,
          dir: DIR_NAME[e.dir],
          offset: e.offset,
          len: e.len ?? e.data.length,
          ts: e.ts,
          ts_last: e.tsLast,
          probe: e.conn.probe,
          ...identityJson(e.conn),
          data_b64: e.data.toString('base64'),
        });
        return;
      case 'capture-conn':
        this.line('capture_conn', {
          conn: e.conn.id,
          key: `0x${e.conn.key.toString(16)}`,
          pid: e.conn.pid,
          comm: e.conn.comm,
          ...identityDetailJson(e.conn),
          tid: e.conn.ident?.tid ?? null,
        });
        return;
      case 'capture-loss':
        this.line('capture_loss', { conn: e.conn.id, dir: DIR_NAME[e.dir], offset: e.offset, bytes: e.bytes });
        return;
      case 'capture-end':
        this.line('capture_end', {
          conn: e.conn.id,
          key: `0x${e.conn.key.toString(16)}`,
          pid: e.conn.pid,
          comm: e.conn.comm,
          ...identityJson(e.conn),
          closed: e.closed,
          process_exited: !!e.exited,
          egress_bytes: e.bytes[0],
          ingress_bytes: e.bytes[1],
          egress_lost: e.lost[0],
          ingress_lost: e.lost[1],
        });
        return;
      case 'tls-stacks':
        for (const st of e.stacks) this.line('tls_stack', { ...st, late: e.late });
        return;
      case 'tls-problem':
        this.line('warning', { code: 'W0907', message: e.message });
        return;
      case 'tls-missed':
        if (e.processes.length) this.line('tls_missed', { processes: e.processes });
        return;
      case 'capture-summary':
        if (e.connections === 0)
          this.line('warning', { code: 'W0909', message: 'the capture saw no connection', probed: e.probed ?? [] });
        this.line('capture_summary', {
          connections: e.connections,
          egress_bytes: e.bytes[0],
          ingress_bytes: e.bytes[1],
          records: e.records,
          lost_bytes: e.lostBytes,
          dropped_bytes: e.droppedBytes,
          dropped_records: e.droppedRecords,
          refused_fragments: e.refusedConnections,
          unpaired_returns: e.unpairedReturns,
          ...(e.neededRing ? { needed_ring_bytes: e.neededRing } : {}),
          identity_unknown_passes: e.identityUnknown,
        });
        return;
      case 'exchange':
        this.line('exchange', exchangeJson(e.x));
        return;
      case 'decode-summary':
        this.line('decode_summary', {
          recognised: e.recognised,
          unrecognised: e.unrecognised,
          exchanges: e.exchanges,
          not_decoded: e.notDecoded,
          skipped_bytes: e.skippedBytes,
          paired: e.paired,
        });
        return;
      case 'maps':
        for (const m of [...e.maps].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
          if (m.entries.length) this.out.write(`${mapJson(m, { top: e.top, div: e.div })}\n`);
        }
        return;
      case 'time':
      case 'join':
        this.line(e.kind, e.text.toString('utf8'));
        return;
      case 'value':
        this.out.write(`{"type": "value", "data": ${e.json}}\n`);
        return;
    }
  }

  end(): void {}
}
