// bench/run.ts — `npm run bench`: runs every benchmark and rewrites
// BENCHMARKS.md with the machine, the date and the results. Benchmarks are
// not tests: nothing here asserts a time.
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../tests/support/paths.js';
import { machine, tool } from './lib.js';
import { startupBench } from './startup.js';
import { seed000Bench } from './seed000.js';
import { tuiBench } from './tui.js';

const runs = Number(process.env.BENCH_RUNS ?? 5);
const sections: string[] = [];
const only = process.argv.slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);

if (process.getuid?.() !== 0) {
  console.error('bench: needs root (it loads BPF programs)');
  process.exit(1);
}
if (want('startup')) {
  console.error('bench: startup...');
  sections.push(await startupBench(runs));
}
if (want('tui')) {
  console.error('bench: terminal UI under load...');
  sections.push(await tuiBench());
}

if (want('seed000')) {
  console.error('bench: seed000...');
  sections.push(await seed000Bench(runs));
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
const out = path.join(repoRoot, 'BENCHMARKS.md');
// Running some benchmarks (`npm run bench -- tui`) keeps the other sections as they were.
const kept = only.length && fs.existsSync(out) ? keptSections(fs.readFileSync(out, 'utf8'), sections) : [];
fs.writeFileSync(out, [...header, ...kept, ...sections].join('\n') + '\n');
console.error(`bench: wrote ${out}`);
console.log(fs.readFileSync(out, 'utf8'));

/** Sections ('## ' and what follows) of the existing file whose title none of `fresh` has. */
function keptSections(text: string, fresh: string[]): string[] {
  const title = (sec: string) => sec.split('\n', 1)[0]!;
  const freshTitles = new Set(fresh.map(title));
  return text
    .split(/^(?=## )/m)
    .slice(1)
    .filter((sec) => !freshTitles.has(title(sec)))
    .map((sec) => sec.replace(/\n+$/, '\n'));
}
