// tests/e2e/decode-http-redis.test.ts — `capc run --decode` against a real
// nginx (HTTPS, curl with keep-alive) and a real redis-server (TLS,
// redis-cli), each the test's own on free ports, both ends traced (kept to
// the server's port in the kernel): each exchange is shown once, from the
// client, with both ends' addresses, ports and processes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { assertClientSeen, decodeRun, run, tlsCaptureOf } from '../support/decode-run.js';
import { requireKernel } from '../support/kernel.js';
import { nginxMissing, startNginx } from '../support/servers/nginx.js';
import { redisMissing, startRedis } from '../support/servers/redis.js';

function ready(t: import('node:test').TestContext, missing: string | undefined): boolean {
  if (!requireKernel(t)) return false;
  if (!missing) return true;
  if (process.env.CAPC_REQUIRE_KERNEL === '1') throw new Error(missing);
  t.skip(missing);
  return false;
}

test('curl to nginx over HTTPS: keep-alive requests and their statuses, captured at both ends, shown once', async (t) => {
  if (!ready(t, nginxMissing())) return;
  const n = await startNginx();
  const tag = `capc-http-${process.pid}`;
  try {
    fs.writeFileSync(path.join(n.root, `${tag}.html`), '<p>hello</p>\n');
    const base = `https://127.0.0.1:${n.port}`;
    const { exchanges, summary } = await decodeRun(
      ['--decode', 'http'],
      async () => {
        await run('curl', ['-sk', '--http1.1', `${base}/${tag}.html`, `${base}/${tag}-missing`, '-o', '/dev/null']);
        await run('curl', ['-sk', '--http1.1', '-d', 'q=1', `${base}/echo?${tag}=1`, '-o', '/dev/null']);
      },
      { program: tlsCaptureOf(n.port) },
    );
    assert.equal(exchanges.filter((x) => x.side === 'server').length, 0, "the server's side is not shown twice");
    assert.equal(summary!.paired, 3);
    {
      const side = 'client';
      const mine = exchanges.filter((x) => x.side === side && x.statement?.includes(tag));
      const st = (s: string) => mine.find((x) => x.statement === s);
      assert.equal(st(`GET /${tag}.html`)?.status, '200 OK', `${side}: ${JSON.stringify(mine)}`);
      assert.equal(st(`GET /${tag}-missing`)?.error, '404 Not Found');
      const post = st(`POST /echo?${tag}=1`);
      assert.equal(post?.status, '200 OK');
      assert.equal(post?.fingerprint, `POST /echo?${tag}=?`);
      assert.ok(mine.every((x) => x.protocol === 'http' && x.latency_ns !== null));
      for (const x of mine) assertClientSeen(x, n.port, ['curl'], 'nginx');
      // Keep-alive: the first curl's two requests went over one connection.
      assert.equal(st(`GET /${tag}.html`)!.client.port, st(`GET /${tag}-missing`)!.client.port);
      assert.notEqual(st(`GET /${tag}.html`)!.client.port, post!.client.port);
    }
  } finally {
    await n.stop();
  }
});

test('redis-cli to redis-server over TLS: commands and replies, RESP2 and RESP3, captured at both ends, shown once', async (t) => {
  if (!ready(t, redisMissing())) return;
  const r = await startRedis();
  const key = `capc-redis-${process.pid}`;
  try {
    const { exchanges } = await decodeRun(
      ['--decode', 'redis'],
      async () => {
        await r.cli(['SET', key, 'hello world']);
        await r.cli(['GET', key]);
        await r.cli(['RPUSH', `${key}:l`, 'a', 'b', 'c']);
        await r.cli(['-3', 'LRANGE', `${key}:l`, '0', '-1']);
        await r.cli(['HSET', key, 'f', 'v']).catch(() => {}); // WRONGTYPE: the key holds a string
      },
      { program: tlsCaptureOf(r.port) },
    );
    assert.equal(exchanges.filter((x) => x.side === 'server').length, 0, "the server's side is not shown twice");
    {
      const side = 'client';
      const mine = exchanges.filter((x) => x.side === side && x.statement?.includes(key));
      const st = (s: string) => mine.find((x) => x.statement === s);
      assert.equal(
        st(`SET ${key} "hello world"`)?.status,
        'OK',
        `${side}: ${mine.map((x) => x.statement).join(' | ')}`,
      );
      assert.equal(st(`GET ${key}`)?.status, 'bulk 11 bytes');
      assert.equal(st(`RPUSH ${key}:l a b c`)?.status, 'integer 3');
      assert.equal(st(`LRANGE ${key}:l 0 -1`)?.rows, 3);
      assert.match(st(`HSET ${key} f v`)?.error ?? '', /^WRONGTYPE/);
      assert.ok(
        mine.every((x) => x.user === 'default'),
        'AUTH seen: the user',
      );
      const auth = exchanges.find((x) => x.side === side && x.command === 'AUTH');
      assert.equal(auth?.statement, 'AUTH ?', 'the password is not printed');
      for (const x of mine) assertClientSeen(x, r.port, ['redis-cli'], 'redis-server');
    }
  } finally {
    await r.stop();
  }
});
