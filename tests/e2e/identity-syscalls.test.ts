// tests/e2e/identity-syscalls.test.ts — connection identity of syscall
// capture (key = fd), looked up in the kernel from the fd's socket: unix
// sockets by path (bound and abstract), TCP over IPv6, a pipe that is not a
// socket, a predicate on the port evaluated in the kernel, and an fd used
// again after it was closed without close(2).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { runCapc } from '../support/capc.js';
import { jsonLines } from '../support/identity.js';
import { requireKernel, requireTool } from '../support/kernel.js';
import { repoRoot } from '../support/paths.js';
import { buildTarget } from '../support/targets.js';
import { freePort } from '../support/tls.js';

const SCRIPT = path.join(repoRoot, 'tests/fixtures/targets/socket_pairs.py');
const SYSCALLS = 'tracepoint:syscalls:sys_enter_sendto, tracepoint:syscalls:sys_enter_recvfrom';

test('unix sockets by path (bound and abstract) and TCP over IPv6: both ends of each, as the process sees them', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'python3')) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-id-unix-'));
  const port = freePort();
  const r = await runCapc([
    'run',
    '-e',
    `${SYSCALLS} /pid == cpid/ accumulate(conn, 1024) -> ringbuf`,
    '-c',
    `python3 ${SCRIPT} ${dir} ${port}`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const sock = path.join(dir, 'capc.sock').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const line = (arrow: string, where: string, dir: string, text: string) =>
    new RegExp(`^${arrow} conn \\d+ \\S+\\[\\d+\\] ${where} ${dir} \\d+ bytes at 0\\n${text}$`, 'm');
  assert.match(r.stdout, line('>>>', `unix -> ${sock}`, 'egress', 'ping-unix'), r.stdout);
  assert.match(r.stdout, line('<<<', `${sock} -> unix`, 'ingress', 'ping-unix'));
  assert.match(r.stdout, line('>>>', `${sock} -> unix`, 'egress', 'pong-unix'));
  assert.match(r.stdout, line('>>>', 'unix -> @capc-test-\\d+', 'egress', 'ping-abstract'));
  assert.match(r.stdout, line('<<<', '@capc-test-\\d+ -> unix', 'ingress', 'ping-abstract'));
  const tcp = new RegExp(
    `^>>> conn \\d+ \\S+\\[\\d+\\] \\[::1\\]:(\\d+) -> \\[::1\\]:${port} egress 9 bytes at 0$`,
    'm',
  ).exec(r.stdout);
  assert.ok(tcp, r.stdout);
  assert.match(r.stdout, line('<<<', `\\[::1\\]:${port} -> \\[::1\\]:${tcp[1]}`, 'ingress', 'ping-tcp6'));
});

test('a predicate on the port runs in the kernel for syscall capture: only that connection, both ends', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'python3')) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-id-pred-'));
  const port = freePort();
  const r = await runCapc([
    'run',
    '-f',
    'json',
    '-e',
    `${SYSCALLS} /pid == cpid && (rport == $1 || lport == $1) && raddr == "::1"/ accumulate(conn, 1024) -> ringbuf`,
    String(port),
    '-c',
    `python3 ${SCRIPT} ${dir} ${port}`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = jsonLines(r.stdout);
  const caps = lines.filter((l) => l.type === 'capture');
  const text = caps.map((l) => Buffer.from(l.data.data_b64 as string, 'base64').toString()).sort();
  assert.deepEqual(text, ['ping-tcp6', 'ping-tcp6', 'pong-tcp6', 'pong-tcp6'], 'each end sent and received');
  for (const l of caps) {
    assert.equal(l.data.identity, 'socket');
    assert.equal(typeof l.data.fd, 'number');
    assert.ok([l.data.local, l.data.peer].some((e) => (e as { port: number }).port === port));
  }
  const conn = lines.filter((l) => l.type === 'capture_conn');
  assert.equal(conn.length, 2);
  for (const l of conn) {
    assert.equal(l.data.family, 'inet6');
    assert.equal(l.data.learned, 'fd');
    assert.equal(BigInt(l.data.key as string), BigInt(l.data.fd as number), 'the key of syscall capture is the fd');
  }
});

test("an fd that is not a socket says what it is: a pipe (and capc's own stdout, a socketpair from Node, is a socket)", async (t) => {
  if (!requireKernel(t)) return;
  const marker = `through-a-pipe-${process.pid}`;
  const r = await runCapc([
    'run',
    '-f',
    'json',
    '-e',
    'tracepoint:syscalls:sys_enter_write /comm == "cat"/ accumulate(conn, 1024) -> ringbuf',
    '-c',
    `sh -c 'echo ${marker} | cat | cat'`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = jsonLines(r.stdout);
  const caps = lines.filter(
    (l) =>
      l.type === 'capture' &&
      Buffer.from(l.data.data_b64 as string, 'base64')
        .toString()
        .includes(marker),
  );
  const conn = (l: (typeof caps)[number]) =>
    lines.find((x) => x.type === 'capture_conn' && x.data.conn === l.data.conn)!.data;
  // The first cat writes into the pipe to the second...
  const piped = caps.find((l) => l.data.identity === 'not-socket');
  assert.ok(piped, r.stdout);
  assert.equal(piped.data.fd, 1);
  assert.equal(conn(piped).type, 'pipe');
  assert.equal(conn(piped).peer, null);
  // ...which writes to the stdout it inherited: Node gives children a unix socketpair.
  const out = caps.find((l) => l.data.identity === 'socket');
  assert.ok(out, r.stdout);
  assert.equal(conn(out).family, 'unix');
  assert.deepEqual(conn(out).peer, { path: '' }, 'an unnamed socketpair end');
});

test('an fd closed without close(2) (close-on-exec) and used again for a socket: the identity is looked up again', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'cc')) return;
  const bin = buildTarget('exec-reuse');
  const comm = path.basename(bin).slice(0, 15);
  const server = net.createServer((s) => s.resume());
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const r = await runCapc([
      'run',
      '-e',
      `tracepoint:syscalls:sys_enter_write /comm == "${comm}" && fd == 9/ { printf("fd %d rport %d\\n", fd, rport); }`,
      '-c',
      `${bin} ${port}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    // The pipe before exec, then the socket: not the pipe's identity kept for the same (fd, process).
    assert.match(r.stdout, new RegExp(`^fd 9 rport 0\\nfd 9 rport ${port}$`, 'm'), r.stdout);
  } finally {
    server.close();
  }
});
