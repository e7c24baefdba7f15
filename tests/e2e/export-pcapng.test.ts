// tests/e2e/export-pcapng.test.ts — `--pcapng` on the real kernel against
// real servers started here (PostgreSQL, MariaDB, Redis, an HTTP/1.x
// server, plain TCP on loopback): capc captures each client's socket
// syscalls to that server (by the connection's identity, in the kernel),
// Debian's tshark dissects every protocol in capc's file (its own
// dissectors, decode-as on the server port), every captured stream is in
// the file byte for byte, and the packets carry the connections' real
// addresses and ports (the client's SYN to the server's port). Also: the file is created 0600 and never over an
// existing file (E0907), `-> pcapng("FILE")` in the language, and a full
// disk (a small tmpfs mounted here) costs packets, counted (W0906), never
// the capture or the file's readability.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runCapc } from '../support/capc.js';
import { startHttp, startMariadb, startPostgres, startRedis, postgresBin, type Server } from '../support/db-servers.js';
import { requireKernel, requireTool } from '../support/kernel.js';
import { ownCommand } from '../support/own-command.js';
import { assertPcapngMatchesStreams, decodeAs, fieldValues, tshark } from '../support/pcapng-read.js';

const SOCKET_IO = [
  'tracepoint:syscalls:sys_enter_write',
  'tracepoint:syscalls:sys_enter_read',
  'tracepoint:syscalls:sys_enter_sendto',
  'tracepoint:syscalls:sys_enter_recvfrom',
].join(', ');

/**
 * Run capc capturing `comm`'s socket I/O with the server on `port` to a pcapng while `workload` runs; returns the
 * file and stream dir.
 */
async function capture(comm: string, port: number, workload: () => void, sink = '-> ringbuf', extra: string[] = []) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-pcapng-'));
  const file = path.join(work, 'out.pcapng');
  const streams = path.join(work, 'streams');
  const program = `${SOCKET_IO} /comm == "${comm}" && rport == ${port}/ accumulate(conn, 1024) ${sink.replace('FILE', file)}`;
  const args = ['run', '-q', '--write-streams', streams, ...(sink.includes('pcapng') ? [] : ['--pcapng', file])];
  const r = await runCapc([...args, ...extra, '-e', program], {
    timeoutMs: 120_000,
    onAttached: (pid) => {
      try {
        workload();
      } finally {
        process.kill(pid, 'SIGINT');
      }
    },
  });
  assert.equal(r.code, 0, r.stderr);
  return { work, file, streams, stderr: r.stderr };
}

/** Every conversation is the client's real one: 127.0.0.1 both ways, its SYN from an ephemeral port to `port`. */
function assertRealEnds(file: string, port: number): void {
  const syn = 'tcp.flags.syn == 1 && tcp.flags.ack == 0';
  const to = fieldValues(file, syn, 'tcp.dstport');
  assert.ok(to.length >= 1 && to.every((p) => p === String(port)), `SYNs to ${to.join(', ')}`);
  assert.ok(fieldValues(file, syn, 'tcp.srcport').every((p) => p !== String(port)));
  assert.deepEqual([...new Set(fieldValues(file, 'tcp', 'ip.src'))], ['127.0.0.1']);
  assert.ok(!fieldValues(file, 'frame.comment', 'frame.comment').some((c) => c.includes('placeholders')));
}

async function withServer<T>(start: () => Promise<Server>, f: (s: Server) => Promise<T>): Promise<T> {
  const s = await start();
  try {
    return await f(s);
  } finally {
    await s.stop();
  }
}

test('pcapng: HTTP/1.x from curl dissected by tshark, byte-exact, file 0600', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'tshark') || !requireTool(t, 'curl')) return;
  await withServer(startHttp, async (s) => {
    const { file, streams } = await capture('curl', s.port, () => {
      for (const p of ['/', '/index.html', '/missing'])
        execFileSync('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${s.port}${p}`]);
    });
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const d = decodeAs('http', s.port);
    assert.deepEqual(fieldValues(file, 'http.request', 'http.request.uri', d), ['/', '/index.html', '/missing']);
    assert.deepEqual(fieldValues(file, 'http.response', 'http.response.code', d), ['200', '200', '404']);
    assert.ok(assertPcapngMatchesStreams(file, streams, 'curl') > 300);
    // Complete conversations: every one that carried data has its handshake and its FIN.
    const syn = fieldValues(file, 'tcp.flags.syn == 1 && tcp.flags.ack == 0', 'tcp.stream').length;
    const fin = fieldValues(file, 'tcp.flags.fin == 1', 'tcp.stream').length;
    assert.ok(syn >= 3 && fin === 2 * syn, `${syn} SYNs, ${fin} FINs`);
    assertRealEnds(file, s.port);
  });
});

test('pcapng: PostgreSQL from psql dissected by tshark, byte-exact', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'tshark') || !requireTool(t, 'psql') || !postgresBin('initdb')) {
    if (!postgresBin('initdb') && process.env.CAPC_REQUIRE_KERNEL === '1') assert.fail('PostgreSQL is not installed');
    return;
  }
  await withServer(startPostgres, async (s) => {
    const { file, streams } = await capture('psql', s.port, () => {
      execFileSync(
        'psql',
        [
          '-h',
          '127.0.0.1',
          '-p',
          String(s.port),
          '-U',
          'postgres',
          '-d',
          'postgres',
          '-Atc',
          'select 4242 as capc_answer',
        ],
        { env: { ...process.env, PGSSLMODE: 'disable' }, stdio: 'ignore' },
      );
    });
    const d = decodeAs('pgsql', s.port);
    assert.deepEqual(fieldValues(file, 'pgsql.query', 'pgsql.query', d), ['select 4242 as capc_answer']);
    assert.ok(
      fieldValues(file, 'pgsql.type == "Startup message"', 'pgsql.parameter_value', d).join(',').includes('postgres'),
    );
    assert.ok(fieldValues(file, 'pgsql.type == "Data row"', 'pgsql.val.data', d).length >= 1);
    assert.ok(assertPcapngMatchesStreams(file, streams, 'psql') > 100);
    assertRealEnds(file, s.port);
  });
});

test('pcapng: MySQL protocol from the mariadb client dissected by tshark, byte-exact', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'tshark') || !requireTool(t, 'mariadbd') || !requireTool(t, 'mariadb'))
    return;
  await withServer(startMariadb, async (s) => {
    const { file, streams } = await capture('mariadb', s.port, () => {
      execFileSync(
        'mariadb',
        [
          '--no-defaults',
          '-h',
          '127.0.0.1',
          '-P',
          String(s.port),
          '-u',
          'root',
          '--skip-ssl',
          '-e',
          'select 4242 as capc_answer',
        ],
        { stdio: 'ignore' },
      );
    });
    const d = decodeAs('mysql', s.port);
    assert.ok(fieldValues(file, 'mysql.query', 'mysql.query', d).includes('select 4242 as capc_answer'));
    assert.ok(fieldValues(file, 'mysql.user', 'mysql.user', d).includes('root'));
    assert.ok(assertPcapngMatchesStreams(file, streams, 'mariadb') > 100);
    assertRealEnds(file, s.port);
  });
});

test('pcapng: Redis (RESP) from redis-cli dissected by tshark, byte-exact; -> pcapng("FILE") in the language', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'tshark') || !requireTool(t, 'redis-server')) return;
  await withServer(startRedis, async (s) => {
    const { file, streams } = await capture(
      'redis-cli',
      s.port,
      () => {
        execFileSync('redis-cli', ['-p', String(s.port), 'set', 'capc-key', 'capc-value'], { stdio: 'ignore' });
        execFileSync('redis-cli', ['-p', String(s.port), 'get', 'capc-key'], { stdio: 'ignore' });
      },
      '-> pcapng("FILE")',
    );
    const d = decodeAs('resp', s.port);
    // Bulk strings are bytes: tshark prints them in hex.
    const strings = fieldValues(file, 'resp', 'resp.bulk_string.value', d)
      .flatMap((v) => v.split(','))
      .map((h) => Buffer.from(h, 'hex').toString())
      .join(',');
    for (const w of ['set', 'capc-key', 'capc-value', 'get']) assert.ok(strings.includes(w), `${w} in ${strings}`);
    assert.ok(assertPcapngMatchesStreams(file, streams, 'redis-cli') > 50);
    assertRealEnds(file, s.port);
  });
});

test('pcapng: an existing file or a symlink is never written (E0907, exit 2, nothing loaded)', async (t) => {
  if (!requireKernel(t)) return;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-pcapng-'));
  const existing = path.join(work, 'old.pcapng');
  fs.writeFileSync(existing, 'keep me');
  const link = path.join(work, 'link.pcapng');
  fs.symlinkSync(path.join(work, 'target'), link);
  for (const f of [existing, link]) {
    const r = await runCapc(['run', '--pcapng', f, '-e', `${SOCKET_IO} accumulate(conn, 1024) -> ringbuf`]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /error\[E0907\]: cannot create the pcapng file/);
    assert.deepEqual(r.programIds, []);
  }
  assert.equal(fs.readFileSync(existing, 'utf8'), 'keep me');
  assert.ok(!fs.existsSync(path.join(work, 'target')));
  const noCapture = await runCapc(['run', '--pcapng', path.join(work, 'x.pcapng'), '-e', 'BEGIN { exit(); }']);
  assert.equal(noCapture.code, 2);
  assert.match(noCapture.stderr, /E0904.*--pcapng needs a program that captures payload/);
});

// dd under a name of its own: the other export tests run dd beside this one.
const DD = ownCommand('dd', 'ddpcap');
process.on('exit', () => DD.remove());

test('pcapng: a full disk loses packets, counted (W0906), while capture goes on and the file stays readable', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'tshark') || !requireTool(t, 'mount')) return;
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'capc-test', mnt]);
  try {
    const file = path.join(mnt, 'full.pcapng');
    const streams = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-streams-'));
    const r = await runCapc(
      [
        'run',
        '-q',
        '--pcapng',
        file,
        '--write-streams',
        streams,
        '-e',
        `${SOCKET_IO} /comm == "${DD.comm}"/ accumulate(conn, 4096) -> ringbuf(16M)`,
      ],
      {
        timeoutMs: 120_000,
        onAttached: (pid) => {
          try {
            execFileSync(DD.path, ['if=/dev/zero', 'of=/dev/null', 'bs=16k', 'count=128'], { stdio: 'ignore' });
          } finally {
            process.kill(pid, 'SIGINT');
          }
        },
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const w = /warning\[W0906\]: pcapng: (\d+) packets \((\d+) payload bytes\) not exported to .*: ENOSPC/.exec(
      r.stderr,
    );
    assert.ok(w, r.stderr);
    // Capture went on: the stream files hold every byte dd moved (2 MiB each way).
    const index = JSON.parse(fs.readFileSync(path.join(streams, 'streams.json'), 'utf8')) as {
      streams: { bytes: number }[];
    }[];
    const total = index.flatMap((e) => e.streams).reduce((n, s) => n + s.bytes, 0);
    assert.ok(total >= 2 * 16384 * 128, `${total} bytes in the stream files`);
    // The file holds whole packets only: tshark reads it to the end without complaint.
    const size = fs.statSync(file).size;
    assert.ok(size > 0 && size <= 256 * 1024);
    const frames = tshark(file, ['-T', 'fields', '-e', 'frame.number']).split('\n').filter(Boolean).length;
    assert.ok(frames > 3, `${frames} frames readable`);
    fs.rmSync(streams, { recursive: true, force: true });
  } finally {
    execFileSync('umount', [mnt]);
    fs.rmdirSync(mnt);
  }
});
