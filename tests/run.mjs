#!/usr/bin/env node
// tests/run.mjs — the test command (`npm test` builds first, then runs this).
// Finds every *.test.ts and *.test.tsx (UI components) explicitly (Node 20's
// runner silently runs nothing when given no files) and runs them with node's
// own runner (TAP) in two phases:
//   1. shared: files that can run beside each other, CAPC_TEST_JOBS at a time
//      (default 3: most wait on servers, the kernel or child processes);
//   2. exclusive: one file at a time, alone on the machine — files that
//      measure rates, memory or timing, or count every drop or event on the
//      machine (a capture that sees another test's traffic would count it).
// A file says it is exclusive with a line `// test-lane: exclusive` in its
// header comment. Fails if no test ran at all. Each test may take 15
// minutes: the fuzzer's 5,000 cases went past 5 on a busy 2-vCPU machine
// once capture programs carried the TLS families.
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

const exclusive = (f) =>
  /^\/\/ test-lane: exclusive\b/m.test(fs.readFileSync(path.join(root, f), 'utf8').slice(0, 4000));
const alone = files.filter(exclusive);
const shared = files.filter((f) => !alone.includes(f));
const jobs = Math.max(1, Number(process.env.CAPC_TEST_JOBS ?? 3));
console.error(
  `tests/run.mjs: ${files.length} test files (${shared.length} shared, ${jobs} at a time; ${alone.length} alone)${process.env.CAPC_REQUIRE_KERNEL === '1' ? ' (kernel tests required)' : ''}`,
);

/** Runs one phase; resolves with its exit code and the counts from its TAP summary. */
function phase(list, concurrency) {
  return new Promise((resolve) => {
    if (!list.length) return resolve({ code: 0, pass: 0, fail: 0, skipped: 0 });
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        '--test-reporter=tap',
        `--test-concurrency=${concurrency}`,
        '--test-timeout=900000',
        ...list,
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let tail = '';
    child.stdout.on('data', (d) => {
      process.stdout.write(d);
      tail = (tail + d.toString()).slice(-4000);
    });
    child.on('exit', (code) => {
      const num = (k) => Number(new RegExp(`^# ${k} (\\d+)`, 'm').exec(tail)?.[1] ?? NaN);
      resolve({ code, pass: num('pass'), fail: num('fail'), skipped: num('skipped') });
    });
  });
}

const started = Date.now();
const a = await phase(shared, jobs);
const b = await phase(alone, 1);
const pass = a.pass + b.pass;
const fail = a.fail + b.fail;
const skipped = a.skipped + b.skipped;
const secs = ((Date.now() - started) / 1000).toFixed(0);
if (!(pass > 0)) {
  console.error(`tests/run.mjs: no test passed (pass=${pass}): failing`);
  process.exit(1);
}
console.error(`tests/run.mjs: ${pass} passed, ${fail} failed, ${skipped} skipped in ${secs} s`);
process.exit(a.code === 0 && b.code === 0 && fail === 0 ? 0 : 1);
