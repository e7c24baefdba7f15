// tests/support/targets.ts — builds the small C programs in
// tests/fixtures/targets/ once per test run (into the capc cache), so tests
// can probe known functions with known arguments.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './paths.js';

export function buildTarget(name: string, extraFlags: string[] = []): string {
  const src = path.join(repoRoot, 'tests', 'fixtures', 'targets', `${name}.c`);
  const text = fs.readFileSync(src);
  const hash = crypto.createHash('sha256').update(text).update(extraFlags.join(' ')).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), 'capc-test-targets');
  fs.mkdirSync(dir, { recursive: true });
  const out = path.join(dir, `${name}-${hash}`);
  if (!fs.existsSync(out)) {
    const tmp = `${out}.${process.pid}.tmp`;
    execFileSync('cc', ['-O0', '-g', '-fno-omit-frame-pointer', '-o', tmp, src, ...extraFlags], { stdio: 'pipe' });
    fs.renameSync(tmp, out);
  }
  return out;
}
