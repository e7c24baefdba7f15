// runtime/tls/classify-cache.ts — the TLS classification of a binary
// (classify.ts) kept across runs in capc's cache directory, so a second
// `capc run` on the same program does not read its symbol tables again: the
// W0908 check and discovery classify the -c command's executable and its TLS
// libraries after attach, on the clock of the capture. An entry is named by
// the resolved path and holds the file's identity (device, inode, size,
// modification and change times in ns); a file touched, rewritten or
// replaced no longer matches it, and the entry is simply not used (then
// overwritten). Entries go through runtime/files/cache-dir.ts like compiled
// objects: a trusted directory, files 0600 written atomically, read back only
// if nobody else could have written them (W0602 otherwise), and sealed with
// the SHA-256 of their name and contents. What classification knows changes
// with capc (the functions each TLS family probes): that is in the name too.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  captureFunctions,
  closeFunctions,
  FAMILIES,
  identityFunctions,
  type FamilyName,
} from '../../compiler/index.js';
import { cacheSubdir, readSealedCacheFile, writeSealedCacheFile } from '../files/cache-dir.js';
import type { Classification } from './classify.js';

/** Bump when classify.ts decides differently from the same file and the same families. */
const FORMAT = 1;

/** The file's identity: any change to it (touch, rewrite, replace by rename) changes this. */
export function fileIdentity(file: string): string | undefined {
  try {
    const st = fs.statSync(file, { bigint: true });
    if (!st.isFile()) return undefined;
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch {
    return undefined;
  }
}

let schemaHash: string | undefined;
/** What the classification of a file depends on besides the file: the entry format and every family's names. */
function schema(): string {
  schemaHash ??= crypto
    .createHash('sha256')
    .update(
      JSON.stringify([
        FORMAT,
        (['openssl', 'gnutls', 'nss', 'go'] as FamilyName[]).map((f) => [
          f,
          FAMILIES[f].marks,
          FAMILIES[f].flavors ?? [],
          FAMILIES[f].minVersion ?? null,
          captureFunctions(f),
          closeFunctions(f),
          identityFunctions(f),
        ]),
      ]),
    )
    .digest('hex')
    .slice(0, 16);
  return schemaHash;
}

let dir: string | null | undefined;
function entryDir(): string | undefined {
  if (dir === undefined) {
    try {
      dir = cacheSubdir('tls') ?? null;
    } catch {
      dir = null; // no trusted place to keep entries: classify every time
    }
  }
  return dir ?? undefined;
}

/** Where the entry for `file` (a resolved path) lives, or undefined without a usable cache. */
export function classificationEntryPath(file: string): string | undefined {
  const d = entryDir();
  if (!d) return undefined;
  const name = crypto.createHash('sha256').update(schema()).update('\0').update(file).digest('hex').slice(0, 40);
  return path.join(d, `${name}.json`);
}

interface Entry {
  file: string;
  identity: string;
  stacks: {
    family: FamilyName;
    name: string;
    builtIn: boolean;
    /** [name, address (hex), size, from a symbol] */
    functions: [string, string, number, boolean][];
    version?: string;
  }[];
  problems: string[];
  needed: string[];
  runpath: string[];
}

/** The classification of `file` kept for exactly this identity, or undefined (missing, stale, untrusted, unreadable). */
export function loadClassification(file: string, identity: string): Classification | undefined {
  const at = classificationEntryPath(file);
  if (!at) return undefined;
  try {
    const raw = readSealedCacheFile(at);
    if (!raw) return undefined;
    const e = JSON.parse(raw.toString('utf8')) as Entry;
    if (e.file !== file || e.identity !== identity) return undefined;
    return {
      stacks: e.stacks.map((s) => ({
        family: s.family,
        name: s.name,
        path: file,
        builtIn: s.builtIn,
        functions: new Map(s.functions.map(([n, addr, size, symbol]) => [n, { addr: BigInt(addr), size, symbol }])),
        ...(s.version !== undefined ? { version: s.version } : {}),
      })),
      problems: e.problems,
      needed: e.needed,
      runpath: e.runpath,
    };
  } catch {
    return undefined;
  }
}

/** Keep `c`, the classification of `file` as it was with `identity`. Failing to write costs only the next run's time. */
export function storeClassification(file: string, identity: string, c: Classification): void {
  const at = classificationEntryPath(file);
  if (!at) return;
  const e: Entry = {
    file,
    identity,
    stacks: c.stacks.map((s) => ({
      family: s.family,
      name: s.name,
      builtIn: s.builtIn,
      functions: [...s.functions].map(([n, f]) => [n, `0x${f.addr.toString(16)}`, f.size, f.symbol]),
      ...(s.version !== undefined ? { version: s.version } : {}),
    })),
    problems: c.problems,
    needed: c.needed,
    runpath: c.runpath,
  };
  try {
    writeSealedCacheFile(at, Buffer.from(JSON.stringify(e)));
  } catch {
    /* a full disk or a vanished directory: the next run classifies again */
  }
}
