// runtime/native/build.mjs — part of `npm run build`: compiles the native
// drain library (capc-drain.c, capc-drain-api.c, capc-batch.c,
// capc-streams.c, capc-printf.c, capc-printf-thread.c) with the system's C
// compiler into dist/libcapc-drain.so, next to the bundle, where
// runtime/ffi/drain.ts looks for it (0755, written to a temporary name and
// renamed so a running capc never maps a half-written file).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const out = path.join(root, 'dist', 'libcapc-drain.so');
const tmp = `${out}.${process.pid}.tmp`;
const sources = [
  'capc-drain.c',
  'capc-drain-api.c',
  'capc-batch.c',
  'capc-streams.c',
  'capc-printf.c',
  'capc-printf-thread.c',
].map((f) => path.join(here, f));
const cc = process.env.CC || 'cc';
fs.mkdirSync(path.dirname(out), { recursive: true });
try {
  execFileSync(
    cc,
    ['-O2', '-g', '-Wall', '-Wextra', '-Werror', '-std=gnu11', '-fPIC', '-shared', '-pthread', '-o', tmp, ...sources],
    { stdio: 'inherit' },
  );
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, out);
} catch (e) {
  fs.rmSync(tmp, { force: true });
  console.error(`runtime/native/build.mjs: cannot build ${path.relative(root, out)} with ${cc}: ${e.message}`);
  process.exit(1);
}
