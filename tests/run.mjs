#!/usr/bin/env node
// tests/run.mjs — the test command (`npm test` builds first, then runs this).
// Finds every *.test.ts and *.test.tsx (UI components) explicitly (Node 20's
// runner silently runs nothing when given no files), runs them with node's
// own runner (TAP), one file at a time
// (kernel tests must not race each other), and fails if no test ran at all.
//   node tests/run.mjs              all tests
//   node tests/run.mjs unit e2e     only tests under those folders
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const roots = ['tests', 'diagnostics', 'grammar', 'compiler', 'runtime', 'stdlib', 'bench'];

function walk(dir, out) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist' || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.test.ts') || e.name.endsWith('.test.tsx')) out.push(path.relative(root, p));
  }
  return out;
}

const filters = process.argv.slice(2);
let files = roots.filter((r) => fs.existsSync(path.join(root, r))).flatMap((r) => walk(path.join(root, r), []));
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
files.sort();
if (files.length === 0) {
  console.error(
    `tests/run.mjs: no test files found${filters.length ? ` for ${filters.join(' ')}` : ''}: refusing to report success`,
  );
  process.exit(1);
}
console.error(
  `tests/run.mjs: ${files.length} test files${process.env.CAPC_REQUIRE_KERNEL === '1' ? ' (kernel tests required)' : ''}`,
);

const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=tap', '--test-concurrency=1', '--test-timeout=300000', ...files],
  {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
let tail = '';
child.stdout.on('data', (d) => {
  process.stdout.write(d);
  tail = (tail + d.toString()).slice(-4000);
});
child.on('exit', (code) => {
  const num = (k) => Number(new RegExp(`^# ${k} (\\d+)`, 'm').exec(tail)?.[1] ?? NaN);
  const pass = num('pass');
  const fail = num('fail');
  const skipped = num('skipped');
  if (!(pass > 0)) {
    console.error(`tests/run.mjs: no test passed (pass=${pass}): failing`);
    process.exit(1);
  }
  console.error(`tests/run.mjs: ${pass} passed, ${fail} failed, ${skipped} skipped`);
  process.exit(code === 0 && fail === 0 ? 0 : 1);
});
