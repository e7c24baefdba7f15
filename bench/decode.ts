// bench/decode.ts — the protocol decoders.
// `decoders`: throughput in isolation, MB/s of captured bytes per protocol,
// on synthetic conversations shaped like real ones (a query and a 10-row
// result; an HTTP GET and a 2 KiB page; Redis GET/SET of 100-byte values),
// cut into the 1 KiB records `accumulate(conn, 1024)` delivers and into 16 KiB
// ones. Goal: at least 200 MB/s.
// `decode-seed000`: seed 000's scenario with decoding: a real MariaDB (and
// PostgreSQL) over TLS, a 4-thread client at its highest rate for 30 s, each
// query carrying a unique marker; untraced, then traced by `capc run
// --decode` on SSL_read/SSL_write: exchanges decoded / queries sent on the
// client side and on the server side, drops, traced rate vs untraced, and
// capc's CPU per 1,000 queries.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ConnectionDecoder } from '../runtime/protocols/connection.js';
import type { ProtocolName } from '../runtime/protocols/exchange.js';
import { capcBin, repoRoot } from '../tests/support/paths.js';
import { whenAttached } from '../tests/support/ready.js';
import { startMariadb } from '../tests/support/servers/mariadb.js';
import { startPostgres } from '../tests/support/servers/postgres.js';
import { systemPython } from '../tests/support/servers/process.js';
import { fmtStat, mkTemp, run, smoke, stat } from './lib.js';

// ---- synthetic conversations --------------------------------------------------
function pg(type: string, body: Buffer | string): Buffer {
  const b = Buffer.from(body as string, 'latin1');
  const h = Buffer.alloc(5);
  h.write(type, 0, 'latin1');
  h.writeUInt32BE(b.length + 4, 1);
  return Buffer.concat([h, b]);
}
function my(payload: Buffer, seq: number): Buffer {
  const h = Buffer.alloc(4);
  h.writeUIntLE(payload.length, 0, 3);
  h[3] = seq;
  return Buffer.concat([h, payload]);
}
const lenstr = (s: string) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)]);

/** One request and its response, as (client bytes, server bytes), for request `i`. */
const EXCHANGES: Record<ProtocolName, (i: number) => [Buffer, Buffer]> = {
  postgres: (i) => {
    const row = pg(
      'D',
      Buffer.concat([
        Buffer.from([0, 2, 0, 0, 0, 4]),
        Buffer.from(String(1000 + i)),
        Buffer.from([0, 0, 0, 60]),
        Buffer.alloc(60, 0x61),
      ]),
    );
    return [
      pg('Q', `SELECT id, name FROM items WHERE owner = ${i} LIMIT 10\0`),
      Buffer.concat([
        pg(
          'T',
          Buffer.concat([
            Buffer.from([0, 2]),
            Buffer.from('id\0'),
            Buffer.alloc(18),
            Buffer.from('name\0'),
            Buffer.alloc(18),
          ]),
        ),
        ...Array<Buffer>(10).fill(row),
        pg('C', 'SELECT 10\0'),
        pg('Z', 'I'),
      ]),
    ];
  },
  mysql: (i) => {
    const def = (n: string) =>
      my(
        Buffer.concat([
          lenstr('def'),
          lenstr('shop'),
          lenstr('items'),
          lenstr('items'),
          lenstr(n),
          lenstr(n),
          Buffer.alloc(13),
        ]),
        0,
      );
    const rows = Array.from({ length: 10 }, (_, k) =>
      my(Buffer.concat([lenstr(String(1000 + i)), lenstr('a'.repeat(60))]), 4 + k),
    );
    const d1 = def('id');
    const d2 = def('name');
    d1[3] = 2;
    d2[3] = 3;
    return [
      my(Buffer.concat([Buffer.from([3]), Buffer.from(`SELECT id, name FROM items WHERE owner = ${i} LIMIT 10`)]), 0),
      Buffer.concat([my(Buffer.from([2]), 1), d1, d2, ...rows, my(Buffer.from([0xfe, 0, 0, 0x22, 0, 0, 0]), 14)]),
    ];
  },
  http: (i) => [
    Buffer.from(`GET /api/orders/${i} HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n`),
    Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2048\r\n\r\n${'x'.repeat(2048)}`),
  ],
  redis: (i) =>
    i % 2
      ? [
          Buffer.from(`*2\r\n$3\r\nGET\r\n$${String(i).length + 5}\r\nuser:${i}\r\n`),
          Buffer.from(`$100\r\n${'v'.repeat(100)}\r\n`),
        ]
      : [
          Buffer.from(`*3\r\n$3\r\nSET\r\n$${String(i).length + 5}\r\nuser:${i}\r\n$100\r\n${'v'.repeat(100)}\r\n`),
          Buffer.from('+OK\r\n'),
        ],
};

/** Decode `seconds` worth of one protocol's conversation cut in `record`-byte records: MB/s and exchanges/s. */
function throughput(p: ProtocolName, record: number, seconds = 2): { mbps: number; xps: number } {
  // A 16 MiB conversation, cut into records the way the capture delivers them (each direction in turn).
  const chunks: { dir: 0 | 1; data: Buffer }[] = [];
  let bytes = 0;
  for (let i = 0; bytes < 16 << 20; i++) {
    const [req, resp] = EXCHANGES[p](i);
    for (const [dir, b] of [
      [0, req],
      [1, resp],
    ] as const)
      for (let k = 0; k < b.length; k += record) chunks.push({ dir, data: b.subarray(k, k + record) });
    bytes += req.length + resp.length;
  }
  let exchanges = 0;
  let fed = 0;
  const t0 = performance.now();
  let loops = 0;
  while (performance.now() - t0 < seconds * 1000 || loops === 0) {
    const d = new ConnectionDecoder(
      { id: 1, pid: 1, comm: 'bench', local: null, peer: null },
      { protocols: [p], forced: false },
      () => exchanges++,
    );
    const st = { first: 1n, last: 1n };
    for (const c of chunks) d.data(c.dir, c.data, st);
    d.end('done');
    fed += bytes;
    loops++;
  }
  const s = (performance.now() - t0) / 1000;
  return { mbps: fed / s / 1e6, xps: exchanges / s };
}

export async function decoderBench(runs = 3): Promise<string> {
  const rows: string[] = [];
  for (const p of ['postgres', 'mysql', 'http', 'redis'] as const) {
    const cols: string[] = [];
    for (const record of [1024, 16384]) {
      const r = Array.from({ length: runs }, () => throughput(p, record, smoke ? 0.2 : 2));
      cols.push(fmtStat(stat(r.map((x) => x.mbps)), 'MB/s'), fmtStat(stat(r.map((x) => x.xps / 1000)), 'k/s'));
    }
    rows.push(`| ${p} | ${cols.join(' | ')} |`);
  }
  return [
    '## Protocol decoders in isolation',
    '',
    `Synthetic conversations shaped like real ones (PostgreSQL and MySQL: a query and a 10-row result, ~1 KB; HTTP: a GET and a 2 KiB page; Redis: GET/SET of 100-byte values), decoded by runtime/protocols/ from memory, ${runs} runs of 2 s each (median, min–max). Goal: at least 200 MB/s.`,
    '',
    '| protocol | 1 KiB records: MB/s | exchanges/s | 16 KiB records: MB/s | exchanges/s |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

// ---- seed 000 with decoding ------------------------------------------------------
const PROG =
  'uprobe:libssl:SSL_write, uprobe:libssl:SSL_read, uprobe:libssl:SSL_write_ex, uprobe:libssl:SSL_read_ex accumulate(conn, 1024) -> ringbuf';

interface ScenarioResult {
  untraced: number;
  traced: number;
  sent: number;
  client: number;
  /** Queries sent in the run scoped to the server, and the server's side decoded there. */
  serverSent: number;
  server: number;
  notDecoded: number;
  drops: number;
  serverDrops: number;
  cpuPer1000: number;
}

/** One run of the client under `capc run --decode` (with `scope`): what it sent and what capc decoded of it. */
async function tracedRun(
  py: string,
  args: (tag: string) => string[],
  kind: 'mysql' | 'postgres',
  decode: boolean,
  scope: string[],
): Promise<{
  qps: number;
  sent: number;
  marked: (side: string) => number;
  notDecoded: number;
  drops: number;
  cpuPer1000: number;
}> {
  const dir = mkTemp('capc-bench-decode-');
  const out = path.join(dir, 'out.json');
  const statsFile = path.join(dir, 'stats.json');
  const tag = `m${process.pid}${scope.length ? 's' : 'w'}`;
  const ring = process.env.BENCH_DECODE_RING ? ['--capture-ring-size', process.env.BENCH_DECODE_RING] : [];
  const capc = spawn(
    capcBin,
    ['run', '-q', '-f', 'json', '-o', out, ...ring, ...scope, ...(decode ? ['--decode', kind] : []), '-e', PROG],
    {
      env: { ...process.env, CAPC_STATS_FILE: statsFile, CAPC_READY_FD: '3' },
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  capc.stderr!.on('data', (d) => (err += d));
  await whenAttached(capc).catch((e: Error) => Promise.reject(new Error(`${e.message}: ${err}`)));
  const r = await run(py, args(tag));
  await new Promise((res) => setTimeout(res, 500));
  const exited = new Promise((res) => capc.on('exit', res));
  capc.kill('SIGINT');
  await exited;
  const sent = JSON.parse(r.stdout.trim().split('\n').pop()!) as { queries: number; qps: number };
  const lines = fs
    .readFileSync(out, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
  const marked = (side: string) =>
    new Set(
      lines
        .filter(
          (l) =>
            l.type === 'exchange' &&
            l.data.side === side &&
            typeof l.data.statement === 'string' &&
            (l.data.statement as string).includes(`'${tag}-`) &&
            !l.data.not_decoded,
        )
        .map((l) => new RegExp(`'(${tag}-\\d+-\\d+)'`).exec(l.data.statement as string)?.[1]),
    ).size;
  const summary = lines.find((l) => l.type === 'capture_summary')?.data ?? {};
  const stats = JSON.parse(fs.readFileSync(statsFile, 'utf8')) as { runCpuSeconds: number };
  return {
    qps: sent.qps,
    sent: sent.queries,
    marked,
    notDecoded: lines.filter((l) => l.type === 'exchange' && l.data.not_decoded).length,
    drops: Number(summary.dropped_records ?? 0),
    cpuPer1000: (stats.runCpuSeconds / sent.queries) * 1000,
  };
}

async function scenario(
  kind: 'mysql' | 'postgres',
  seconds: number,
  threads: number,
  decode = true,
): Promise<ScenarioResult> {
  const py = systemPython([kind === 'mysql' ? 'pymysql' : 'psycopg2']);
  if (!py) throw new Error(`python3 with ${kind === 'mysql' ? 'pymysql' : 'psycopg2'} is missing`);
  const load = path.join(repoRoot, 'tests', 'fixtures', 'targets', 'db_load.py');
  const srv = kind === 'mysql' ? await startMariadb() : await startPostgres();
  try {
    const setup =
      "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(64)); INSERT INTO items VALUES (1, 'apple'), (2, 'pear'), (3, 'plum'), (4, 'fig'), (5, 'kiwi')";
    if (kind === 'mysql') await (srv as Awaited<ReturnType<typeof startMariadb>>).client(setup);
    else await (srv as Awaited<ReturnType<typeof startPostgres>>).psql(setup);
    const args = (tag: string) => [
      load,
      kind,
      '127.0.0.1',
      String(srv.port),
      srv.user,
      srv.password,
      srv.database,
      String(threads),
      String(seconds),
      tag,
    ];
    const untraced = JSON.parse((await run(py, args('u'))).stdout) as { qps: number };
    // System-wide, capc sees both ends of each connection and shows each exchange once, from the client's
    // side (the server's are only counted, `paired`): the client's side is measured so, then the server's
    // alone, in a second run scoped to the server (-p: its process and the backends it forks).
    const wide = await tracedRun(py, args, kind, decode, []);
    const server = await tracedRun(py, args, kind, decode, ['-p', String(srv.pid)]);
    return {
      untraced: untraced.qps,
      traced: wide.qps,
      sent: wide.sent,
      client: wide.marked('client'),
      serverSent: server.sent,
      server: server.marked('server'),
      notDecoded: wide.notDecoded + server.notDecoded,
      drops: wide.drops,
      serverDrops: server.drops,
      cpuPer1000: wide.cpuPer1000,
    };
  } finally {
    await srv.stop();
  }
}

export async function decodeScenarioBench(
  runs = 1,
  seconds = Number(process.env.BENCH_DECODE_SECONDS ?? 30),
): Promise<string> {
  const rows: string[] = [];
  for (const kind of ['mysql', 'postgres'] as const) {
    for (let i = 0; i < runs; i++) {
      const r = await scenario(kind, seconds, 4);
      const pct = (n: number, of = r.sent) => `${((100 * n) / of).toFixed(2)}%`;
      rows.push(
        `| ${kind === 'mysql' ? 'MariaDB' : 'PostgreSQL'} | ${r.untraced.toFixed(0)} | ${r.traced.toFixed(0)} (${((100 * r.traced) / r.untraced).toFixed(0)}%) | ${r.sent} | ${pct(r.client)} | ${pct(r.server, r.serverSent)} of ${r.serverSent} | ${r.drops} + ${r.serverDrops} | ${r.notDecoded} | ${r.cpuPer1000.toFixed(3)} s |`,
      );
    }
  }
  return [
    '## Seed 000 with decoding: every query accounted for',
    '',
    `A real server over TLS on loopback, a 4-thread Python client (PyMySQL, psycopg2) at its highest rate for ${seconds} s, each query \`SELECT '<unique marker>', id, name FROM items LIMIT 5\`; untraced, then under \`capc run --decode\` system-wide (accumulate(conn, 1024) on SSL_read/SSL_write and _ex, JSON to a file), which sees the client and the server and shows each exchange once, from the client's side; then again scoped to the server (\`-p\` its pid, which follows the backends it forks) for the server's side. Decoded = distinct markers found in exchanges that were decoded, over queries sent in that run. Drops: records the kernel dropped in the system-wide run + in the server's.`,
    '',
    '| server | untraced q/s | traced q/s | queries sent | decoded, client side | decoded, server side (of the queries of its run) | drops (records: system-wide + server) | exchanges not decoded | capc CPU per 1,000 queries |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
