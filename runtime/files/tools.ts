// runtime/files/tools.ts — finding a program capc will run as root: the one
// an environment variable names (it must be one only root could have
// written: E0604), or the first on PATH (then the extra directories) in a
// place only root could have written; one in a directory other users can
// write is skipped with a warning (W0603). Used for clang and bpftool
// (build/environment.ts) and the disassembler that finds Go's RET
// instructions (symbols/go-binary.ts).
import fs from 'node:fs';
import path from 'node:path';
import { CapcError } from '../errors.js';
import { checkPath, explainDistrust, privileged, requireTrustedFromEnv } from './trust.js';
import { warnOnce } from './trust-warnings.js';

/** The path of tool `name`, or undefined when there is none capc may run. `envVar` names an override. */
export function findTool(name: string, envVar: string | undefined, extraDirs: string[] = []): string | undefined {
  const fromEnv = envVar ? process.env[envVar] : undefined;
  if (envVar && fromEnv) {
    try {
      fs.accessSync(fromEnv, fs.constants.X_OK);
    } catch {
      throw new CapcError('E0602', `${envVar}=${fromEnv} is not an executable ${name}`, [
        `point ${envVar} at ${name}, or unset it to use the one on PATH`,
      ]);
    }
    requireTrustedFromEnv(envVar, fromEnv, name);
    return fromEnv;
  }
  const root = privileged();
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', ...extraDirs]) {
    if (!dir || !path.isAbsolute(dir)) continue; // a relative PATH entry means "wherever capc was started"
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
    } catch {
      continue;
    }
    if (root) {
      const r = checkPath(p, 'file');
      if (r.ok === false) {
        warnOnce('W0603', `${p} on PATH is not used: ${explainDistrust(r.distrust)}`, [
          `capc runs as root and would run it; looking for ${name} further along PATH`,
        ]);
        continue;
      }
    }
    return p;
  }
  return undefined;
}
