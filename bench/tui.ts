// bench/tui.ts — the terminal UI under load against text mode on the same
// load, both in a real terminal (tmux, 100×30): a workload makes N getppid()
// calls a second and the script prints one line per call. Per mode: events
// the kernel could not put in the ring (W0901), capc's CPU time, and the time
// from the quit key (q, or Ctrl-C in text mode) to exit; for the UI also the
// key-to-screen latency (space → "PAUSED" on screen, polled with
// capture-pane), frames drawn, render time and event-loop delay
// (CAPC_UI_METRICS). Run alone with: npm run bench -- tui
import fs from 'node:fs';
import path from 'node:path';
import { capcBin } from '../tests/support/paths.js';
import { buildTarget } from '../tests/support/targets.js';
import { Tmux } from '../tests/support/tmux.js';
import { si } from '../runtime/ui/format.js';
import { fmtStat, mkTemp, stat, which } from './lib.js';

const PROGRAM =
  'tracepoint:syscalls:sys_enter_getppid /pid == cpid/ { @calls = count(); printf("getppid %d\\n", elapsed); }';
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run {
  calls: number;
  /** Seconds from probes attached to the quit key. */
  loadS: number;
  lost: number;
  cpuS: number;
  wallS: number;
  quitMs: number;
  keyMs: number[];
  metrics?: {
    frames: number;
    renderMsAvg: number;
    renderMsMax: number;
    eventLoopDelayMs: { p50: number; p99: number; max: number };
    uptimeMs: number;
  };
}

async function waitFile(file: string, timeoutMs = 30000): Promise<void> {
  const start = Date.now();
  while (!(fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim())) {
    if (Date.now() - start > timeoutMs) throw new Error(`${file} never appeared`);
    await sleep(5);
  }
}

async function one(ui: boolean, rate: number, loadS: number, ring?: string): Promise<Run> {
  const dir = mkTemp('capc-bench-tui-');
  const workload = buildTarget('rate', ['-O2']);
  const env = ui ? `CAPC_UI_METRICS=${q(path.join(dir, 'metrics.json'))} ` : '';
  const cmd = `/usr/bin/time -o ${q(path.join(dir, 'time'))} -f '%U %S %e' env -u CI ${env}${q(capcBin)} run ${ui ? '' : '--no-tui '}${ring ? `--ringbuf-size ${ring} ` : ''}-e ${q(PROGRAM)} -c ${q(`${workload} ${rate} ${loadS + 30}`)} 2> ${q(path.join(dir, 'err'))}; echo $? > ${q(path.join(dir, 'exit'))}; sleep 600`;
  const tmux = new Tmux();
  try {
    tmux.start(cmd, 100, 30);
    await tmux.waitFor(ui ? /● live/ : /getppid \d+/, 30000);
    const t0 = Date.now();
    const keyMs: number[] = [];
    await sleep(1000);
    if (ui) {
      // Key to screen while the load runs: space, until "PAUSED" is drawn; space again, until it is gone.
      for (let i = 0; i < 10; i++) {
        tmux.keys('Space');
        keyMs.push((await tmux.waitFor(/PAUSED/, 5000)).ms);
        tmux.keys('Space');
        keyMs.push((await tmux.waitFor(/● live/, 5000)).ms);
        await sleep(150);
      }
    }
    await sleep(Math.max(0, loadS * 1000 - (Date.now() - t0)));
    const quitAt = Date.now();
    tmux.keys(ui ? 'q' : 'C-c');
    await waitFile(path.join(dir, 'exit'));
    const quitMs = Date.now() - quitAt;
    await waitFile(path.join(dir, 'time'));
    // tmux may still be drawing what text mode wrote before it exited: wait for the final map.
    let calls = NaN;
    for (let i = 0; i < 300 && Number.isNaN(calls); i++, await sleep(100))
      calls = Number([...tmux.screen(200).matchAll(/^@calls: (\d+)$/gm)].pop()?.[1] ?? NaN);
    const err = fs.readFileSync(path.join(dir, 'err'), 'utf8');
    const lost = [...err.matchAll(/warning\[W0901\]: (\d+) events? lost/g)].reduce((n, m) => n + Number(m[1]), 0);
    const [u, s, e] = fs.readFileSync(path.join(dir, 'time'), 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    const run: Run = { calls, loadS: (quitAt - t0) / 1000, lost, cpuS: u! + s!, wallS: e!, quitMs, keyMs };
    if (ui) run.metrics = JSON.parse(fs.readFileSync(path.join(dir, 'metrics.json'), 'utf8'));
    return run;
  } finally {
    tmux.kill();
  }
}

const LOADS: { rate: number; ring?: string }[] = [
  { rate: 100_000 },
  { rate: 200_000 },
  { rate: 200_000, ring: '128K' },
];

export async function tuiBench(loads = LOADS, loadS = 8): Promise<string> {
  if (!which('tmux')) return '## Terminal UI under load\n\nSkipped: tmux is not installed.\n';
  const rows: string[] = [];
  const keys: number[] = [];
  for (const { rate, ring } of loads) {
    for (const ui of [false, true]) {
      console.error(`bench: tui ${ui ? 'UI' : 'text'} at ${rate}/s${ring ? `, ring ${ring}` : ''}...`);
      const r = await one(ui, rate, loadS, ring);
      keys.push(...r.keyMs);
      const m = r.metrics;
      const ui1 = m
        ? `${(m.frames / (m.uptimeMs / 1000)).toFixed(1)} frames/s, render ${m.renderMsAvg.toFixed(1)} ms avg / ${m.renderMsMax.toFixed(0)} ms max, loop delay p99 ${m.eventLoopDelayMs.p99} ms; key to screen ${fmtStat(stat(r.keyMs), 'ms')}`
        : '–';
      rows.push(
        `| ${rate / 1000}k/s, ring ${ring ?? '1M'} | ${ui ? 'UI' : 'text'} | ${r.calls.toLocaleString('en')} (${si(r.calls / r.loadS)}/s) | ${r.lost.toLocaleString('en')} (${((100 * r.lost) / r.calls).toFixed(2)}%) | ${r.cpuS.toFixed(2)} s in ${r.wallS.toFixed(1)} s | ${r.quitMs} ms | ${ui1} |`,
      );
    }
  }
  return [
    '## Terminal UI under load',
    '',
    `Program: \`${PROGRAM}\`, one event per call of a workload making N getppid() calls a second (tests/fixtures/targets/rate.c), ${loadS} s of load, then the quit key. capc in tmux at 100×30; text mode is \`--no-tui\` (every line written to the terminal), the UI draws at most 10 frames a second. "Lost" are events the kernel could not put in the ring (W0901); the last load uses a small ring on purpose, to show how each mode copes when the ring is tight. The workload and capc share the 2 vCPUs with tmux, which in text mode has to draw every line: where text mode reaches a lower rate, the terminal slowed the traced program down. Key latency is measured by polling \`tmux capture-pane\` (itself a few ms), 20 key presses (pause, resume) during the load.`,
    '',
    '| load | mode | events (rate reached) | lost | capc CPU | quit to exit | UI |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Key to screen over all UI runs: ${fmtStat(stat(keys), 'ms')}.`,
    '',
  ].join('\n');
}
