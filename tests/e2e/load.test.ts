// tests/e2e/load.test.ts — capture under load. (1) CAPC_LOAD_SECONDS (30)
// of back-to-back exchanges on 4 concurrent TLS connections at full rate
// under accumulate(): no crash, every byte of every connection captured,
// the kernel's drop counter equal to the bytes userspace reports lost (zero
// here), peak RSS reported. (2) A ring far too small for the load: drops
// happen, and they are reported exactly — the kernel's byte counter, the
// summary in text and in JSON, and the holes in the stream files all agree,
// and everything outside the holes is byte-exact.
// test-lane: exclusive (full-rate TLS load; drop totals must match the kernel counter for the whole machine)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runCapc } from '../support/capc.js';
import { requireKernel, requireTool } from '../support/kernel.js';
import { ownCommand } from '../support/own-command.js';
import {
  assertStreamsMatch,
  assertStreamsMatchWithLoss,
  freePort,
  startUntil,
  testCert,
  tlsPeer,
} from '../support/tls.js';

const SECONDS = Number(process.env.CAPC_LOAD_SECONDS ?? 30);
// Only the test's own peers (a copy of tls-peer under a name of its own, by comm): the drop counter
// is sink-wide, and another program's TLS traffic on the machine (the same test run from another
// checkout included) must not reach the sink.
const PEER = ownCommand(tlsPeer(), 'tlsload');
process.on('exit', () => PEER.remove());
/** The capture, for the test's own peers only. */
const program = () =>
  `uprobe:libssl:SSL_write, uprobe:libssl:SSL_read /comm == "${PEER.comm}"/ accumulate(conn, 1024) -> ringbuf`;

interface Stats {
  counters: Record<string, number>;
  capture: { records: number; payloadBytes: number };
  maxRssBytes: number;
  runCpuSeconds: number;
}

async function exchange(peerDir: string, nconn: number, rounds: number, seed: string): Promise<void> {
  const peer = PEER.path;
  const { cert, key } = testCert();
  const port = freePort();
  fs.mkdirSync(peerDir, { recursive: true });
  const server = await startUntil(
    peer,
    ['server', String(port), cert, key, peerDir, String(nconn), String(rounds), seed],
    'listening',
  );
  const client = await startUntil(
    peer,
    ['client', String(port), peerDir, String(nconn), String(rounds), seed],
    undefined,
  );
  const [sc, cc] = await Promise.all([server.exited, client.exited]);
  assert.equal(cc, 0, `client failed: ${client.out()}`);
  assert.equal(sc, 0, `server failed: ${server.out()}`);
}

test(`load: ${SECONDS} s of 4 TLS connections at full rate under accumulate, nothing lost, RSS bounded`, async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'cc') || !requireTool(t, 'openssl')) return;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-load-'));
  const statsFile = path.join(work, 'stats.json');
  const streams = path.join(work, 'streams');
  const dirs: string[] = [];
  let started = 0;
  try {
    const r = await runCapc(['run', '-q', '--write-streams', streams, '-e', program()], {
      timeoutMs: (SECONDS + 120) * 1000,
      env: { CAPC_STATS_FILE: statsFile },
      onAttached: async (pid) => {
        started = performance.now();
        while (performance.now() - started < SECONDS * 1000) {
          const dir = path.join(work, `peers-${dirs.length}`);
          dirs.push(dir);
          await exchange(dir, 4, 40, String(1 + dirs.length));
        }
        process.kill(pid, 'SIGINT');
      },
    });
    const elapsed = (performance.now() - started) / 1000;
    assert.equal(r.code, 0, r.stderr);
    let connections = 0;
    let bytes = 0;
    for (const dir of dirs) {
      const m = assertStreamsMatch(dir, streams, ['client', 'server'], 4);
      connections += m.connections;
      bytes += m.bytes;
    }
    const stats = JSON.parse(fs.readFileSync(statsFile, 'utf8')) as Stats;
    assert.equal(stats.counters['capture-drop-bytes:capc_payload'], 0, 'the kernel dropped capture bytes');
    assert.doesNotMatch(r.stderr, /W0903/);
    const rssMiB = stats.maxRssBytes / 2 ** 20;
    t.diagnostic(
      `${dirs.length} exchanges, ${connections} connection ends, ${(bytes / 2 ** 20).toFixed(1)} MiB captured byte-exact in ${elapsed.toFixed(1)} s ` +
        `(${(bytes / 2 ** 20 / elapsed).toFixed(2)} MiB/s, ${stats.capture.records} records); capc peak RSS ${rssMiB.toFixed(0)} MiB, CPU ${stats.runCpuSeconds.toFixed(1)} s`,
    );
    // Bounded: the runtime holds no stream in memory (stream files are written as data arrives).
    assert.ok(rssMiB < 400, `peak RSS ${rssMiB.toFixed(0)} MiB`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test('a ring far too small: every drop counted, and text, JSON, the kernel and the stream holes agree to the byte', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'cc') || !requireTool(t, 'openssl')) return;
  const tiny = program().replace('-> ringbuf', '-> ringbuf(4K)');
  for (const format of ['text', 'json'] as const) {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-tiny-'));
    const statsFile = path.join(work, 'stats.json');
    const streams = path.join(work, 'streams');
    const peers = path.join(work, 'peers');
    try {
      const r = await runCapc(['run', '-f', format, '--write-streams', streams, '-e', tiny], {
        timeoutMs: 180_000,
        env: { CAPC_STATS_FILE: statsFile },
        onAttached: async (pid) => {
          await exchange(peers, 4, 60, '7');
          process.kill(pid, 'SIGINT');
        },
      });
      assert.equal(r.code, 0, r.stderr);
      const stats = JSON.parse(fs.readFileSync(statsFile, 'utf8')) as Stats;
      const kernelBytes = stats.counters['capture-drop-bytes:capc_payload']!;
      const kernelRecords = stats.counters['capture-drop-records:capc_payload']!;
      assert.ok(kernelBytes > 0, 'a 4 KiB ring should overflow under this load; the test proves nothing otherwise');
      const holes = assertStreamsMatchWithLoss(peers, streams, ['client', 'server'], 4);
      // The probes see every process: TLS traffic of other programs on this machine loses bytes in the same ring.
      const index = JSON.parse(fs.readFileSync(path.join(streams, 'streams.json'), 'utf8')) as {
        streams: { lost: { bytes: number }[] }[];
      }[];
      const allHoles = index.flatMap((c) => c.streams.flatMap((s) => s.lost)).reduce((n, l) => n + l.bytes, 0);
      assert.ok(holes.lostBytes <= allHoles);
      assert.equal(allHoles, kernelBytes, 'bytes missing from the stream files == bytes the kernel counted as dropped');
      if (format === 'text') {
        const m =
          /^warning\[W0903\]: capture: .*; (\d+) bytes missing from streams, kernel dropped (\d+) bytes in (\d+) records$/m.exec(
            r.stderr,
          );
        assert.ok(m, r.stderr);
        assert.deepEqual([Number(m[1]), Number(m[2]), Number(m[3])], [kernelBytes, kernelBytes, kernelRecords]);
        assert.match(r.stdout, /^!!! .* bytes lost at offset \d+$/m, 'each loss is shown where it happened');
        // The capture thread measured the bursts: the hint names a ring (a power of two above 4 KiB) that would have held them.
        const hint =
          /= hint: a capture ring of ([\d.]+) (KiB|MiB) would have held the largest burst \(the ring is 4\.0 KiB\): -> ringbuf\((\d+)([KM])\)/.exec(
            r.stderr,
          );
        assert.ok(hint, r.stderr);
        assert.ok(
          Number(hint[3]) * (hint[4] === 'M' ? 1024 : 1) > 4,
          'the ring named is larger than the one that overflowed',
        );
      } else {
        const events = r.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { type: string; data: Record<string, number> });
        const summary = events.find((e) => e.type === 'capture_summary')?.data;
        assert.ok(summary, 'no capture_summary');
        assert.equal(summary.lost_bytes, kernelBytes);
        assert.equal(summary.dropped_bytes, kernelBytes);
        assert.equal(summary.dropped_records, kernelRecords);
        assert.ok(
          summary.needed_ring_bytes! > 4096,
          'capture_summary names the ring that would have held the largest burst',
        );
        const lossEvents = events.filter((e) => e.type === 'capture_loss').reduce((n, e) => n + e.data.bytes!, 0);
        assert.equal(lossEvents, kernelBytes, 'capture_loss events add up to the kernel count');
      }
      t.diagnostic(
        `${format}: ${kernelRecords} records, ${kernelBytes} bytes dropped of ${holes.bytes}; every figure agrees`,
      );
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
});
