// tests/support/targets.ts — builds the small C programs in
// tests/fixtures/targets/ once per test process, into a private temporary
// directory (never a predictable name in a shared one: tests run as root), so
// tests can probe known functions with known arguments.
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
  const out = path.join(targetDir(), `${name}-${hash}`);
  if (!fs.existsSync(out))
    execFileSync('cc', ['-O0', '-g', '-fno-omit-frame-pointer', '-o', out, src, ...extraFlags], { stdio: 'pipe' });
  return out;
}

let dir: string | undefined;
function targetDir(): string {
  if (!dir) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-targets-'));
    // Traced programs run as other users in some tests: they must be able to run these.
    fs.chmodSync(dir, 0o755);
    const d = dir;
    process.once('exit', () => fs.rmSync(d, { recursive: true, force: true }));
  }
  return dir;
}
