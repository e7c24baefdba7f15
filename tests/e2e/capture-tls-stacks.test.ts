// tests/e2e/capture-tls-stacks.test.ts — every TLS stack on the machine,
// captured byte-exact on the real kernel with real peers on loopback: the
// README's one-liner on the system's python3 (SSL_*_ex only), Go's
// crypto/tls (RET-instruction returns, goroutine keys), NSS (PR_Write/PR_Read
// on the SSL layer only, not on plain files), GnuTLS (gnutls-cli,
// gnutls-serv, wget), BoringSSL (bssl client), node's built-in OpenSSL
// (https server and client), all found by --tls, under -c through a shell
// (descendants followed in the kernel); and what capc says when it cannot
// capture: TLS the program does not probe (W0908), no connection (W0909),
// stacks it cannot probe (W0907).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
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
  startUntil,
  testCert,
  tlsPeer,
} from '../support/tls.js';
import { goPeer, nssPeer, readIndex, script, staticTlsPeer, streamBytes } from '../support/tls-stacks.js';

const README_ONE_LINER = 'uprobe:libssl:SSL_write, uprobe:libssl:SSL_read accumulate(conn, 1024) -> ringbuf';
const tmp = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), p));
const PY = '/usr/bin/python3';

test("the README's one-liner captures the system python3's client and server (SSL_*_ex only) byte-exact both ways", async (t) => {
  if (!requireKernel(t) || !requireTool(t, PY) || !requireTool(t, 'openssl')) return;
  const { cert, key } = testCert();
  const work = tmp('capc-py3-');
  const peers = path.join(work, 'peers');
  fs.mkdirSync(peers);
  const port = freePort();
  const target = (f: string) => path.join(repoRoot, 'tests/fixtures/targets', f);
  // Under -c (the command and its descendants), so other TLS programs on this shared machine stay out.
  const sh = script(
    work,
    'run.sh',
    `${PY} ${target('tls_peer_server.py')} ${port} ${cert} ${key} ${peers} 3 8 5 > ${work}/server.log &
echo $! > ${work}/server.pid
for i in $(seq 100); do grep -q listening ${work}/server.log && break; sleep 0.1; done
${PY} ${target('tls_peer_client.py')} ${port} ${peers} 3 8 5 &
echo $! > ${work}/client.pid
wait`,
  );
  const r = await runCapc(
    ['run', '-q', '--write-streams', path.join(work, 's'), '-e', README_ONE_LINER, '-c', `sh ${sh}`],
    {
      timeoutMs: 120000,
    },
  );
  assert.equal(r.code, 0, r.stderr);
  const pid = (f: string) => Number(fs.readFileSync(path.join(work, f), 'utf8'));
  const c = assertStreamsMatchByContent(peers, path.join(work, 's'), 'pyclient', 3, pid('client.pid'));
  const s = assertStreamsMatchByContent(peers, path.join(work, 's'), 'pyserver', 3, pid('server.pid'));
  assert.ok(c.bytes > 50_000 && s.bytes === c.bytes, `${c.bytes} / ${s.bytes} bytes`);
  assert.doesNotMatch(r.stderr, /W090[3567]/);
});

test('Go crypto/tls: (*Conn).Write/Read probed by name, returns at RET instructions, client and server byte-exact', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'go') || !requireTool(t, 'openssl')) return;
  const go = goPeer();
  const { cert, key } = testCert();
  const work = tmp('capc-go-');
  const peers = path.join(work, 'peers');
  fs.mkdirSync(peers);
  const port = freePort();
  const program = `uprobe:${go}:"crypto/tls.(*Conn).Write", uprobe:${go}:"crypto/tls.(*Conn).Read" accumulate(conn, 1024) -> ringbuf`;
  const r = await runCapc(['run', '-q', '--write-streams', path.join(work, 's'), '-e', program], {
    timeoutMs: 120000,
    onAttached: async (pid) => {
      const server = await startUntil(go, ['server', String(port), cert, key, peers, '3', '6', '21'], 'listening');
      const client = await startUntil(go, ['client', String(port), peers, '3', '6', '21'], undefined);
      assert.equal(await client.exited, 0, client.out());
      assert.equal(await server.exited, 0, server.out());
      process.kill(pid, 'SIGINT');
    },
  });
  assert.equal(r.code, 0, r.stderr);
  const m = assertStreamsMatch(peers, path.join(work, 's'), ['client', 'server'], 3);
  assert.equal(m.connections, 6);
  assert.ok(m.bytes > 50_000, `${m.bytes} bytes`);
});

test("--tls under -c follows a shell script's descendants: NSS client to an OpenSSL server, a Go client and server (stripped), byte-exact", async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'go') || !requireTool(t, 'pkg-config') || !requireTool(t, 'cc')) return;
  const { cert, key } = testCert();
  const work = tmp('capc-tlsc-');
  const [cdir, godir] = [path.join(work, 'c'), path.join(work, 'go')];
  fs.mkdirSync(cdir);
  fs.mkdirSync(godir);
  const [p1, p2] = [freePort(), freePort()];
  const go = goPeer(true);
  const sh = script(
    work,
    'run.sh',
    `${tlsPeer()} server ${p1} ${cert} ${key} ${cdir} 2 5 3 > ${work}/c-server.log &
${go} server ${p2} ${cert} ${key} ${godir} 2 5 4 > ${work}/go-server.log &
for i in $(seq 50); do grep -q listening ${work}/c-server.log && grep -q listening ${work}/go-server.log && break; sleep 0.1; done
${nssPeer()} ${p1} ${cdir} 2 5 3
${go} client ${p2} ${godir} 2 5 4
wait`,
  );
  const r = await runCapc(['run', '-q', '--write-streams', path.join(work, 's'), '--tls', '-c', `sh ${sh}`], {
    timeoutMs: 120000,
  });
  assert.equal(r.code, 0, r.stderr);
  const streams = path.join(work, 's');
  const c = assertStreamsMatch(cdir, streams, ['server', 'nss'], 2);
  const g = assertStreamsMatch(godir, streams, ['client', 'server'], 2);
  assert.equal(c.connections + g.connections, 8);
  // The NSS client also writes its output files with PR_Write: those are not TLS and not captured.
  const nssConns = readIndex(streams).filter((e) => e.comm.startsWith('nss-peer'));
  assert.equal(nssConns.length, 2, `NSS connections: ${nssConns.map((e) => e.key).join(' ')}`);
  // Identity: NSS learns its socket from the syscalls inside PR_Write/PR_Read; Go's is not learned (a
  // goroutine may change threads inside a call) and stays unknown, never guessed.
  for (const e of nssConns) assert.deepEqual([e.peer?.port, e.learned], [p1, 'tls-syscall'], JSON.stringify(e));
  // The OpenSSL server calls SSL_set_fd: discovery attached capc's learner there too.
  const cServer = readIndex(streams).filter((e) => e.comm === path.basename(tlsPeer()).slice(0, 15));
  assert.equal(cServer.length, 2);
  for (const e of cServer) assert.deepEqual([e.local?.port, e.learned], [p1, 'SSL_set_fd'], JSON.stringify(e));
  const goConns = readIndex(streams).filter((e) => e.comm.startsWith('go-tls-peer'));
  assert.ok(goConns.length === 4 && goConns.every((e) => e.identity === 'unknown'), JSON.stringify(goConns));
});

test('GnuTLS and BoringSSL: gnutls-cli and bssl client against gnutls-serv --echo, all three byte-exact', async (t) => {
  if (
    !requireKernel(t) ||
    !requireTool(t, 'gnutls-serv') ||
    !requireTool(t, 'gnutls-cli') ||
    !requireTool(t, 'bssl-tool')
  )
    return;
  const { cert, key } = testCert();
  const work = tmp('capc-gnutls-');
  const port = freePort();
  const lines = Array.from({ length: 40 }, (_, i) => `line ${i} ${Math.random().toString(36).slice(2)}\n`).join('');
  fs.writeFileSync(path.join(work, 'a.txt'), lines);
  fs.writeFileSync(path.join(work, 'b.txt'), lines.toUpperCase());
  const sh = script(
    work,
    'run.sh',
    `gnutls-serv --echo -p ${port} --x509certfile=${cert} --x509keyfile=${key} > ${work}/serv.log 2>&1 &
S=$!
for i in $(seq 50); do grep -q 'listening' ${work}/serv.log && break; sleep 0.1; done
(cat ${work}/a.txt; sleep 1) | gnutls-cli --insecure -p ${port} 127.0.0.1 > ${work}/cli.out 2>&1
(cat ${work}/b.txt; sleep 1) | bssl-tool client -connect 127.0.0.1:${port} > ${work}/bssl.out 2>&1 || true
kill $S`,
  );
  const r = await runCapc(['run', '--write-streams', path.join(work, 's'), '--tls', '-c', `sh ${sh}`], {
    timeoutMs: 120000,
  });
  assert.equal(r.code, 0, r.stderr);
  const streams = path.join(work, 's');
  const index = readIndex(streams);
  const a = Buffer.from(lines);
  const b = Buffer.from(lines.toUpperCase());
  const find = (comm: string, data: Buffer) =>
    index.find((e) => e.comm.startsWith(comm) && streamBytes(streams, e, 'egress').equals(data));
  const cli = find('gnutls-cli', a);
  assert.ok(cli, `gnutls-cli's stream: ${index.map((e) => `${e.comm} ${e.streams.map((s) => s.bytes)}`).join('; ')}`);
  assert.ok(streamBytes(streams, cli, 'ingress').equals(a), 'gnutls-cli received its echo');
  assert.ok(find('gnutls-serv', a), 'gnutls-serv echoed what gnutls-cli sent');
  const bssl = find('bssl-tool', b);
  assert.ok(bssl, 'the BoringSSL client (libssl.so.0, found in its maps) is captured');
  assert.ok(streamBytes(streams, bssl, 'ingress').equals(b));
  assert.ok(find('gnutls-serv', b), 'gnutls-serv echoed what bssl sent');
  // Identity: GnuTLS (client and server) from the syscalls inside its record calls, BoringSSL from SSL_set_fd
  // (discovery attaches it where it attaches the capture) or those syscalls.
  for (const e of [cli, bssl]) assert.equal(e.peer?.port, port, `${e.comm} talks to ${port}: ${JSON.stringify(e)}`);
  for (const e of index.filter((x) => x.comm.startsWith('gnutls-serv')))
    assert.equal(e.local?.port, port, `gnutls-serv answers on ${port}: ${JSON.stringify(e)}`);
  assert.match(r.stderr, /TLS.*BoringSSL in \/usr\/lib\/x86_64-linux-gnu\/android\/libssl\.so\.0/);
});

const NODE_HTTPS = `
const https = require('https'), fs = require('fs');
const [cert, key, mode, port, body] = process.argv.slice(2);
if (mode === 'server') {
  const s = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (q, r) => {
    r.setHeader('content-type', 'text/plain'); r.end(body + ' ' + q.url); s.close();
  });
  s.listen(Number(port), '127.0.0.1', () => console.log('listening'));
} else if (mode === 'client') {
  https.get({ host: '127.0.0.1', port: Number(port), path: '/from-node', rejectUnauthorized: false, agent: false }, (res) => {
    let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => { console.log(b); process.exit(0); });
  });
} else {
  const s = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (q, r) => r.end(body));
  s.listen(0, '127.0.0.1', () => https.get({ host: '127.0.0.1', port: s.address().port, path: '/x', rejectUnauthorized: false }, (res) => {
    res.resume(); res.on('end', () => { s.close(); process.exit(0); });
  }));
}`;

test("wget (GnuTLS) and node's https client against node's https server (OpenSSL built into node): each side's stream is the other's", async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'wget')) return;
  const { cert, key } = testCert();
  const work = tmp('capc-node-');
  const js = path.join(work, 'https.js');
  fs.writeFileSync(js, NODE_HTTPS);
  const [p1, p2] = [freePort(), freePort()];
  const body = `capc-body-${process.pid}`;
  const sh = script(
    work,
    'run.sh',
    `node ${js} ${cert} ${key} server ${p1} ${body} > ${work}/s1.log &
node ${js} ${cert} ${key} server ${p2} ${body} > ${work}/s2.log &
for i in $(seq 100); do grep -q listening ${work}/s1.log && grep -q listening ${work}/s2.log && break; sleep 0.1; done
wget -q --no-check-certificate -O ${work}/wget.out https://127.0.0.1:${p1}/from-wget
node ${js} ${cert} ${key} client ${p2} > ${work}/client.out
wait`,
  );
  const r = await runCapc(['run', '--write-streams', path.join(work, 's'), '--tls', '-c', `sh ${sh}`], {
    timeoutMs: 120000,
  });
  assert.equal(r.code, 0, r.stderr);
  const streams = path.join(work, 's');
  const index = readIndex(streams);
  const pair = (clientComm: string, path0: string) => {
    const client = index.find(
      (e) => e.comm.startsWith(clientComm) && streamBytes(streams, e, 'egress').includes(`GET ${path0} HTTP/1.1`),
    );
    assert.ok(client, `${clientComm}'s request: ${index.map((e) => `${e.comm}/${e.key}`).join(' ')}`);
    const req = streamBytes(streams, client, 'egress');
    const resp = streamBytes(streams, client, 'ingress');
    const server = index.find((e) => e !== client && streamBytes(streams, e, 'ingress').equals(req));
    assert.ok(server, `no server connection received exactly ${clientComm}'s ${req.length}-byte request`);
    assert.ok(streamBytes(streams, server, 'egress').equals(resp), 'the server sent exactly what the client received');
    assert.ok(resp.includes(`${body} ${path0}`), 'the response body is there');
  };
  pair('wget', '/from-wget');
  pair('node', '/from-node');
  assert.match(r.stderr, /TLS.*built into node in \/usr\/bin\/node/);
});

test('-p PID follows the process tree: a client its shell starts later is captured, the server outside the tree is not', async (t) => {
  if (!requireKernel(t) || !requireTool(t, PY) || !requireTool(t, 'cc')) return;
  const { cert, key } = testCert();
  const work = tmp('capc-ptree-');
  const peers = path.join(work, 'peers');
  fs.mkdirSync(peers);
  const port = freePort();
  const server = await startUntil(tlsPeer(), ['server', String(port), cert, key, peers, '2', '4', '8'], 'listening');
  const client = path.join(repoRoot, 'tests/fixtures/targets/tls_peer_client.py');
  // The shell waits for a go file, then starts the client: it does not exist when capc attaches.
  const sh = spawn(
    'sh',
    ['-c', `while [ ! -e ${work}/go ]; do sleep 0.1; done; ${PY} ${client} ${port} ${peers} 2 4 8`],
    {
      stdio: 'ignore',
    },
  );
  const r = await runCapc(
    ['run', '-q', '--write-streams', path.join(work, 's'), '-p', String(sh.pid), '-e', README_ONE_LINER],
    {
      timeoutMs: 60000,
      onAttached: () => fs.writeFileSync(path.join(work, 'go'), ''),
    },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await server.exited, 0);
  const index = readIndex(path.join(work, 's'));
  assert.equal(index.filter((e) => e.comm.startsWith('python3')).length, 2, 'both client connections');
  assert.equal(index.filter((e) => e.pid === server.proc.pid).length, 0, 'the server is outside the tree');
  const pyPid = index.find((e) => e.comm.startsWith('python3'))!.pid;
  assertStreamsMatchByContent(peers, path.join(work, 's'), 'pyclient', 2, pyPid);
});

test("the plain one-liner names node when node's https client talks TLS through its own OpenSSL (W0908)", async (t) => {
  if (!requireKernel(t)) return;
  const { cert, key } = testCert();
  const work = tmp('capc-miss-');
  const js = path.join(work, 'https.js');
  fs.writeFileSync(js, NODE_HTTPS);
  let nodePid = 0;
  const r = await runCapc(['run', '-q', '-e', README_ONE_LINER], {
    timeoutMs: 60000,
    onAttached: async (pid) => {
      const n = spawn('node', [js, cert, key, 'both', '0', 'hello'], { stdio: 'ignore' });
      nodePid = n.pid!;
      assert.equal(await new Promise((res) => n.on('exit', res)), 0);
      process.kill(pid, 'SIGINT');
    },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning\[W0908\]: TLS traffic this program did not capture/);
  assert.match(
    r.stderr,
    new RegExp(`node\\[${nodePid}\\]: .*SSL_write \\d+x.* in OpenSSL.* built into node \\(/usr/bin/node\\)`),
  );
  assert.match(r.stderr, /would be captured by: uprobe:\/usr\/bin\/node:SSL_write, uprobe:\/usr\/bin\/node:SSL_read/);
});

test('a capture that sees no connection says so, and which probes saw nothing (W0909)', async (t) => {
  if (!requireKernel(t)) return;
  const r = await runCapc(['run', '-q', '-e', README_ONE_LINER, '-c', 'true'], { timeoutMs: 60000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /warning\[W0909\]: the capture saw no connection: nothing in scope called SSL_write, SSL_read, SSL_write_ex, SSL_read_ex in \S*libssl\.so\.3/,
  );
  assert.match(r.stderr, /capc run --tls/);
});

test('TLS capc cannot probe is named with what was tried: a stripped static OpenSSL program, a Go program of an older ABI (W0907)', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'go') || !requireTool(t, 'strip')) return;
  const { cert, key } = testCert();
  const work = tmp('capc-bad-');
  const stripped = staticTlsPeer(true);
  // A Go binary that says it was built by Go 1.16 (stack ABI): the version in its build info rewritten.
  const oldGo = path.join(work, 'old-go');
  const bin = fs.readFileSync(goPeer());
  let patched = 0;
  for (let v = bin.indexOf('go1.19.'); v >= 0; v = bin.indexOf('go1.19.', v + 1), patched++)
    bin.write('go1.16.', v, 'latin1');
  assert.ok(patched > 0, 'the Go peer carries its Go version');
  fs.writeFileSync(oldGo, bin, { mode: 0o755 });
  const [p1, p2] = [freePort(), freePort()];
  const sh = script(
    work,
    'run.sh',
    `${stripped} server ${p1} ${cert} ${key} ${work} 1 1 1 > /dev/null &
A=$!
${oldGo} server ${p2} ${cert} ${key} ${work} 1 1 1 > /dev/null &
B=$!
sleep 1.5
kill $A $B`,
  );
  const r = await runCapc(['run', '-q', '--tls', '-c', `sh ${sh}`], { timeoutMs: 60000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `W0907\\]: ${stripped.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} has OpenSSL.* but no symbols .*looked in \\.dynsym and \\.symtab`,
    ),
  );
  assert.match(r.stderr, new RegExp(`W0907\\]: ${oldGo} uses Go's crypto/tls, built with go1\\.16.*Go 1\\.17\\+`));
  // Probed by name, the same binary is refused at attach, with the reason.
  const e = await runCapc([
    'run',
    '-q',
    '-e',
    `uprobe:${oldGo}:"crypto/tls.(*Conn).Write" accumulate(conn, 1024) -> ringbuf`,
    '-c',
    'true',
  ]);
  assert.equal(e.code, 1, e.stderr);
  assert.match(
    e.stderr,
    /error\[E0801\]: .*was built with go1\.16.*\n(.*\n)*.*from Go 1\.17 on x86-64 \(the register ABI\)/,
  );
});
