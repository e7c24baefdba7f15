// tests/support/pcapng-read.ts — reads capc's pcapng files back with
// Debian's tshark (the real dissectors, not ours): protocol fields, and the
// TCP payload of every conversation, per capc connection and direction, from
// the comments capc writes on each data packet ("... conn N egress").
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** `tshark -r FILE ARGS...` (stderr dropped: tshark warns about running as root). */
export function tshark(file: string, args: string[]): string {
  return execFileSync('tshark', ['-r', file, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 256 << 20,
  });
}

/** Decode-as for the server's port (the connection's real one: capc learned its identity). */
export function decodeAs(proto: string, serverPort: number): string[] {
  return ['-d', `tcp.port==${serverPort},${proto}`];
}

/** One field of the packets a display filter selects, one line per value. */
export function fieldValues(file: string, filter: string, field: string, extra: string[] = []): string[] {
  return tshark(file, [...extra, '-Y', filter, '-T', 'fields', '-e', field])
    .split('\n')
    .filter(Boolean);
}

/** Payload per `conn:dir` key, concatenated in packet order. */
export function payloadByConnection(file: string): Map<string, Buffer> {
  const out = new Map<string, Buffer[]>();
  const lines = tshark(file, [
    '-Y',
    'tcp.len > 0',
    '-T',
    'fields',
    '-E',
    'separator=|',
    '-e',
    'frame.comment',
    '-e',
    'tcp.payload',
  ]);
  let current: string | undefined;
  const streamOf = new Map<string, string>();
  for (const line of lines.split('\n').filter(Boolean)) {
    const [comment, hex] = line.split('|') as [string, string];
    const m = /conn (\d+) (egress|ingress)/.exec(comment);
    // A payload split over several packets carries the comment on the first one only.
    if (m) current = `${m[1]}:${m[2] === 'egress' ? 0 : 1}`;
    assert.ok(current, `a data packet without capc's comment: ${line.slice(0, 80)}`);
    streamOf.set(current, current);
    const list = out.get(current) ?? [];
    list.push(Buffer.from(hex ?? '', 'hex'));
    out.set(current, list);
  }
  return new Map([...out].map(([k, v]) => [k, Buffer.concat(v)]));
}

interface StreamIndexEntry {
  conn: number;
  comm: string;
  streams: { file: string; bytes: number; lost: unknown[] }[];
}

/**
 * Every stream capc wrote with --write-streams is in the pcapng byte for byte
 * (connections of `comm` only); returns how many bytes were compared.
 */
export function assertPcapngMatchesStreams(file: string, streamsDir: string, comm: string): number {
  const index = JSON.parse(fs.readFileSync(path.join(streamsDir, 'streams.json'), 'utf8')) as StreamIndexEntry[];
  const pcap = payloadByConnection(file);
  let compared = 0;
  for (const e of index.filter((x) => x.comm === comm)) {
    for (const s of e.streams) {
      const dir = s.file.endsWith('-egress.bin') ? 0 : 1;
      const expected = fs.readFileSync(path.join(streamsDir, s.file));
      const got = pcap.get(`${e.conn}:${dir}`) ?? Buffer.alloc(0);
      assert.deepEqual(s.lost, [], `conn ${e.conn} lost bytes`);
      if (!got.equals(expected)) {
        let at = 0;
        while (at < Math.min(got.length, expected.length) && got[at] === expected[at]) at++;
        assert.fail(
          `conn ${e.conn} ${dir ? 'ingress' : 'egress'}: pcapng differs from the stream at byte ${at} (${got.length} vs ${expected.length} bytes)`,
        );
      }
      compared += expected.length;
    }
  }
  return compared;
}
