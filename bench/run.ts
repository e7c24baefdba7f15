// bench/run.ts — `npm run bench`: runs every benchmark and rewrites
// BENCHMARKS.md with the machine, the date and the results. Benchmarks are
// not tests: nothing here asserts a time.
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../tests/support/paths.js';
import { machine, smoke, tool } from './lib.js';
import { consumerBench } from './consumer.js';
import { identityBench } from './identity.js';
import { decodeScenarioBench, decoderBench } from './decode.js';
import { exportsBench } from './exports.js';
import { overheadBench } from './overhead.js';
import { packetsBench } from './packets.js';
import { perHitBench } from './perhit.js';
import { rampBench } from './ramp.js';
import { ringSizeBench } from './ringsize.js';
import { seed000Bench } from './seed000.js';
import { startupBench } from './startup.js';
import { tlsStacksBench } from './tlsstacks.js';
import { tuiBench } from './tui.js';
import { typesBench } from './types.js';
import { uprobesBench } from './uprobes.js';
import { wakeupsBench } from './wakeups.js';
import { wirespeedBench } from './wirespeed.js';

// BENCH_SMOKE=1: one short round of each benchmark (small workloads), so the test suite can check that every
// benchmark still runs end to end (tests/e2e/bench-smoke.test.ts); its numbers mean nothing. BENCH_OUT: where the
// results go (default BENCHMARKS.md; the smoke test writes to a temporary file).
const runs = smoke ? 1 : Number(process.env.BENCH_RUNS ?? 5);
const only = process.argv.slice(2);
/** The full-size argument, or the smoke run's small one. */
const size = (full: number, small: number) => (smoke ? small : full);

/** Every benchmark, in the order BENCHMARKS.md shows them; `npm run bench -- NAME...` runs some. */
const BENCHES: { name: string; what: string; run: () => Promise<string> }[] = [
  { name: 'startup', what: 'start-up and detach', run: () => startupBench(runs) },
  { name: 'uprobes', what: 'uprobes: uprobe_multi links against perf events', run: () => uprobesBench(runs) },
  { name: 'perhit', what: 'cost per probe hit', run: () => perHitBench(runs) },
  { name: 'consumer', what: 'event consumer throughput', run: () => consumerBench(runs, size(3, 1)) },
  { name: 'wakeups', what: 'reader wake-ups', run: () => wakeupsBench(runs, size(3, 1)) },
  {
    name: 'seed000',
    what: 'seed 000: fragmented TLS capture',
    run: () => seed000Bench(runs, size(200000, 5000)),
  },
  {
    name: 'wirespeed',
    what: 'wire speed: 16 KiB TLS writes, C reference side by side',
    run: () => wirespeedBench(runs, size(20000, 1000)),
  },
  {
    name: 'ringsize',
    what: 'capture ring size at wire speed',
    run: () => ringSizeBench(runs, size(20000, 1000)),
  },
  {
    name: 'identity',
    what: 'what connection identity costs',
    run: () => identityBench(runs, size(200000, 10000), smoke),
  },
  { name: 'ramp', what: 'capture rate ramp', run: () => rampBench() },
  {
    name: 'overhead',
    what: 'traced-process overhead',
    run: () => overheadBench(Math.max(1, Math.round(runs / 2)), size(100000, 5000)),
  },
  { name: 'tui', what: 'terminal UI under load', run: () => (smoke ? tuiBench([{ rate: 100_000 }], 2) : tuiBench()) },
  {
    name: 'decoders',
    what: 'protocol decoders in isolation',
    run: () => decoderBench(Math.max(1, Math.round(runs / 2))),
  },
  {
    name: 'decode-seed000',
    what: 'seed 000 with decoding (MariaDB, PostgreSQL)',
    run: () => decodeScenarioBench(1, size(Number(process.env.BENCH_DECODE_SECONDS ?? 30), 2)),
  },
  { name: 'exports', what: 'pcapng, Prometheus and OTLP exports at 100k events/s', run: () => exportsBench(runs) },
  { name: 'types', what: 'C types at compile time (20 structs and an #include)', run: () => typesBench(runs) },
  {
    name: 'tlsstacks',
    what: 'capture cost per TLS stack (--tls)',
    run: () => tlsStacksBench(runs, size(100000, 5000)),
  },
  { name: 'packets', what: 'seed 004: flow aggregation at XDP', run: () => packetsBench(runs) },
];
const unknown = only.filter((n) => !BENCHES.some((b) => b.name === n));
if (unknown.length) {
  console.error(`bench: unknown benchmark ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}`);
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error('bench: needs root (it loads BPF programs)');
  process.exit(1);
}
const sections: string[] = [];
for (const b of BENCHES) {
  if (only.length && !only.includes(b.name)) continue;
  const t0 = Date.now();
  console.error(`bench: ${b.name} (${b.what})...`);
  sections.push(await b.run());
  console.error(`bench: ${b.name} took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

const header = [
  '# Benchmarks',
  '',
  `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}.`,
  '',
  `Machine: ${machine()}.`,
  `Tools: ${tool('clang', ['--version'])}; ${tool('bpftrace', ['--version'])}.`,
  '',
  'The machine is a shared VM: compare numbers within one run (ratios are computed pair by pair), not across runs.',
  '',
];
const out = process.env.BENCH_OUT ?? path.join(repoRoot, 'BENCHMARKS.md');
// Running some benchmarks (`npm run bench -- tui`) keeps the other sections as they were,
// and a fresh section takes the place of the old one with the same title.
const old = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
// Sections written by hand (what an optimisation changed, where the time goes, measured then): every run keeps them.
const HAND_WRITTEN = ['## Where the time goes', '## Before and after'];
const history = old
  .split(/^(?=## )/m)
  .filter((sec) => HAND_WRITTEN.some((t) => sec.startsWith(t)))
  .map((sec) => sec.replace(/\n+$/, '\n'));
const body = only.length ? mergeSections(old, stamped(sections)) : [...sections, ...history];
// A partial run keeps the file's header (its date and machine are the full run's); its sections say their own.
const head =
  only.length && old
    ? old
        .split(/^(?=## )/m)[0]!
        .replace(/\n+$/, '\n')
        .split('\n')
    : header;
fs.writeFileSync(out, [...head, ...body].join('\n') + '\n');
console.error(`bench: wrote ${out}`);
console.log(fs.readFileSync(out, 'utf8'));

/** Sections of a partial run, each with the date and machine it was measured on after its title. */
function stamped(fresh: string[]): string[] {
  const when = `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()} (a partial run: \`npm run bench -- ${only.join(' ')}\`).`;
  return fresh.map((f) => f.replace(/^(## [^\n]*\n)/gm, `$1\n${when}\n`));
}

/** The sections ('## ' and what follows) of `text`, each replaced by the fresh one with its title; new titles at the end. */
function mergeSections(text: string, fresh: string[]): string[] {
  const title = (sec: string) => sec.split('\n', 1)[0]!;
  const byTitle = new Map(
    fresh.flatMap((f) => f.split(/^(?=## )/m)).map((sec) => [title(sec), sec.replace(/\n+$/, '\n')]),
  );
  const merged = text
    .split(/^(?=## )/m)
    .slice(1)
    .map((sec) => {
      const f = byTitle.get(title(sec));
      byTitle.delete(title(sec));
      return f ?? sec.replace(/\n+$/, '\n');
    });
  return [...merged, ...byTitle.values()];
}
