// tests/e2e/export-otlp.test.ts — `--otlp` on the real kernel against a
// local receiver that decodes every request with the official OTLP protobuf
// definitions: printf output and captured bytes arrive as log records (the
// payload byte for byte, with the connection's attributes), maps as metrics
// (a counter, a histogram with capc's bucket bounds) periodically and at
// exit; decoded exchanges of a real HTTP conversation as log records with
// OpenTelemetry's attribute names and the connection's real ends; an
// unreachable collector costs records, counted (W0906), not the capture or
// the exit code.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runCapc } from '../support/capc.js';
import { requireKernel } from '../support/kernel.js';
import { ownCommand } from '../support/own-command.js';
import { attr, startReceiver, type Metric } from '../support/otlp-receiver.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// dd and cat under names of their own: other test files run them beside this one.
const DD = ownCommand('dd', 'ddotlp');
const CAT = ownCommand('cat', 'catotlp');
const CURL = ownCommand('curl', 'curlotlp');
process.on('exit', () => (DD.remove(), CAT.remove(), CURL.remove()));

const PROGRAM = `
tracepoint:syscalls:sys_enter_write /comm == "${DD.comm}" && args->fd == 1/ {
  printf("dd wrote %d\\n", args->count);
  @writes = count();
  @sizes = hist(args->count);
}
tracepoint:syscalls:sys_enter_read, tracepoint:syscalls:sys_enter_write /comm == "${CAT.comm}"/ accumulate(conn, 1024) -> ringbuf
`;

test('otlp: printf and captured payload as log records, maps as metrics, decoded with the OTLP protos', async (t) => {
  if (!requireKernel(t)) return;
  const rx = await startReceiver();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-otlp-'));
  const payload = Buffer.from(`capc otlp payload ${'x'.repeat(3000)} end\n`);
  fs.writeFileSync(path.join(work, 'data.txt'), payload);
  try {
    const r = await runCapc(['run', '-q', '--otlp', rx.url, '--otlp-interval', '1', '-e', PROGRAM], {
      timeoutMs: 120_000,
      onAttached: async (pid) => {
        try {
          execFileSync(DD.path, ['if=/dev/zero', 'of=/dev/null', 'bs=512', 'count=20'], { stdio: 'ignore' });
          execFileSync(CAT.path, [path.join(work, 'data.txt')], { stdio: ['ignore', 'ignore', 'ignore'] });
          // A periodic metrics export with the whole workload in it, before exit.
          for (let i = 0; i < 40; i++) {
            const last = rx.metrics.at(-1)?.find((m) => m.name === 'capc_map_writes');
            if (last?.sum?.dataPoints[0]?.asDouble === 20) break;
            await sleep(250);
          }
        } finally {
          process.kill(pid, 'SIGINT');
        }
      },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /W0906/);
    assert.ok(rx.requests.every((q) => q.contentType === 'application/x-protobuf'));
    // printf lines, in order.
    const printed = rx.logs.filter((l) => attr(l.attributes, 'capc.event')?.stringValue === 'printf');
    assert.equal(printed.length, 20);
    assert.ok(printed.every((l) => l.body?.stringValue === 'dd wrote 512\n'));
    // Captured bytes: cat's read of the file and its write of it, each direction byte for byte.
    const captured = rx.logs.filter(
      (l) =>
        attr(l.attributes, 'capc.event')?.stringValue === 'capture' &&
        attr(l.attributes, 'process.command')?.stringValue === CAT.comm,
    );
    for (const dir of ['ingress', 'egress']) {
      const conns = new Map<string, Buffer[]>();
      for (const l of captured.filter((x) => attr(x.attributes, 'capc.direction')?.stringValue === dir)) {
        const id = attr(l.attributes, 'capc.conn.id')!.intValue!;
        conns.set(id, [...(conns.get(id) ?? []), l.body!.bytesValue!]);
      }
      const streams = [...conns.values()].map((parts) => Buffer.concat(parts));
      assert.ok(
        streams.some((s) => s.equals(payload)),
        `${dir}: no stream equals the file (${streams.map((s) => s.length).join(', ')} bytes)`,
      );
    }
    const first = captured[0]!;
    assert.ok(Number(first.timeUnixNano) > Date.now() * 1e6 - 120e9, 'capture records carry wall-clock time');
    // Maps: a periodic export arrived during the run, and the final one at exit.
    assert.ok(rx.metrics.length >= 2, `${rx.metrics.length} metric exports`);
    const final: Metric[] = rx.metrics.at(-1)!;
    const writes = final.find((m) => m.name === 'capc_map_writes')!;
    assert.equal(writes.sum!.isMonotonic, true);
    assert.equal(writes.sum!.dataPoints[0]!.asDouble, 20);
    const sizes = final.find((m) => m.name === 'capc_map_sizes')!.histogram!.dataPoints[0]!;
    assert.equal(sizes.count, '20');
    const bounds = sizes.explicitBounds!;
    const counts = sizes.bucketCounts!.map(Number);
    // 512 falls in [512, 1024): the bucket whose inclusive upper bound is 1023.
    assert.equal(counts[bounds.indexOf(1023)], 20);
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      20,
    );
  } finally {
    await rx.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test('otlp: decoded exchanges as log records: client.*, server.*, network.peer.*, http.*, the real ends', async (t) => {
  if (!requireKernel(t)) return;
  const rx = await startReceiver();
  const web = http.createServer((q, res) => {
    res.writeHead(q.url === '/missing' ? 404 : 200, { 'content-type': 'text/plain' });
    res.end('capc otlp exchange\n');
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
  const port = (web.address() as net.AddressInfo).port;
  try {
    const program = `tracepoint:syscalls:sys_enter_sendto, tracepoint:syscalls:sys_enter_recvfrom /comm == "${CURL.comm}" && rport == ${port}/ accumulate(conn, 1024) -> ringbuf`;
    const r = await runCapc(['run', '-q', '--decode', 'http', '--otlp', rx.url, '-e', program], {
      timeoutMs: 120_000,
      onAttached: async (pid) => {
        try {
          // execFileSync would block the server in this process: curl runs beside it.
          for (const p of ['/index.html', '/missing'])
            await new Promise<void>((res, rej) =>
              execFile(CURL.path, ['-s', '-o', '/dev/null', `http://127.0.0.1:${port}${p}`], (e) =>
                e ? rej(e) : res(),
              ),
            );
          await sleep(300);
        } finally {
          process.kill(pid, 'SIGINT');
        }
      },
    });
    assert.equal(r.code, 0, r.stderr);
    const xs = rx.logs.filter((l) => attr(l.attributes, 'capc.event')?.stringValue === 'exchange');
    assert.deepEqual(xs.map((l) => l.body?.stringValue).sort(), ['GET /index.html', 'GET /missing']);
    for (const l of xs) {
      const a = (k: string) => attr(l.attributes, k);
      const clientPort = Number(a('client.port')?.intValue);
      assert.deepEqual(
        [a('server.address')?.stringValue, Number(a('server.port')?.intValue), a('client.address')?.stringValue],
        ['127.0.0.1', port, '127.0.0.1'],
      );
      assert.ok(clientPort > 0 && clientPort !== port, `client port ${clientPort}`);
      // The traced process is the client: its peer is the server.
      assert.deepEqual(
        [a('network.peer.address')?.stringValue, Number(a('network.peer.port')?.intValue)],
        ['127.0.0.1', port],
      );
      assert.equal(Number(a('network.local.port')?.intValue), clientPort);
      assert.equal(a('network.transport')?.stringValue, 'tcp');
      assert.equal(a('process.command')?.stringValue, CURL.comm);
      assert.equal(a('http.request.method')?.stringValue, 'GET');
      assert.ok(Number(a('capc.latency_ns')?.intValue) > 0);
    }
    const code = (path: string) =>
      Number(
        attr(xs.find((l) => l.body?.stringValue === `GET ${path}`)!.attributes, 'http.response.status_code')!.intValue,
      );
    assert.deepEqual([code('/index.html'), code('/missing')], [200, 404]);
    // The captured bytes carry the real ends as well.
    const caps = rx.logs.filter((l) => attr(l.attributes, 'capc.event')?.stringValue === 'capture');
    assert.ok(caps.length >= 2);
    assert.ok(caps.every((l) => Number(attr(l.attributes, 'network.peer.port')?.intValue) === port));
  } finally {
    web.close();
    await rx.close();
  }
});

test('otlp: an unreachable collector loses records, counted (W0906); capture and exit code unharmed', async (t) => {
  if (!requireKernel(t)) return;
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
  const port = (closed.address() as net.AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const r = await runCapc(
    [
      'run',
      '-q',
      '--otlp',
      `http://127.0.0.1:${port}`,
      '-e',
      `tracepoint:syscalls:sys_enter_write /comm == "${DD.comm}" && args->fd == 1/ { printf("w\\n"); @n = count(); }`,
    ],
    {
      timeoutMs: 120_000,
      onAttached: (pid) => {
        try {
          execFileSync(DD.path, ['if=/dev/zero', 'of=/dev/null', 'bs=512', 'count=30'], { stdio: 'ignore' });
        } finally {
          process.kill(pid, 'SIGINT');
        }
      },
    },
  );
  assert.equal(r.code, 0, r.stderr);
  // Capture went on: every printf printed, the map at exit.
  assert.equal(r.stdout.split('\n').filter((l) => l === 'w').length, 30);
  assert.match(r.stdout, /@n: 30/);
  assert.match(r.stderr, /warning\[W0906\]: otlp: 30 log records not exported to http:\/\/127\.0\.0\.1:\d+/);
  assert.match(r.stderr, /warning\[W0906\]: otlp: 1 metric exports not exported/);
});

test('otlp: a malformed URL is a usage error (E0904, exit 2)', async () => {
  const r = await runCapc(['run', '--otlp', 'collector:4318', '-e', 'BEGIN { exit(); }']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /E0904.*--otlp needs an http:\/\/ or https:\/\/ URL/);
});

test('otlp: an https collector signed by a CA from NODE_EXTRA_CA_CERTS (kept from Node start-up by bin/capc)', async (t) => {
  if (!requireKernel(t)) return;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-otlp-tls-'));
  const [cert, key] = [path.join(work, 'cert.pem'), path.join(work, 'key.pem')];
  // A self-signed certificate naming the address the exporter connects to: its own CA.
  const subject = ['-subj', '/CN=capc-otlp-test', '-addext', 'subjectAltName=IP:127.0.0.1'];
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', ...subject],
    {
      stdio: 'ignore',
    },
  );
  const rx = await startReceiver({ tls: { cert: fs.readFileSync(cert, 'utf8'), key: fs.readFileSync(key, 'utf8') } });
  const args = ['run', '-q', '--otlp', rx.url, '-e', 'BEGIN { @n = count(); }', '-c', 'printenv NODE_EXTRA_CA_CERTS'];
  try {
    const r = await runCapc(args, { env: { NODE_EXTRA_CA_CERTS: cert } });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /W0906|warning/);
    // The -c command sees the variable capc was given.
    assert.equal(r.stdout.split('\n')[0], cert);
    assert.equal(rx.metrics.at(-1)?.find((m) => m.name === 'capc_map_n')?.sum?.dataPoints[0]?.asDouble, 1);
    // Without the CA the collector is not trusted: the export is lost, and counted.
    const before = rx.metrics.length;
    const bare = await runCapc(args, { env: { NODE_EXTRA_CA_CERTS: undefined } });
    assert.equal(bare.code, 0, bare.stderr);
    assert.match(bare.stderr, /warning\[W0906\]: otlp: 1 metric exports not exported/);
    assert.equal(rx.metrics.length, before);
  } finally {
    await rx.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
});
