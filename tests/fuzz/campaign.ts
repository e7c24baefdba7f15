// tests/fuzz/campaign.ts — the long fuzzing campaign: batches of cases from
// fresh random seeds until the time is up, every stage of the oracle on every
// batch (the verifier on a sample of each), and each failing input saved under
// tests/fuzz/regressions/ (input .cap + .json with the stage and the error),
// where fuzz.test.ts replays it on every CI run from then on.
//   npm run fuzz                      one hour
//   npm run fuzz -- --minutes 240     longer
//   npm run fuzz -- --seed 42 --batch 500
import path from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../support/paths.js';
import { fuzzCase } from './cases.js';
import {
  clangAll,
  compileCase,
  describe,
  hashOf,
  saveRegression,
  verifierLoadBounded,
  type Compiled,
  type Failure,
} from './oracle.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    batch: { type: 'string', default: '1000' },
    seed: { type: 'string' },
    'verifier-sample': { type: 'string', default: '25' },
  },
});
const deadline = Date.now() + Number(values.minutes) * 60_000;
const batch = Number(values.batch);
const dir = path.join(repoRoot, 'tests', 'fuzz', 'regressions');
let seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);

let cases = 0;
let accepted = 0;
let saved = 0;
const started = Date.now();
const seen = new Set<string>();

function keep(f: Failure): void {
  // One saved input per distinct first line of the error: a bug found twice is one bug.
  const sig = `${f.stage}:${f.detail.split('\n')[0]!.replace(/\d+/g, 'N').slice(0, 160)}`;
  if (seen.has(sig)) return;
  seen.add(sig);
  const file = saveRegression(dir, f);
  saved++;
  console.log(`\n${describe(f).slice(0, 3000)}\nsaved as ${path.relative(repoRoot, file)}\n`);
}

while (Date.now() < deadline) {
  const ok: Compiled[] = [];
  for (let i = 0; i < batch; i++) {
    const r = compileCase(fuzzCase(seed, i));
    if (r.failure) keep(r.failure);
    if (r.accepted) ok.push(r.accepted);
  }
  const clang = await clangAll(ok);
  clang.failures.forEach(keep);
  const step = Math.max(1, Math.floor(ok.length / Number(values['verifier-sample'])));
  for (let i = 0; i < ok.length; i += step) {
    const obj = clang.objects.get(hashOf(ok[i]!.c));
    const f = obj && (await verifierLoadBounded(ok[i]!, obj)).failure;
    if (f) keep(f);
  }
  cases += batch;
  accepted += ok.length;
  const secs = (Date.now() - started) / 1000;
  console.log(
    `seed ${seed}: ${cases} cases, ${accepted} accepted, ${saved} failures saved, ${(cases / secs).toFixed(1)} cases/s`,
  );
  seed = (seed + 1) >>> 0;
}
process.exit(saved ? 1 : 0);
