// tests/e2e/export-metrics.test.ts — `--metrics` on the real kernel: maps
// served live to Debian's Prometheus server (started here with its own
// config and data directory on a free loopback port), `promtool check
// metrics` on what capc serves, PromQL through Prometheus's HTTP API giving
// the values the workload made; decoded exchanges counted by protocol,
// server (its real address and port) and outcome, never by client port; a
// port in use (E0908, nothing loaded); and
// scrapers that hold connections without asking (refused, counted as W0906)
// while capture goes on.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runCapc } from '../support/capc.js';
import { pickFreePort } from '../support/db-servers.js';
import { requireKernel, requireTool } from '../support/kernel.js';
import { ownCommand } from '../support/own-command.js';

// dd under a name of its own: the other export tests run dd beside this one.
const DD = ownCommand('dd', 'ddmet');
const CURL = ownCommand('curl', 'curlmet');
process.on('exit', () => (DD.remove(), CURL.remove()));

const PROGRAM = `tracepoint:syscalls:sys_enter_write /comm == "${DD.comm}" && args->fd == 1/ {
  @writes = count();
  @bytes = hist(args->count);
  @lin = lhist(args->count, 0, 8192, 1024);
  @st = stats(args->count);
  @by_comm[comm] = sum(args->count);
  @who[comm, pid] = count();
  @name[pid] = comm;
}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function get(url: string, accept?: string): Promise<{ status: number; type: string; body: string }> {
  const r = await fetch(url, accept ? { headers: { accept } } : undefined);
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
}

/** Start Prometheus scraping `target` every second; resolves with its API base URL and a stop function. */
async function startPrometheus(target: string): Promise<{ api: string; stop: () => Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-prom-'));
  fs.writeFileSync(
    path.join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: capc\n    static_configs:\n      - targets: ['${target}']\n`,
  );
  const port = await pickFreePort();
  const proc = spawn(
    'prometheus',
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  proc.stderr!.on('data', (d) => (log += d));
  const exited = new Promise<void>((r) => proc.on('exit', () => r()));
  const api = `http://127.0.0.1:${port}/api/v1`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/-/ready`)).ok) break;
    } catch {
      /* not yet */
    }
    if (proc.exitCode !== null) throw new Error(`prometheus exited: ${log}`);
    await sleep(200);
  }
  return {
    api,
    stop: async () => {
      proc.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A PromQL instant query's single value (undefined while there is none). */
async function promValue(api: string, query: string): Promise<number | undefined> {
  const r = (await (await fetch(`${api}/query?query=${encodeURIComponent(query)}`)).json()) as {
    data: { result: { value: [number, string] }[] };
  };
  const v = r.data.result[0]?.value[1];
  return v === undefined ? undefined : Number(v);
}

async function waitForValue(api: string, query: string, want: number): Promise<number | undefined> {
  let v: number | undefined;
  for (let i = 0; i < 60; i++) {
    v = await promValue(api, query);
    if (v === want) return v;
    await sleep(500);
  }
  return v;
}

test('metrics: Prometheus scrapes every map live; promtool accepts the text; PromQL gives the workload', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'prometheus') || !requireTool(t, 'promtool')) return;
  let stderr = '';
  const checked: string[] = [];
  const r = await runCapc(['run', '-q', '--metrics', '127.0.0.1:0', '-e', PROGRAM], {
    timeoutMs: 120_000,
    onStderr: (s) => (stderr = s),
    onAttached: async (pid) => {
      try {
        const url = /capc: serving metrics at (\S+)/.exec(stderr)?.[1];
        assert.ok(url, stderr);
        execFileSync(DD.path, ['if=/dev/zero', 'of=/dev/null', 'bs=4k', 'count=100'], { stdio: 'ignore' });
        // Prometheus text: what promtool checks.
        const text = await get(url);
        assert.equal(text.status, 200);
        assert.match(text.type, /text\/plain; version=0.0.4/);
        const lint = spawnSync('promtool', ['check', 'metrics'], { input: text.body, encoding: 'utf8' });
        assert.equal(lint.status, 0, `promtool: ${lint.stdout}${lint.stderr}\n${text.body}`);
        assert.match(text.body, /^capc_map_writes_total 100$/m);
        assert.match(text.body, /^capc_map_bytes_bucket\{le="4095"\} 0$/m);
        assert.match(text.body, /^capc_map_bytes_bucket\{le="8191"\} 100$/m);
        assert.match(text.body, /^capc_map_bytes_bucket\{le="\+Inf"\} 100$/m);
        assert.match(text.body, /^capc_map_lin_bucket\{le="4095"\} 0$/m);
        assert.match(text.body, /^capc_map_lin_bucket\{le="5119"\} 100$/m);
        assert.match(text.body, /^capc_map_st_sum 409600$/m);
        assert.match(text.body, new RegExp(`^capc_map_by_comm\\{key="${DD.comm}"\\} 409600$`, 'm'));
        assert.match(text.body, new RegExp(`^capc_map_who_total\\{key0="${DD.comm}",key1="\\d+"\\} 100$`, 'm'));
        assert.match(text.body, new RegExp(`^capc_map_name\\{key="\\d+",value="${DD.comm}"\\} 1$`, 'm'));
        assert.match(text.body, /^capc_ring_drops_total\{ring="[^"]+"\} 0$/m);
        assert.match(
          text.body,
          /^capc_probe_runs_total\{probe="tracepoint:syscalls:sys_enter_write",role="probe",index="0"\} \d+$/m,
        );
        assert.match(text.body, /^capc_ring_size_bytes\{ring="[^"]+",role="events"\} 4194304$/m);
        // OpenMetrics when asked for it (Prometheus asks).
        const om = await get(url, 'application/openmetrics-text; version=1.0.0');
        assert.match(om.type, /application\/openmetrics-text/);
        assert.match(om.body, /^capc_map_writes_total 100$/m);
        assert.match(om.body, /# EOF\n$/);
        // The real server, scraping every second.
        const prom = await startPrometheus(new URL(url).host);
        try {
          assert.equal(await waitForValue(prom.api, 'capc_map_writes_total', 100), 100);
          assert.equal(await promValue(prom.api, 'capc_map_st_sum / capc_map_st_count'), 4096);
          assert.equal(await promValue(prom.api, `sum(capc_map_by_comm{key="${DD.comm}"})`), 409600);
          assert.equal(await promValue(prom.api, 'capc_map_bytes_bucket{le="8191"}'), 100);
          // Live: a second run of the workload shows on the next scrapes.
          execFileSync(DD.path, ['if=/dev/zero', 'of=/dev/null', 'bs=4k', 'count=100'], { stdio: 'ignore' });
          assert.equal(await waitForValue(prom.api, 'capc_map_writes_total', 200), 200);
          assert.equal(await promValue(prom.api, 'up{job="capc"}'), 1);
          checked.push('prometheus');
        } finally {
          await prom.stop();
        }
      } finally {
        process.kill(pid, 'SIGINT');
      }
    },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(checked, ['prometheus']);
  assert.doesNotMatch(r.stderr, /W0906/);
  // The maps still print at exit as usual.
  assert.match(r.stdout, /@writes: 200/);
});

test('metrics: decoded exchanges by protocol, server and outcome; promtool accepts them; no client port label', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'promtool')) return;
  const web = http.createServer((q, res) => {
    res.writeHead(q.url === '/missing' ? 404 : 200);
    res.end('ok\n');
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
  const port = (web.address() as net.AddressInfo).port;
  let stderr = '';
  let body = '';
  try {
    const program = `tracepoint:syscalls:sys_enter_sendto, tracepoint:syscalls:sys_enter_recvfrom /comm == "${CURL.comm}" && rport == ${port}/ accumulate(conn, 1024) -> ringbuf`;
    const r = await runCapc(['run', '-q', '--decode', 'http', '--metrics', '127.0.0.1:0', '-e', program], {
      timeoutMs: 120_000,
      onStderr: (s) => (stderr = s),
      onAttached: async (pid) => {
        try {
          const url = /capc: serving metrics at (\S+)/.exec(stderr)?.[1];
          assert.ok(url, stderr);
          // Three connections (three client ports), one server.
          for (const p of ['/a', '/b', '/missing'])
            await new Promise<void>((res, rej) =>
              execFile(CURL.path, ['-s', '-o', '/dev/null', `http://127.0.0.1:${port}${p}`], (e) =>
                e ? rej(e) : res(),
              ),
            );
          for (let i = 0; i < 40 && !/capc_exchanges_total\{[^}]*outcome="error"/.test(body); i++) {
            await sleep(250);
            body = (await get(url)).body;
          }
        } finally {
          process.kill(pid, 'SIGINT');
        }
      },
    });
    assert.equal(r.code, 0, r.stderr);
  } finally {
    web.close();
  }
  const lint = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
  assert.equal(lint.status, 0, `promtool: ${lint.stdout}${lint.stderr}\n${body}`);
  const server = `127.0.0.1:${port}`;
  assert.match(body, new RegExp(`^capc_exchanges_total\\{protocol="http",server="${server}",outcome="ok"\\} 2$`, 'm'));
  assert.match(
    body,
    new RegExp(`^capc_exchanges_total\\{protocol="http",server="${server}",outcome="error"\\} 1$`, 'm'),
  );
  assert.match(
    body,
    new RegExp(`^capc_exchange_duration_seconds_count\\{protocol="http",server="${server}",outcome="ok"\\} 2$`, 'm'),
  );
  // Every exchange series has exactly these labels: the clients' ports are nowhere.
  for (const line of body.split('\n').filter((l) => l.startsWith('capc_exchange')))
    assert.match(line, /^capc_exchange\w*\{protocol="http",server="[^"]+",outcome="\w+"(,le="[^"]+")?\} /, line);
});

test('metrics: a port in use is E0908 (exit 1, nothing loaded); a malformed address is E0904 (exit 2)', async (t) => {
  if (!requireKernel(t)) return;
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  const port = (busy.address() as net.AddressInfo).port;
  try {
    const r = await runCapc(['run', '--metrics', `127.0.0.1:${port}`, '-e', 'BEGIN { exit(); }']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /error\[E0908\]: cannot serve metrics on 127\.0\.0\.1:\d+: the port is in use/);
    assert.deepEqual(r.programIds, []);
  } finally {
    busy.close();
  }
  const bad = await runCapc(['run', '--metrics', 'localhost:port', '-e', 'BEGIN { exit(); }']);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /E0904.*--metrics needs HOST:PORT/);
});

test('metrics: scrapers that hold connections are refused and counted; capture goes on', async (t) => {
  if (!requireKernel(t)) return;
  let stderr = '';
  const r = await runCapc(
    [
      'run',
      '-q',
      '--metrics',
      '127.0.0.1:0',
      '-e',
      `tracepoint:syscalls:sys_enter_write /comm == "${DD.comm}"/ { @w = count(); }`,
    ],
    {
      timeoutMs: 120_000,
      onStderr: (s) => (stderr = s),
      onAttached: async (pid) => {
        try {
          const url = new URL(/capc: serving metrics at (\S+)/.exec(stderr)![1]!);
          // Ten scrapers that connect, send half a request and never read: two are too many.
          const held = await Promise.all(
            Array.from(
              { length: 10 },
              () =>
                new Promise<net.Socket>((res) => {
                  const s = net.connect(Number(url.port), url.hostname, () => {
                    s.write('GET /metrics HTTP/1.1\r\n');
                    res(s);
                  });
                  s.on('error', () => {});
                }),
            ),
          );
          await sleep(500);
          execFileSync(DD.path, ['if=/dev/zero', 'of=/dev/null', 'bs=1k', 'count=50'], { stdio: 'ignore' });
          for (const s of held) s.destroy();
          await sleep(300);
          const ok = await get(url.toString());
          assert.equal(ok.status, 200);
          assert.match(ok.body, /^capc_map_w_total \d+$/m);
          assert.match(ok.body, /^capc_export_lost_total\{sink="metrics",unit="scrapes"\} 2$/m);
        } finally {
          process.kill(pid, 'SIGINT');
        }
      },
    },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /warning\[W0906\]: metrics: 2 scrapes not exported to 127\.0\.0\.1:0: too many scrapes at once/,
  );
  assert.match(r.stdout, /@w: \d+/);
});
