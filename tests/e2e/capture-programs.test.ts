// tests/e2e/capture-programs.test.ts — capture against real programs and the
// cases capture tools get wrong: Python's ssl (SSL_read_ex/SSL_write_ex), curl
// against nginx, Node's https (OpenSSL linked into the node binary), a quiet
// connection's last bytes (the idle flush), plain syscalls, and non-blocking
// writers retrying after SSL_ERROR_WANT_WRITE.
// test-lane: exclusive (the idle flush must arrive within 200 ms)
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runCapc } from '../support/capc.js';
import { requireKernel, requireTool } from '../support/kernel.js';
import { repoRoot } from '../support/paths.js';

import {
  assertStreamsMatch,
  assertStreamsMatchByContent,
  freePort,
  onlyPeers,
  startUntil,
  testCert,
  tlsPeer,
} from '../support/tls.js';

const tmp = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), p));
/**
 * One TLS connection that writes once (10 bytes) and then stays open idle: the server on `port`, then its client.
 * Each says when it is ready ('listening', 'wrote TIME').
 */
async function idlePair(port: number, peers: string) {
  const { cert, key } = testCert();
  const server = await startUntil(
    tlsPeer(),
    ['server', String(port), cert, key, peers, '1', '1', '1', 'idle'],
    'listening',
  );
  const client = await startUntil(tlsPeer(), ['client', String(port), peers, '1', '1', '1', 'idle'], 'wrote');
  return { server, client };
}

/** A predicate keeping the connections whose server listens on `port` (either end), by their identity. */
const ownPort = (port: number) => `/fd >= 0 && (lport == ${port} || rport == ${port})/`;

test('Python ssl (SSL_write_ex / SSL_read_ex): byte-exact', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'python3') || !requireTool(t, 'cc')) return;
  const { cert, key } = testCert();
  const work = tmp('capc-py-');
  const peers = path.join(work, 'peers');
  fs.mkdirSync(peers);
  const port = freePort();
  let pyPid = 0;
  const r = await runCapc(
    [
      'run',
      '-q',
      '--write-streams',
      path.join(work, 's'),
      '-e',
      // Only this test's connections (their server's port, by identity): other TLS on the machine stays out.
      `uprobe:libssl:SSL_write_ex, uprobe:libssl:SSL_read_ex ${ownPort(port)} accumulate(conn, 1024) -> ringbuf`,
    ],
    {
      timeoutMs: 120000,
      onAttached: async (pid) => {
        const server = await startUntil(
          tlsPeer(),
          ['server', String(port), cert, key, peers, '4', '12', '11'],
          'listening',
        );
        const py = spawn(
          'python3',
          [path.join(repoRoot, 'tests/fixtures/targets/tls_peer_client.py'), String(port), peers, '4', '12', '11'],
          { stdio: 'inherit' },
        );
        pyPid = py.pid!;
        const code = await new Promise((res) => py.on('exit', res));
        assert.equal(code, 0, 'python client failed');
        assert.equal(await server.exited, 0);
        process.kill(pid, 'SIGINT');
      },
    },
  );
  assert.equal(r.code, 0, r.stderr);
  const m = assertStreamsMatchByContent(peers, path.join(work, 's'), 'pyclient', 4, pyPid);
  assert.ok(m.bytes > 200_000, `${m.bytes} bytes`);
});

test('curl to nginx over HTTPS: the request line and the response body are captured', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'nginx') || !requireTool(t, 'curl')) return;
  const { cert, key } = testCert();
  const work = tmp('capc-nginx-');
  fs.chmodSync(work, 0o755);
  fs.mkdirSync(path.join(work, 'www'));
  fs.mkdirSync(path.join(work, 'logs'));
  const marker = `capc-body-${process.pid}-${Date.now()}`;
  fs.writeFileSync(path.join(work, 'www', 'page.html'), `<html><body>${marker}</body></html>\n`);
  const port = freePort();
  fs.writeFileSync(
    path.join(work, 'nginx.conf'),
    `user root; worker_processes 1; daemon off; pid ${work}/nginx.pid; error_log ${work}/logs/error.log;
events { worker_connections 64; }
http { access_log off; server { listen 127.0.0.1:${port} ssl; ssl_certificate ${cert}; ssl_certificate_key ${key}; root ${work}/www; } }\n`,
  );
  const nginx = spawn(
    'nginx',
    ['-p', work, '-c', path.join(work, 'nginx.conf'), '-e', path.join(work, 'logs', 'error.log')],
    { stdio: 'ignore' },
  );
  try {
    for (let i = 0; i < 50 && !fs.existsSync(path.join(work, 'nginx.pid')); i++)
      await new Promise((r) => setTimeout(r, 100));
    const r = await runCapc(
      [
        'run',
        '-f',
        'json',
        '-e',
        `uprobe:libssl:SSL_write, uprobe:libssl:SSL_read, uprobe:libssl:SSL_write_ex, uprobe:libssl:SSL_read_ex ${ownPort(port)} accumulate(conn, 1024) -> ringbuf`,
      ],
      {
        timeoutMs: 60000,
        onAttached: (pid) => {
          execFileSync('curl', ['-sk', '--http1.1', `https://127.0.0.1:${port}/page.html`, '-o', '/dev/null']);
          setTimeout(() => process.kill(pid, 'SIGINT'), 300);
        },
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const records = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .filter((x) => x.type === 'capture');
    const text = (comm: string, dir: string) =>
      Buffer.concat(
        records
          .filter((x) => x.data.comm === comm && x.data.dir === dir)
          .map((x) => Buffer.from(x.data.data_b64, 'base64')),
      ).toString('latin1');
    assert.match(text('curl', 'egress'), /^GET \/page\.html HTTP\/1\.1\r\n/m, 'curl sent the request line');
    assert.match(text('curl', 'ingress'), new RegExp(marker), 'curl received the body');
    assert.match(text('nginx', 'ingress'), /GET \/page\.html HTTP\/1\.1/, 'nginx read the request');
    assert.match(text('nginx', 'egress'), new RegExp(marker), 'nginx sent the body');
  } finally {
    nginx.kill('SIGTERM');
  }
});

test("Node's https: captured by probing the node binary itself", async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'nginx')) return;
  const node = process.execPath;
  const syms = execFileSync('sh', ['-c', `nm -D ${node} 2>/dev/null | grep -c ' T SSL_write$' || true`], {
    encoding: 'utf8',
  }).trim();
  if (syms === '0') return t.skip(`${node} does not export SSL_write (OpenSSL not linked in)`);
  const { cert, key } = testCert();
  const port = freePort();
  const marker = `node-https-${Date.now()}`;
  const server = `const https=require('https');https.createServer({cert:require('fs').readFileSync('${cert}'),key:require('fs').readFileSync('${key}')},(q,s)=>{s.end('${marker}')}).listen(${port},'127.0.0.1',()=>console.log('listening'))`;
  const srv = await startUntil(node, ['-e', server], 'listening');
  try {
    const client = `require('https').get({host:'127.0.0.1',port:${port},path:'/hello-from-node',rejectUnauthorized:false},r=>{r.resume();r.on('end',()=>process.exit(0))})`;
    const prog =
      ['SSL_write', 'SSL_read', 'SSL_write_ex', 'SSL_read_ex'].map((f) => `uprobe:${node}:${f}`).join(', ') +
      ' accumulate(conn, 1024) -> ringbuf';
    const r = await runCapc(['run', '-f', 'json', '-e', prog], {
      timeoutMs: 60000,
      onAttached: (pid) => {
        execFileSync(node, ['-e', client]);
        setTimeout(() => process.kill(pid, 'SIGINT'), 300);
      },
    });
    assert.equal(r.code, 0, r.stderr);
    const all = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .filter((x) => x.type === 'capture')
      .map((x) => Buffer.from(x.data.data_b64, 'base64').toString('latin1'))
      .join('');
    assert.match(all, /GET \/hello-from-node HTTP\/1\.1/);
    assert.match(all, new RegExp(marker));
  } finally {
    srv.proc.kill();
  }
});

test('idle flush: one 10-byte write on a quiet connection arrives within 200 ms', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'cc')) return;
  const peers = tmp('capc-idle-');
  const port = freePort();
  let wroteAt = 0;
  let seenAt = 0;
  const r = await runCapc(
    [
      'run',
      '-f',
      'json',
      '-e',
      `uprobe:libssl:SSL_write, uprobe:libssl:SSL_read ${ownPort(port)} accumulate(conn, 4096) -> ringbuf`,
    ],
    {
      timeoutMs: 60000,
      onStdout: (chunk) => {
        if (!seenAt && chunk.includes('SURMRS0xMC1CCg==')) seenAt = Date.now(); // base64 of "IDLE-10-B\n"
      },
      onAttached: async (pid) => {
        const { server, client } = await idlePair(port, peers);
        wroteAt = Number(/wrote ([\d.]+)/.exec(client.out())![1]);
        await Promise.all([client.exited, server.exited]);
        process.kill(pid, 'SIGINT');
      },
    },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.ok(seenAt > 0, 'the 10 bytes never arrived');
  const latency = seenAt - wroteAt;
  console.log(`# idle flush: 10 bytes reached capc's output ${latency.toFixed(1)} ms after the write`);
  assert.ok(latency < 200, `idle flush took ${latency} ms`);
});

test('-q --write-streams: a quiet connection reaches its file, and its end the output, without waiting for batches', async (t) => {
  // With no payload shown, the native drain holds batches of in-order data up to 1 s (they only count bytes);
  // the bytes themselves go to the file at once, and a connection's end (a record that shows) goes over at once.
  if (!requireKernel(t) || !requireTool(t, 'cc')) return;
  const work = tmp('capc-lazy-');
  const peers = path.join(work, 'peers');
  fs.mkdirSync(peers);
  const dir = path.join(work, 's');
  const port = freePort();
  let wroteAt = 0;
  let fileAt = 0;
  let exitedAt = 0;
  let endAt = 0;
  let clientPid = 0;
  let out = '';
  const hasBytes = (d: string): boolean =>
    fs.existsSync(d) &&
    fs.readdirSync(d, { withFileTypes: true }).some((e) => {
      const p = path.join(d, e.name);
      return e.isDirectory() ? hasBytes(p) : e.name.endsWith('.bin') && fs.readFileSync(p).includes('IDLE-10-B\n');
    });
  const r = await runCapc(
    [
      'run',
      '-q',
      '-f',
      'json',
      '--write-streams',
      dir,
      '-e',
      `uprobe:libssl:SSL_write, uprobe:libssl:SSL_read ${ownPort(port)} accumulate(conn, 4096) -> ringbuf`,
    ],
    {
      timeoutMs: 60000,
      onStdout: (chunk) => {
        // The client's connection's end (the server's ends as soon as it has read).
        out += chunk;
        const ends = out.split('\n').filter((l) => l.includes('"capture_end"'));
        if (!endAt && clientPid && ends.some((l) => JSON.parse(l).data.pid === clientPid)) endAt = Date.now();
      },
      onAttached: async (pid) => {
        const { server, client } = await idlePair(port, peers);
        clientPid = client.proc.pid!;
        wroteAt = Number(/wrote ([\d.]+)/.exec(client.out())![1]);
        while (!fileAt && Date.now() - wroteAt < 1500) {
          if (hasBytes(dir)) fileAt = Date.now();
          else await new Promise((res) => setTimeout(res, 5));
        }
        await client.exited;
        exitedAt = Date.now();
        await server.exited;
        for (let i = 0; i < 200 && !endAt; i++) await new Promise((res) => setTimeout(res, 5));
        process.kill(pid, 'SIGINT');
      },
    },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.ok(fileAt > 0, 'the 10 bytes never reached the stream file while the connection was open');
  assert.ok(endAt > 0, 'the connection end was shown only at exit');
  console.log(
    `# -q --write-streams: bytes in the file ${(fileAt - wroteAt).toFixed(0)} ms after the write, capture_end ${endAt - exitedAt} ms after the client exited`,
  );
  assert.ok(fileAt - wroteAt < 400, `the bytes reached the file ${fileAt - wroteAt} ms after the write`);
  assert.ok(endAt - exitedAt < 600, `capture_end came ${endAt - exitedAt} ms after the client exited`);
});

test('syscalls: write and read captured through the tracepoints, keyed by (process, fd)', async (t) => {
  if (!requireKernel(t)) return;
  const marker = `capc-syscall-${Date.now()}`;
  const file = path.join(tmp('capc-sys-'), 'data.txt');
  fs.writeFileSync(file, `${marker}\n`);
  const r = await runCapc([
    'run',
    '-f',
    'json',
    '-e',
    'tracepoint:syscalls:sys_enter_write, tracepoint:syscalls:sys_enter_read /pid == cpid/ capture(conn, 256) -> ringbuf',
    '-c',
    `cat ${file}`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const caps = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .filter((x) => x.type === 'capture');
  const byDir = (dir: string) =>
    caps
      .filter((x) => x.data.dir === dir)
      .map((x) => Buffer.from(x.data.data_b64, 'base64').toString('latin1'))
      .join('');
  assert.ok(byDir('egress').includes(marker), 'cat wrote the file to stdout');
  assert.ok(byDir('ingress').includes(marker), 'cat read the file');
  const fds = new Set(
    caps
      .filter((x) => Buffer.from(x.data.data_b64, 'base64').toString('latin1').includes(marker))
      .map((x) => x.data.key),
  );
  assert.equal(fds.size, 2, 'the file and stdout are two connections (two fds)');
});

test('non-blocking writers retrying after WANT_WRITE: return-time capture is exact, entry-time capture duplicates', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'cc')) return;
  const { cert, key } = testCert();
  for (const atEntry of [false, true]) {
    const work = tmp('capc-nb-');
    const peers = path.join(work, 'peers');
    fs.mkdirSync(peers);
    const port = freePort();
    let retries = 0;
    // A 16 MiB capture ring: the bursts are large, and a starved reader (a busy machine) must not turn this into a loss test.
    const prog = `config = { capture_ring_size = 16M${atEntry ? '; capture_writes_at_entry = 1' : ''} }\nuprobe:libssl:SSL_write, uprobe:libssl:SSL_read accumulate(conn, 1024) -> ringbuf`;
    const r = await runCapc(['run', '-q', '--write-streams', path.join(work, 's'), '-e', onlyPeers(prog)], {
      timeoutMs: 120000,
      onAttached: async (pid) => {
        const server = await startUntil(
          tlsPeer(),
          ['server', String(port), cert, key, peers, '2', '3', '5', 'nonblock'],
          'listening',
        );
        const client = await startUntil(
          tlsPeer(),
          ['client', String(port), peers, '2', '3', '5', 'nonblock'],
          undefined,
        );
        await Promise.all([server.exited, client.exited]);
        retries = Number(/want_write_retries (\d+)/.exec(client.out())?.[1] ?? 0);
        process.kill(pid, 'SIGINT');
      },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(retries > 0, 'the workload must hit SSL_ERROR_WANT_WRITE');
    if (!atEntry) {
      assertStreamsMatch(peers, path.join(work, 's'), ['client', 'server'], 2);
    } else {
      assert.throws(
        () => assertStreamsMatch(peers, path.join(work, 's'), ['client'], 2),
        /captured \d+ bytes, the peer sent/,
        'entry-time capture records the bytes of failed writes again',
      );
    }
  }
});

test('connections of processes that exit without closing them are ended while the session runs, once each', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'cc')) return;
  // A writer that never calls close(): its fd is closed by the kernel at exit, which no tracepoint sees.
  const dir = tmp('capc-reap-');
  const src = path.join(dir, 'w.c');
  fs.writeFileSync(
    src,
    '#include <string.h>\n#include <unistd.h>\nint main(int c, char **v) { write(1, v[1], strlen(v[1])); _exit(0); }\n',
  );
  // A name of its own: this test may run elsewhere on the machine at the same time.
  const name = `reap${crypto.randomBytes(4).toString('hex')}`;
  const writer = path.join(dir, name);
  execFileSync('cc', ['-O0', '-o', writer, src]);
  const pids: number[] = [];
  const r = await runCapc(
    ['run', '-e', `tracepoint:syscalls:sys_enter_write /comm == "${name}"/ accumulate(conn, 1024) -> ringbuf`],
    {
      timeoutMs: 60000,
      onAttached: async (pid) => {
        for (let i = 0; i < 3; i++) {
          const child = spawn(writer, [`hello-${i}`], { stdio: ['ignore', 'pipe', 'ignore'] });
          pids.push(child.pid!);
          await new Promise((res) => child.on('close', res));
        }
        // Quiet for 5 s, then the once-a-second check ends them; stop a little later.
        await new Promise((res) => setTimeout(res, 7500));
        process.kill(pid, 'SIGINT');
      },
    },
  );
  assert.equal(r.code, 0, r.stderr);
  for (const pid of pids) {
    const ends = r.stdout.split('\n').filter((l) => l.startsWith('--- ') && l.includes(`${name}[${pid}]`));
    assert.deepEqual(
      // Its stdout is the socketpair Node's spawn() gives a child: an unnamed unix socket.
      ends.map((l) => l.replace(/^--- conn \d+ reap[0-9a-f]+\[\d+\] unix -> unix /, '')),
      ['ended: its process exited: 7 bytes out, 0 in'],
      r.stdout,
    );
  }
  assert.doesNotMatch(r.stdout, /still open at exit/);
  assert.match(r.stderr, /^capture: 3 connections, 21 B out, 0 B in, \d+ records, nothing lost$/m);
});
