// tests/kernel/live-snapshot.test.ts — the live statistics the terminal UI
// reads from a running session, on the real kernel: per-probe hits and run
// time from the kernel's BPF statistics (on only while the session runs with
// `live`), ring fill, drop counters, maps, and clearing the maps from
// userspace. The session runs in this process, as `capc run` would run it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { test } from 'node:test';
import { DEFAULT_CONFIG } from '../../compiler/2-analyze/analyze.js';
import { compileOptions } from '../../runtime/cli/common.js';
import type { CapEvent, MapSnapshot } from '../../runtime/events/model.js';
import { runSession } from '../../runtime/session/session.js';
import type { LiveControls, SessionSnapshot } from '../../runtime/session/snapshot.js';
import { assertNothingLoaded } from '../support/capc.js';
import { requireKernel, requireTool } from '../support/kernel.js';
import { buildTarget } from '../support/targets.js';

/** Does this process hold a bpf_enable_stats() fd (the kernel counts run time while one is open)? */
const holdsStats = () =>
  fs.readdirSync('/proc/self/fd').some((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:bpf-stats';
    } catch {
      return false;
    }
  });

test('live snapshots: hits and run time per probe, rings, counters, maps; the maps can be cleared', async (t) => {
  if (!requireKernel(t) || !requireTool(t, 'cc')) return;
  const target = buildTarget('target');
  const snaps: SessionSnapshot[] = [];
  const events: CapEvent[] = [];
  let controls: LiveControls | undefined;
  let cleared: { maps: number; entries: number } | undefined;
  let statsDuring = false;
  const abort = new AbortController();
  const code = await runSession({
    source: { name: '-e', text: `uprobe:${target}:add { @adds = count(); @by[arg1] = count(); printf("add\\n"); }` },
    compile: compileOptions({}, []),
    renderer: { event: (e) => void events.push(e), end() {} },
    signal: abort.signal,
    onAttached: () => execFileSync(target, ['300']),
    live: {
      intervalMs: 200,
      onReady: (c) => (controls = c),
      onTick: (s) => {
        snaps.push(s);
        statsDuring ||= holdsStats();
        if (snaps.length === 2) cleared = controls!.clearMaps();
        if (snaps.length === 4) abort.abort();
      },
    },
  });
  assert.equal(code, 0);
  assert.equal(statsDuring, true, 'kernel BPF statistics are on while the session is live');
  assert.equal(holdsStats(), false, 'and off once it is over');
  const first = snaps[0]!;
  assert.equal(first.statsError, undefined);
  assert.equal(first.probes.length, 1);
  assert.equal(first.probes[0]!.hits, 300, 'every call of add() is counted as a run of the program');
  assert.ok(first.probes[0]!.runTimeNs! > 0);
  assert.deepEqual(
    first.rings.map((r) => r.role),
    ['events'],
  );
  assert.ok(first.rings[0]!.peakBytes >= 0 && first.rings[0]!.size === DEFAULT_CONFIG.ringbufSize);
  assert.ok(first.counters.some((c) => c.kind === 'ring-drop' && c.value === 0));
  const adds = (maps: MapSnapshot[] | undefined) => maps?.find((m) => m.name === '@adds')?.entries[0]?.value;
  assert.equal(adds(first.maps), 300n);
  assert.deepEqual(cleared, { maps: 2, entries: 2 });
  assert.equal(adds(snaps[3]!.maps), undefined, 'cleared in the kernel');
  const stopping = events.findIndex((e) => e.kind === 'stopping');
  assert.ok(
    stopping > 0 && events.slice(stopping).some((e) => e.kind === 'maps'),
    'stopping comes before the final maps',
  );
  assert.equal(events.filter((e) => e.kind === 'printf').length, 300);
  await assertNothingLoaded();
});

test('without live, the kernel statistics stay off', async (t) => {
  if (!requireKernel(t)) return;
  let during = true;
  await runSession({
    source: { name: '-e', text: 'interval:ms:20 { @n = count(); }' },
    compile: compileOptions({}, []),
    renderer: { event() {}, end() {} },
    durationSec: 0.3,
    onAttached: () => (during = holdsStats()),
  });
  assert.equal(during, false);
});
