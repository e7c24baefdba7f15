// tests/support/own-command.ts — a copy of a system binary under a name of
// its own, so a test that traces by comm sees only the processes it started:
// test files run side by side, and several use dd or cat as their workload.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface OwnCommand {
  /** The copy's path, to execute. */
  path: string;
  /** Its comm (the kernel's name for its processes: at most 15 characters). */
  comm: string;
  remove(): void;
}

/** Copies `binary` (a path, or a name found on PATH) to a private temp dir as `<prefix><random hex>`. */
export function ownCommand(binary: string, prefix: string): OwnCommand {
  const found = binary.includes('/')
    ? binary
    : (process.env.PATH ?? '/usr/bin:/bin')
        .split(':')
        .map((d) => path.join(d, binary))
        .find((p) => fs.existsSync(p));
  if (!found) throw new Error(`${binary} not found on PATH`);
  const comm = (prefix + crypto.randomBytes(4).toString('hex')).slice(0, 15);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-cmd-'));
  const copy = path.join(dir, comm);
  fs.copyFileSync(found, copy);
  fs.chmodSync(copy, 0o755);
  return { path: copy, comm, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
