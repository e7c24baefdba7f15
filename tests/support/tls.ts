// tests/support/tls.ts — TLS workloads for capture tests: a throwaway
// certificate, the C peers (tests/fixtures/targets/tls-peer.c), and a check
// that capc's stream files hold exactly what each side sent and received.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildTarget } from './targets.js';

export function tlsPeer(): string {
  return buildTarget('tls-peer', ['-pthread', '-lssl', '-lcrypto']);
}

/**
 * A one-line capture program kept to this test's tls-peer processes (by
 * comm): the probes are system-wide, and the TLS traffic of other work on a
 * shared machine (other test suites, benchmarks) would otherwise fill the
 * sink and be counted with the test's own drops.
 */
export function onlyPeers(program: string): string {
  const comm = path.basename(tlsPeer()).slice(0, 15);
  return program.replace(/ (accumulate|capture)\(/, ` /comm == "${comm}"/ $1(`);
}

let certDir: string | undefined;
export function testCert(): { cert: string; key: string } {
  if (!certDir) {
    certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-cert-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        path.join(certDir, 'key.pem'),
        '-out',
        path.join(certDir, 'cert.pem'),
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
      ],
      { stdio: 'ignore' },
    );
  }
  return { cert: path.join(certDir, 'cert.pem'), key: path.join(certDir, 'key.pem') };
}

export { freePort } from './ports.js';

/** Start a process and resolve once it prints `marker` (or exits). */
export function startUntil(
  cmd: string,
  args: string[],
  marker: string | undefined,
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ proc: ChildProcess; out: () => string; exited: Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ? { ...process.env, ...opts.env } : undefined,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    const done = () => resolve({ proc, out: () => out, exited });
    proc.stdout!.on('data', (d) => {
      out += d;
      if (marker && out.includes(marker)) done();
    });
    proc.stderr!.on('data', (d) => (out += d));
    proc.on('error', reject);
    if (!marker) done();
    else
      exited.then(() =>
        out.includes(marker) ? undefined : reject(new Error(`${cmd} exited before printing ${marker}: ${out}`)),
      );
  });
}

interface StreamIndexEntry {
  conn: number;
  key: string;
  pid: number;
  comm: string;
  closed: boolean;
  streams: { file: string; bytes: number; lost: { offset: number; bytes: number }[] }[];
}

/**
 * For every connection a peer recorded in `peerDir` (<role>-conn<i>.key/sent/recv),
 * find capc's stream files for the same (pid, SSL*) and compare byte for byte.
 */
export function assertStreamsMatch(
  peerDir: string,
  streamsDir: string,
  roles: string[],
  nconn: number,
): { connections: number; bytes: number } {
  const index = JSON.parse(fs.readFileSync(path.join(streamsDir, 'streams.json'), 'utf8')) as StreamIndexEntry[];
  let connections = 0;
  let bytes = 0;
  for (const role of roles) {
    for (let i = 0; i < nconn; i++) {
      const [pid, ssl] = fs
        .readFileSync(path.join(peerDir, `${role}-conn${i}-key`), 'utf8')
        .trim()
        .split(/\s+/);
      const entry = index.find((e) => e.pid === Number(pid) && BigInt(e.key) === BigInt(`0x${ssl}`));
      assert.ok(
        entry,
        `capc has no connection for ${role} ${i} (pid ${pid}, SSL* 0x${ssl}); it saw: ${index.map((e) => `${e.pid}/${e.key}`).join(' ')}`,
      );
      assert.ok(entry.closed, `${role} ${i}: capc did not see the connection close`);
      for (const [dir, file] of [
        ['egress', 'sent.bin'],
        ['ingress', 'recv.bin'],
      ] as const) {
        const expected = fs.readFileSync(path.join(peerDir, `${role}-conn${i}-${file}`));
        const stream: StreamIndexEntry['streams'][number] | undefined = entry.streams.find((s) =>
          s.file.endsWith(`-${dir}.bin`),
        );
        const got: Buffer = stream ? fs.readFileSync(path.join(streamsDir, stream.file)) : Buffer.alloc(0);
        assert.deepEqual(stream?.lost ?? [], [], `${role} ${i} ${dir}: capc reported losses`);
        if (!got.equals(expected)) {
          let at = 0;
          while (at < Math.min(got.length, expected.length) && got[at] === expected[at]) at++;
          assert.fail(
            `${role} ${i} ${dir}: capc captured ${got.length} bytes, the peer ${file === 'sent.bin' ? 'sent' : 'received'} ${expected.length}; first difference at byte ${at}`,
          );
        }
        bytes += got.length;
      }
      connections++;
    }
  }
  return { connections, bytes };
}

/**
 * Streams of a peer that cannot report its SSL* (Python): for each connection
 * the peer recorded, find the capc connection of that process whose egress
 * equals what it sent, then check its ingress equals what it received.
 */
export function assertStreamsMatchByContent(
  peerDir: string,
  streamsDir: string,
  role: string,
  nconn: number,
  pid: number,
): { connections: number; bytes: number } {
  const index = JSON.parse(fs.readFileSync(path.join(streamsDir, 'streams.json'), 'utf8')) as StreamIndexEntry[];
  const mine = index.filter((e) => e.pid === pid);
  const read = (e: StreamIndexEntry, dir: string) => {
    const s = e.streams.find((x) => x.file.endsWith(`-${dir}.bin`));
    return s ? fs.readFileSync(path.join(streamsDir, s.file)) : Buffer.alloc(0);
  };
  let bytes = 0;
  for (let i = 0; i < nconn; i++) {
    const sent = fs.readFileSync(path.join(peerDir, `${role}-conn${i}-sent.bin`));
    const recv = fs.readFileSync(path.join(peerDir, `${role}-conn${i}-recv.bin`));
    const entry = mine.find((e) => read(e, 'egress').equals(sent));
    assert.ok(
      entry,
      `no capc connection of pid ${pid} holds exactly what ${role} connection ${i} sent (${sent.length} bytes); capc saw ${mine.map((e) => `${e.conn}: ${e.streams.map((s) => s.bytes).join('/')}`).join(', ')}`,
    );
    assert.ok(read(entry, 'ingress').equals(recv), `${role} ${i}: ingress differs from what it received`);
    bytes += sent.length + recv.length;
  }
  return { connections: nconn, bytes };
}

/**
 * Like assertStreamsMatch, for a run that lost data: every stream file is as
 * long as what the peer sent or received, the bytes outside the reported lost
 * ranges equal the peer's, and the lost ranges are returned for the caller to
 * check against the kernel's drop counter.
 */
export function assertStreamsMatchWithLoss(
  peerDir: string,
  streamsDir: string,
  roles: string[],
  nconn: number,
): { connections: number; bytes: number; lostBytes: number } {
  const index = JSON.parse(fs.readFileSync(path.join(streamsDir, 'streams.json'), 'utf8')) as StreamIndexEntry[];
  let connections = 0;
  let bytes = 0;
  let lostBytes = 0;
  for (const role of roles) {
    for (let i = 0; i < nconn; i++) {
      const [pid, ssl] = fs
        .readFileSync(path.join(peerDir, `${role}-conn${i}-key`), 'utf8')
        .trim()
        .split(/\s+/);
      const entry = index.find((e) => e.pid === Number(pid) && BigInt(e.key) === BigInt(`0x${ssl}`));
      assert.ok(entry, `capc has no connection for ${role} ${i} (pid ${pid}, SSL* 0x${ssl})`);
      for (const [dir, file] of [
        ['egress', 'sent.bin'],
        ['ingress', 'recv.bin'],
      ] as const) {
        const expected = fs.readFileSync(path.join(peerDir, `${role}-conn${i}-${file}`));
        const stream: StreamIndexEntry['streams'][number] | undefined = entry.streams.find((s) =>
          s.file.endsWith(`-${dir}.bin`),
        );
        const got: Buffer = stream ? fs.readFileSync(path.join(streamsDir, stream.file)) : Buffer.alloc(0);
        const lost = stream?.lost ?? [{ offset: 0, bytes: expected.length }];
        const inHole = new Uint8Array(expected.length);
        for (const l of lost) {
          assert.ok(
            l.offset + l.bytes <= expected.length,
            `${role} ${i} ${dir}: lost range ${l.offset}+${l.bytes} past the end (${expected.length})`,
          );
          inHole.fill(1, l.offset, l.offset + l.bytes);
          lostBytes += l.bytes;
        }
        assert.equal(
          got.length,
          stream ? expected.length : 0,
          `${role} ${i} ${dir}: the stream file must be as long as the stream, holes included`,
        );
        for (let at = 0; at < got.length; at++) {
          if (!inHole[at] && got[at] !== expected[at])
            assert.fail(`${role} ${i} ${dir}: byte ${at} differs outside every reported loss`);
        }
        bytes += expected.length;
      }
      connections++;
    }
  }
  return { connections, bytes, lostBytes };
}
