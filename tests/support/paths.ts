// tests/support/paths.ts — where things are, for tests.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const capcBin = path.join(repoRoot, 'bin', 'capc');
