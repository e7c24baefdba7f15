// bench/run.ts — `npm run bench`: runs every benchmark and rewrites
// BENCHMARKS.md with the machine, the date and the results. Benchmarks are
// not tests: nothing here asserts a time.
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../tests/support/paths.js';
import { machine, tool } from './lib.js';
import { startupBench } from './startup.js';
import { seed000Bench } from './seed000.js';

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
fs.writeFileSync(out, [...header, ...sections].join('\n') + '\n');
console.error(`bench: wrote ${out}`);
console.log(fs.readFileSync(out, 'utf8'));
