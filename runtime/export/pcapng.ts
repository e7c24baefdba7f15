// runtime/export/pcapng.ts — `--pcapng FILE` and `-> pcapng("FILE")`: every
// captured stream written as a TCP conversation Wireshark and tshark open as
// they would a packet capture. Each connection gets a synthetic three-way
// handshake when first seen, one segment per captured batch (sequence
// numbers are the stream offsets, so a capture-loss leaves a sequence gap
// and Wireshark reports "previous segment not captured"), and a FIN exchange
// when it ends (a comment says whether it really closed). Every data packet
// carries a comment with the pid, tid, comm and capc's connection id. The
// addresses and ports are the connection's own when the kernel learned its
// socket before its first bytes (endpoints.ts); otherwise placeholders, and
// the first packet says so (and the next one after the identity arrives
// gives the real ends: a conversation keeps the addresses it began with).
// Blocks are gathered per drain and written with one write(2); a write that
// fails (a full disk) is cut back to the last whole block, so the file stays
// readable, and what it held is counted as lost (W0906) while capture goes
// on. The file is created 0600 with O_EXCL|O_NOFOLLOW (private-file.ts).
import fs from 'node:fs';
import type { CapEvent, ConnInfo } from '../events/model.js';
import { connEndpoints, addrText, type Endpoint, type Endpoints } from './endpoints.js';
import {
  interfaceDescription,
  packetBlockInto,
  packetBlockSize,
  sectionHeader,
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_SYN,
  type Segment,
} from './pcapng-blocks.js';
import { createPrivateFile } from './private-file.js';
import type { ExportLoss, ExportSink } from './sink.js';

/** Largest TCP payload per packet (an IPv4 packet is at most 65,535 bytes). */
const MAX_SEGMENT = 65000;
const FLUSH_BYTES = 256 * 1024;
const LOCAL_MAC = 1;
const PEER_MAC = 2;

interface Conversation {
  ep: Endpoints;
  /** Initial sequence numbers: [local, peer]. */
  isn: [number, number];
  /** Stream extent per direction (0 egress: local -> peer, 1 ingress), losses included. */
  next: [number, number];
  /** Bytes lost since the last packet of each direction (said in the next packet's comment). */
  lostNote: [number, number];
  lastTs: bigint;
  ipId: number;
  /** Data-packet comments by thread and direction, built once (most packets reuse one). */
  notes: Map<number, Buffer>;
  /** The real ends, learned after the conversation began with placeholders: said in the next packet's comment. */
  lateIdentity?: string;
}

export interface PcapngOptions {
  /** CLOCK_MONOTONIC ns (record timestamps) to wall-clock ns; measured at start by default. */
  monoToWallNs?: bigint;
  /** Version string for the section header. */
  version?: string;
}

export class PcapngWriter implements ExportSink {
  readonly name = 'pcapng';
  private readonly fd: number;
  private readonly convs = new Map<number, Conversation>();
  private readonly offset: bigint;
  private pending: Buffer[] = [];
  private arena = Buffer.allocUnsafe(FLUSH_BYTES);
  private arenaUsed = 0;
  private pendingBytes = 0;
  private pendingPackets = 0;
  private pendingPayload = 0;
  private scheduled = false;
  /** Bytes of the file that hold whole blocks. */
  private size = 0;
  private lost = { packets: 0, bytes: 0, reason: undefined as string | undefined };
  private closed = false;
  packets = 0;

  constructor(
    readonly target: string,
    opts: PcapngOptions = {},
  ) {
    this.fd = createPrivateFile(target, 'pcapng file');
    this.offset = opts.monoToWallNs ?? BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
    const head = Buffer.concat([
      sectionHeader(`capc ${opts.version ?? ''}`.trim()),
      interfaceDescription('capc', 'payload captured by capc, framed as synthetic TCP'),
    ]);
    this.writeOut([head], 0, 0);
  }

  event(e: CapEvent): void {
    switch (e.kind) {
      case 'capture':
        this.data(e.conn, e.dir, e.offset, e.data, e.ts, e.tid);
        return;
      case 'capture-conn': {
        const c = this.convs.get(e.conn.id);
        const ep = connEndpoints(e.conn);
        if (c && !c.ep.real && ep.real)
          c.lateIdentity = `its socket, learned after its first bytes: ${addrText(ep.local.addr)}:${ep.local.port} -> ${addrText(ep.peer.addr)}:${ep.peer.port} (this conversation keeps its placeholders)`;
        return;
      }
      case 'capture-loss': {
        const c = this.conv(e.conn, undefined);
        c.next[e.dir] = Math.max(c.next[e.dir], e.offset + e.bytes);
        c.lostNote[e.dir] += e.bytes;
        return;
      }
      case 'capture-end': {
        const c = this.convs.get(e.conn.id);
        if (!c) return;
        this.fin(c, e.closed ? 'closed' : e.exited ? 'ended: its process exited' : 'still open when capc stopped');
        this.convs.delete(e.conn.id);
        return;
      }
    }
  }

  private conv(conn: ConnInfo, ts: bigint | undefined): Conversation {
    let c = this.convs.get(conn.id);
    if (c) return c;
    const ep = connEndpoints(conn);
    c = {
      ep,
      isn: [
        (Math.imul(conn.id + 1, 0x9e3779b1) >>> 0) & 0x7fffffff,
        (Math.imul(conn.id + 7, 0x85ebca6b) >>> 0) & 0x7fffffff,
      ],
      next: [0, 0],
      lostNote: [0, 0],
      lastTs: ts ?? process.hrtime.bigint(),
      ipId: 0,
      notes: new Map(),
    };
    this.convs.set(conn.id, c);
    const who = `capc conn ${conn.id}: ${conn.comm}[${conn.pid}] key 0x${conn.key.toString(16)} ${conn.probe}`;
    const where = ep.real
      ? `${addrText(ep.local.addr)}:${ep.local.port} -> ${addrText(ep.peer.addr)}:${ep.peer.port}`
      : 'addresses and ports are placeholders (connection identity unknown)';
    // Three-way handshake from whichever side opened the connection.
    const [cl, sv] = ep.localIsClient ? (['l', 'p'] as const) : (['p', 'l'] as const);
    this.segment(c, cl, 0, 0, TCP_SYN, undefined, `${who}; ${where}`, true);
    this.segment(c, sv, 0, 1, TCP_SYN | TCP_ACK, undefined, undefined, true);
    this.segment(c, cl, 1, 1, TCP_ACK);
    return c;
  }

  /** One packet from side s ('l' local, 'p' peer); seq/ack relative to the stream starts (+1 after the SYN). */
  private segment(
    c: Conversation,
    s: 'l' | 'p',
    seqRel: number,
    ackRel: number,
    flags: number,
    payload?: Buffer,
    comment?: string | Buffer,
    syn = false,
  ): void {
    const local = s === 'l';
    const src: Endpoint = local ? c.ep.local : c.ep.peer;
    const dst: Endpoint = local ? c.ep.peer : c.ep.local;
    const mine = local ? 0 : 1;
    const seg: Segment = {
      src,
      dst,
      srcMac: local ? LOCAL_MAC : PEER_MAC,
      dstMac: local ? PEER_MAC : LOCAL_MAC,
      seq: (c.isn[mine] + seqRel) >>> 0,
      ack: syn && !(flags & TCP_ACK) ? 0 : (c.isn[1 - mine] + ackRel) >>> 0,
      flags,
      payload,
      tsNs: c.lastTs + this.offset,
      comment: typeof comment === 'string' ? Buffer.from(comment) : comment,
      ipId: c.ipId++,
    };
    this.add(seg, payload?.length ?? 0);
  }

  private data(conn: ConnInfo, dir: 0 | 1, offset: number, data: Buffer, ts: bigint, tid: number): void {
    const c = this.conv(conn, ts);
    if (ts > c.lastTs) c.lastTs = ts;
    const side = dir === 0 ? 'l' : 'p';
    const other = (1 - dir) as 0 | 1;
    const key = tid * 2 + dir;
    let note = c.notes.get(key);
    if (!note || c.lostNote[dir] || c.lateIdentity) {
      const text = `pid ${conn.pid} tid ${tid} comm ${conn.comm} conn ${conn.id} ${dir === 0 ? 'egress' : 'ingress'}`;
      if (c.lostNote[dir] || c.lateIdentity) {
        const lost = c.lostNote[dir]
          ? `; ${c.lostNote[dir]} bytes lost before this segment (counted by the kernel)`
          : '';
        note = Buffer.from(`${text}${lost}${c.lateIdentity ? `; ${c.lateIdentity}` : ''}`);
        c.lateIdentity = undefined;
      } else {
        note = Buffer.from(text);
        if (c.notes.size < 64) c.notes.set(key, note);
      }
    }
    c.lostNote[dir] = 0;
    for (let at = 0; at < data.length || (at === 0 && data.length === 0); at += MAX_SEGMENT) {
      const part = data.subarray(at, at + MAX_SEGMENT);
      this.segment(c, side, 1 + offset + at, 1 + c.next[other], TCP_PSH | TCP_ACK, part, at === 0 ? note : undefined);
      if (!data.length) break;
    }
    c.next[dir] = Math.max(c.next[dir], offset + data.length);
  }

  private fin(c: Conversation, how: string): void {
    const [l, p] = [1 + c.next[0], 1 + c.next[1]];
    this.segment(c, 'l', l, p, TCP_FIN | TCP_ACK, undefined, `capc: connection ${how}`);
    this.segment(c, 'p', p, l + 1, TCP_FIN | TCP_ACK);
    this.segment(c, 'l', l + 1, p + 1, TCP_ACK);
  }

  /** Build the packet into the arena (flushing first when it is full); one allocation per 256 KiB, not per packet. */
  private add(seg: Segment, payload: number): void {
    const size = packetBlockSize(seg);
    if (this.arenaUsed + size > this.arena.length) this.closeArena();
    if (size > this.arena.length) {
      const own = Buffer.allocUnsafe(size);
      packetBlockInto(seg, own, 0);
      this.pending.push(own);
    } else {
      packetBlockInto(seg, this.arena, this.arenaUsed);
      this.arenaUsed += size;
    }
    this.packets++;
    this.pendingBytes += size;
    this.pendingPackets++;
    this.pendingPayload += payload;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** The packets built in the arena join the pending list; the next ones go to a fresh arena. */
  private closeArena(): void {
    if (!this.arenaUsed) return;
    this.pending.push(this.arena.subarray(0, this.arenaUsed));
    this.arena = Buffer.allocUnsafe(FLUSH_BYTES);
    this.arenaUsed = 0;
  }

  /** Write what is gathered; called after each drain (a microtask) or past FLUSH_BYTES. */
  flush(): void {
    this.scheduled = false;
    this.closeArena();
    if (!this.pending.length || this.closed) return;
    const blocks = this.pending;
    const packets = this.pendingPackets;
    const payload = this.pendingPayload;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingPackets = 0;
    this.pendingPayload = 0;
    this.writeOut(blocks, packets, payload);
  }

  private writeOut(blocks: Buffer[], packets: number, payload: number): void {
    const data = blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks);
    let done = 0;
    try {
      while (done < data.length) done += fs.writeSync(this.fd, data, done, data.length - done, this.size + done);
      this.size += data.length;
    } catch (e) {
      // A full disk (ENOSPC, EDQUOT, EFBIG) or an I/O error: cut the partial block off so the
      // file stays a valid pcapng, count what this batch held, and go on with the next one.
      try {
        if (done) fs.ftruncateSync(this.fd, this.size);
      } catch {
        /* the file keeps a torn tail; readers stop there */
      }
      this.lost.packets += packets;
      this.lost.bytes += payload;
      this.lost.reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    }
  }

  losses(): ExportLoss[] {
    return [{ count: this.lost.packets, unit: 'packets', bytes: this.lost.bytes, reason: this.lost.reason }];
  }

  end(): void {
    if (this.closed) return;
    // Connections that never got an end (not expected: the session ends every one) still get a FIN.
    for (const c of this.convs.values()) this.fin(c, 'still open when capc stopped');
    this.convs.clear();
    this.flush();
  }

  /** The session awaits this before its renderers end: everything is on disk after it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.end();
    this.closed = true;
    fs.closeSync(this.fd);
  }
}
