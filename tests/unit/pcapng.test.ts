// tests/unit/pcapng.test.ts — the pcapng writer on synthetic events, read
// back by Debian's tshark: a capture-loss becomes a sequence gap tshark
// flags as "previous segment not captured", IP and TCP checksums verify,
// real identity (when ConnInfo carries it, IPv6 here) replaces the
// placeholders (and one learned too late is said in a comment), and the
// payload round-trips byte for byte.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { CapEvent, ConnInfo } from '../../runtime/events/model.js';
import { PcapngWriter } from '../../runtime/export/pcapng.js';
import { requireTool } from '../support/kernel.js';
import { fieldValues, payloadByConnection } from '../support/pcapng-read.js';

function conn(id: number, extra: object = {}): ConnInfo {
  return { id, key: 0x1234n, pid: 4242, comm: 'client', probe: 'uprobe:libssl:SSL_write', family: 'openssl', ...extra };
}

async function write(events: CapEvent[]): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-pcapng-unit-'));
  const file = path.join(dir, 'x.pcapng');
  const w = new PcapngWriter(file, { monoToWallNs: 1_700_000_000_000_000_000n });
  for (const e of events) w.event(e);
  await w.close();
  return file;
}

const bytes = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));

test('a loss is a sequence gap tshark reports; the rest round-trips; checksums verify', async (t) => {
  if (!requireTool(t, 'tshark')) return;
  const c = conn(3);
  const a = bytes(100, 1);
  const b = bytes(70000, 2); // more than one segment
  const r = bytes(30, 3);
  const file = await write([
    { kind: 'capture', conn: c, dir: 0, offset: 0, data: a, ts: 10n, tsLast: 10n, tid: 4243, site: 1 },
    { kind: 'capture', conn: c, dir: 1, offset: 0, data: r, ts: 11n, tsLast: 11n, tid: 4243, site: 2 },
    { kind: 'capture-loss', conn: c, dir: 0, offset: 100, bytes: 50 },
    { kind: 'capture', conn: c, dir: 0, offset: 150, data: b, ts: 12n, tsLast: 12n, tid: 4243, site: 1 },
    { kind: 'capture-end', conn: c, closed: true, bytes: [70100, 30], lost: [50, 0] },
  ]);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const lost = fieldValues(file, 'tcp.analysis.lost_segment', 'frame.comment');
  assert.equal(lost.length, 1);
  assert.match(lost[0]!, /conn 3 egress; 50 bytes lost before this segment/);
  const checks = ['-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE'];
  // Checksum status: 0 bad, 1 good, 2 not checked.
  assert.deepEqual(
    fieldValues(file, 'tcp.checksum.status != 1 || ip.checksum.status != 1', 'frame.number', checks),
    [],
  );
  const p = payloadByConnection(file);
  assert.deepEqual(p.get('3:0'), Buffer.concat([a, b]));
  assert.deepEqual(p.get('3:1'), r);
  // Placeholders: the traced process at 127.0.<pid>, the peer at 127.255.255.254:65534.
  assert.deepEqual(fieldValues(file, 'tcp.flags.syn == 1 && tcp.flags.ack == 0', 'ip.src'), ['127.0.16.146']);
  assert.deepEqual(fieldValues(file, 'tcp.flags.syn == 1 && tcp.flags.ack == 0', 'tcp.dstport'), ['65534']);
  assert.match(fieldValues(file, 'frame.number == 1', 'frame.comment')[0]!, /placeholders/);
  assert.equal(fieldValues(file, 'tcp.flags.fin == 1', 'frame.number').length, 2);
});

/** A connection's socket as the kernel reports it (`local`: the traced process's end). */
function ident(
  family: 'inet' | 'inet6',
  local: [string, number],
  peer: [string, number],
  portBound = false,
): ConnInfo['ident'] {
  return {
    state: 'socket',
    learned: 'tls-syscall',
    fd: 7,
    family,
    type: 'stream',
    local: { addr: local[0], port: local[1] },
    peer: { addr: peer[0], port: peer[1] },
    connected: true,
    portBound,
    inode: 1,
    cgroup: 1,
    tid: 1,
  };
}

test("connection identity gives real addresses (IPv6); the server's side answers the SYN", async (t) => {
  if (!requireTool(t, 'tshark')) return;
  // A server's accepted connection: its port was bound (the kernel says so), the client opened it.
  const c = conn(5, { ident: ident('inet6', ['::1', 5432], ['::1', 41712], true) });
  const file = await write([
    { kind: 'capture', conn: c, dir: 1, offset: 0, data: Buffer.from('Q query'), ts: 1n, tsLast: 1n, tid: 1, site: 1 },
    { kind: 'capture-end', conn: c, closed: false, bytes: [0, 7], lost: [0, 0] },
  ]);
  assert.deepEqual(fieldValues(file, 'tcp.flags.syn == 1 && tcp.flags.ack == 0', 'ipv6.src'), ['::1']);
  assert.deepEqual(fieldValues(file, 'tcp.flags.syn == 1 && tcp.flags.ack == 0', 'tcp.srcport'), ['41712']);
  assert.deepEqual(fieldValues(file, 'tcp.len > 0', 'tcp.dstport'), ['5432']);
  assert.match(fieldValues(file, 'tcp.flags.fin == 1', 'frame.comment')[0]!, /still open when capc stopped/);
});

test('an identity learned after the first bytes: the conversation keeps its placeholders, a comment gives the real ends', async (t) => {
  if (!requireTool(t, 'tshark')) return;
  const c = conn(6);
  const cap = (dir: 0 | 1, offset: number, text: string): CapEvent => ({
    kind: 'capture',
    conn: c,
    dir,
    offset,
    data: Buffer.from(text),
    ts: 1n,
    tsLast: 1n,
    tid: 1,
    site: 1,
  });
  const file = await write([
    cap(0, 0, 'PING'),
    { kind: 'capture-conn', conn: { ...c, ident: ident('inet', ['10.1.2.3', 50000], ['10.9.8.7', 6379]) } },
    cap(1, 0, 'PONG'),
    { kind: 'capture-end', conn: c, closed: true, bytes: [4, 4], lost: [0, 0] },
  ]);
  assert.deepEqual(fieldValues(file, 'tcp.len > 0', 'ip.dst'), ['127.255.255.254', '127.0.16.146']);
  assert.match(
    fieldValues(file, 'tcp.len > 0 && tcp.srcport == 65534', 'frame.comment')[0]!,
    /learned after its first bytes: 10\.1\.2\.3:50000 -> 10\.9\.8\.7:6379 \(this conversation keeps its placeholders\)/,
  );
});

test('an existing file is refused (E0907) and left as it was', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-pcapng-unit-'));
  const file = path.join(dir, 'x.pcapng');
  fs.writeFileSync(file, 'old');
  assert.throws(() => new PcapngWriter(file), /E0907|already exists/);
  assert.equal(fs.readFileSync(file, 'utf8'), 'old');
});
