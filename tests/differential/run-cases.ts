// tests/differential/run-cases.ts — runs differential cases as tests: each
// under bpftrace 0.17 and under capc, on the same workload, outputs compared
// after the same normalisation (see harness.ts). A case also checks that
// capc's output holds the lines it must, so two empty outputs never pass.
// Used by differential.test.ts and differential-types.test.ts (split so each
// file stays well inside the runner's per-file time limit).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { requireKernel, requireSdt, requireTool } from '../support/kernel.js';
import { repoRoot } from '../support/paths.js';
import { buildTarget } from '../support/targets.js';
import type { Case } from './cases.js';
import { dropBlankLines, runBpftrace, runCapcTool, sortJsonTies, sortTies, type Invocation } from './harness.js';
import { compareHistograms } from './histograms.js';

/** `$W` the workload, `$C` its task name (comm: 15 characters), `$T` the fixtures' target dir, `$Y` the types target. */
const fill = (s: string, w: string) =>
  s
    .replaceAll('$W', w)
    .replaceAll('$Y', s.includes('$Y') ? buildTarget('types') : '$Y')
    .replaceAll('$C', path.basename(w).slice(0, 15))
    .replaceAll('$T', path.join(repoRoot, 'tests', 'fixtures', 'targets'));

function invocation(c: Case, workload: string, outFile?: string): Invocation {
  const program = c.program !== undefined ? fill(c.program, workload) : undefined;
  let programFile: string | undefined;
  if (c.programFile && program !== undefined) {
    programFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'capc-diff-')), 'program.bt');
    fs.writeFileSync(programFile, program);
  }
  return {
    program,
    programFile,
    command: c.command !== undefined ? fill(c.command, workload) : undefined,
    flags: [...(c.flags ?? []).map((f) => fill(f, workload)), ...(outFile ? ['-o', outFile] : [])],
    args: c.args?.map((a) => fill(a, workload)),
    env: c.env,
    background: c.background ? { command: c.background.map((x) => fill(x, workload)), pidFlag: true } : undefined,
  };
}

/** The tool's output, as printed (before the case's normalisation). */
async function outputOf(c: Case, tool: 'bpftrace' | 'capc', workload: string): Promise<string> {
  const outFile = c.outputFile ? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'capc-diff-')), 'out.txt') : undefined;
  const inv = invocation(c, workload, outFile);
  const r = tool === 'bpftrace' ? await runBpftrace(inv) : await runCapcTool(inv);
  assert.equal(r.code, 0, `${tool} failed (exit ${r.code})\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return outFile ? fs.readFileSync(outFile, 'utf8') : r.stdout;
}

/** Numbers of `@name: N` lines agree within a factor of 2 (sampling varies run to run). */
function compareApprox(bt: string, capc: string): void {
  const nums = (s: string) => [...s.matchAll(/^(@\S*): (\d+)$/gm)].map((m) => [m[1], Number(m[2])] as const);
  const a = nums(bt);
  const b = nums(capc);
  assert.deepEqual(
    b.map((x) => x[0]),
    a.map((x) => x[0]),
    'the same maps',
  );
  a.forEach(([name, v], i) => {
    const w = b[i]![1];
    assert.ok(w >= v / 2 && w <= v * 2, `${name}: capc ${w}, bpftrace ${v}: more than a factor of 2 apart`);
  });
}

/** One test per case. */
export function differentialTests(cases: Case[]): void {
  for (const c of cases) {
    test(`differential: ${c.name}`, async (t) => {
      if (!requireKernel(t) || !requireTool(t, 'bpftrace')) return;
      if (/usdt:/.test(c.program ?? c.flags?.join(' ') ?? '') && !requireSdt(t)) return;
      if (c.note) t.diagnostic(`capc differs on purpose: ${c.note}`);
      const workload = buildTarget('workload');
      const rawBt = await outputOf(c, 'bpftrace', workload);
      const rawCapc = await outputOf(c, 'capc', workload);
      for (const re of c.expect) assert.match(rawCapc, re, `capc's output lacks ${re}\n${rawCapc}`);
      for (const re of c.expectNot ?? []) assert.doesNotMatch(rawCapc, re, `capc's output has ${re}\n${rawCapc}`);
      const bt = c.normalize ? c.normalize(rawBt, 'bpftrace') : rawBt;
      const capc = c.normalize ? c.normalize(rawCapc, 'capc') : rawCapc;
      switch (c.compare) {
        case 'json': {
          const a = sortJsonTies(dropBlankLines(bt));
          const b = sortJsonTies(dropBlankLines(capc));
          const parse = (s: string) =>
            s
              .trim()
              .split('\n')
              .map((l) => JSON.parse(l) as unknown);
          assert.deepEqual(parse(b), parse(a), 'the same JSON values');
          assert.equal(b, a, 'the same JSON text (spacing, order)');
          return;
        }
        case 'approx':
          return compareApprox(bt, capc);
        case 'hist':
          compareHistograms(bt, capc);
          assert.equal(sortTies(capc), sortTies(bt));
          return;
        case 'exact':
          assert.equal(sortTies(capc), sortTies(bt));
          return;
      }
    });
  }
}
