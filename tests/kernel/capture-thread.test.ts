// tests/kernel/capture-thread.test.ts — the capture ring is drained by its
// own thread, which also writes the stream files: a main thread that stops
// for three seconds (an output that blocks, as a stalled terminal or a long
// garbage collection would) loses nothing, and every byte lands in the files.
// That holds for the native drain (runtime/native/, the default) and for the
// JavaScript capture thread it falls back to (CAPC_CAPTURE_DRAIN=js). The
// same run with the ring read on the main thread (CAPC_CAPTURE_INLINE=1)
// must lose bytes — the kernel counts them — or this test would prove
// nothing. The session runs in this process, as `capc run` runs it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { compileOptions } from '../../runtime/cli/common.js';
import type { CapEvent, Renderer } from '../../runtime/events/model.js';
import { FanOut, StreamFiles } from '../../runtime/output/stream-files.js';
import { runSession } from '../../runtime/session/session.js';
import { requireKernel, requireTool } from '../support/kernel.js';
import { assertStreamsMatch, freePort, startUntil, testCert, tlsPeer } from '../support/tls.js';

type Drain = 'native' | 'js' | 'main';

interface Run {
  /** Which drain read the ring (the session's CAPC_STATS_FILE says). */
  drain?: string;
  dropped: number;
  peers: string;
  streams: string;
  summary?: Extract<CapEvent, { kind: 'capture-summary' }>;
}

async function exchangeWhileBlocked(drain: Drain): Promise<Run> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-thread-'));
  const peers = path.join(work, 'peers');
  const streams = path.join(work, 'streams');
  fs.mkdirSync(peers);
  const { cert, key } = testCert();
  const port = freePort();
  let blocked = false;
  let serverPid = -1;
  const run: Run = { dropped: 0, peers, streams };
  // Stops the main thread for 3 s at the first bytes captured from our server (the uprobe sees every process).
  const stall: Renderer = {
    event(e) {
      if (e.kind === 'capture' && e.conn.pid === serverPid && !blocked) {
        blocked = true;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3000);
      }
      if (e.kind === 'capture-summary') run.summary = e;
    },
    end() {},
    payloadNeed: () => 'none',
  };
  const abort = new AbortController();
  const env = {
    CAPC_CAPTURE_INLINE: drain === 'main' ? '1' : undefined,
    CAPC_CAPTURE_DRAIN: drain === 'js' ? 'js' : undefined,
    CAPC_STATS_FILE: path.join(work, 'stats.json'),
  };
  const was = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const set = (vars: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(vars)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  set(env);
  try {
    const code = await runSession({
      // 4 MiB holds well under a second of this exchange (~60 MB in a few seconds here), far less than the stall.
      source: {
        name: '-e',
        text: 'uprobe:libssl:SSL_write, uprobe:libssl:SSL_read accumulate(conn, 1024) -> ringbuf(4M)',
      },
      compile: compileOptions({}, []),
      renderer: new FanOut([new StreamFiles(streams), stall]), // as capc run orders them
      signal: abort.signal,
      onAttached: async () => {
        const server = await startUntil(
          tlsPeer(),
          ['server', String(port), cert, key, peers, '1', '120', '3', 'big'],
          'listening',
        );
        serverPid = server.proc.pid!;
        const client = await startUntil(tlsPeer(), ['client', String(port), peers, '1', '120', '3', 'big'], undefined);
        const [sc, cc] = await Promise.all([server.exited, client.exited]);
        assert.equal(sc, 0, server.out());
        assert.equal(cc, 0, client.out());
        abort.abort();
      },
    });
    assert.equal(code, 0);
  } finally {
    set(was);
  }
  run.drain = JSON.parse(fs.readFileSync(env.CAPC_STATS_FILE, 'utf8')).capture?.drain;
  assert.ok(blocked, 'the main thread was never stalled: no bytes were captured');
  run.dropped = run.summary?.droppedBytes ?? NaN;
  return run;
}

for (const drain of ['native', 'js'] as const) {
  test(`a stalled main thread loses nothing: the ${drain} capture thread drains the ring and writes the files`, async (t) => {
    if (!requireKernel(t) || !requireTool(t, 'cc') || !requireTool(t, 'openssl')) return;
    const r = await exchangeWhileBlocked(drain);
    assert.equal(r.drain, drain, 'the session did not use the drain under test');
    assert.equal(r.dropped, 0, 'the kernel dropped bytes while the main thread was stalled');
    const m = assertStreamsMatch(r.peers, r.streams, ['client', 'server'], 1);
    assert.ok(m.bytes > 40 * 2 ** 20, `${m.bytes} bytes compared`);
    fs.rmSync(path.dirname(r.peers), { recursive: true, force: true });
  });
}

test('control: read on the main thread, the same stall makes the kernel drop bytes (counted)', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'cc') || !requireTool(t, 'openssl')) return;
  const r = await exchangeWhileBlocked('main');
  assert.equal(r.drain, 'main');
  assert.ok(r.dropped > 0, 'no drop with the ring read on the stalled main thread: the test above proves nothing');
  fs.rmSync(path.dirname(r.peers), { recursive: true, force: true });
});
