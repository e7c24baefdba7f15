// tests/support/tls-stacks.ts — peers on other TLS stacks for capture tests:
// the Go peer (built by the test with Debian's golang, standard library only,
// GOCACHE/GOPATH in a temporary directory), the NSS client (C against
// libnss3), and a shell script runner for -c tests that start several
// processes (descendants of the -c command).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './paths.js';
import { buildTarget } from './targets.js';

const targetDir = () => {
  const d = path.join(os.tmpdir(), 'capc-test-targets');
  fs.mkdirSync(d, { recursive: true });
  return d;
};

/** The Go peer (tests/fixtures/targets/go-tls-peer), built once per source; `stripped`: -ldflags='-s -w'. */
export function goPeer(stripped = false): string {
  const src = path.join(repoRoot, 'tests', 'fixtures', 'targets', 'go-tls-peer', 'main.go');
  const hash = crypto.createHash('sha256').update(fs.readFileSync(src)).update(String(stripped)).digest('hex');
  const out = path.join(targetDir(), `go-tls-peer-${hash.slice(0, 12)}`);
  if (fs.existsSync(out)) return out;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'capc-go-'));
  try {
    const tmp = path.join(work, 'peer');
    execFileSync('go', ['build', '-buildvcs=false', ...(stripped ? ['-ldflags=-s -w'] : []), '-o', tmp, src], {
      cwd: work,
      stdio: 'pipe',
      env: {
        ...process.env,
        GO111MODULE: 'off',
        GOCACHE: path.join(work, 'cache'),
        GOPATH: path.join(work, 'gopath'),
        GOFLAGS: '',
        CGO_ENABLED: '0',
      },
    });
    fs.renameSync(tmp, out);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return out;
}

/** The NSS client (tests/fixtures/targets/nss-peer.c). */
export function nssPeer(): string {
  const flags = execFileSync('pkg-config', ['--cflags', '--libs', 'nss'], { encoding: 'utf8' }).trim().split(/\s+/);
  return buildTarget('nss-peer', [...flags, '-pthread']);
}

/** tls-peer.c linked statically (`stripped`: and stripped of its symbols). */
export function staticTlsPeer(stripped: boolean): string {
  const src = path.join(repoRoot, 'tests', 'fixtures', 'targets', 'tls-peer.c');
  const hash = crypto.createHash('sha256').update(fs.readFileSync(src)).digest('hex').slice(0, 12);
  const out = path.join(targetDir(), `tls-peer-static${stripped ? '-stripped' : ''}-${hash}`);
  if (fs.existsSync(out)) return out;
  const tmp = `${out}.${process.pid}.tmp`;
  execFileSync('cc', ['-O1', '-static', '-pthread', '-o', tmp, src, '-lssl', '-lcrypto'], { stdio: 'pipe' });
  if (stripped) execFileSync('strip', [tmp]);
  fs.renameSync(tmp, out);
  return out;
}

/** A shell script in `dir` (for -c "sh script": everything it starts is a descendant). */
export function script(dir: string, name: string, body: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, `#!/bin/sh\nset -e\n${body}\n`, { mode: 0o755 });
  return p;
}

/** The stream files of one connection in --write-streams' index. */
export interface IndexEntry {
  conn: number;
  key: string;
  pid: number;
  comm: string;
  closed: boolean;
  streams: { file: string; bytes: number; lost: { offset: number; bytes: number }[] }[];
  /** The connection's identity (runtime/format/identity.ts): null while unknown. */
  identity: string;
  local: { addr?: string; port?: number } | null;
  peer: { addr?: string; port?: number } | null;
  learned: string | null;
}

export function readIndex(streamsDir: string): IndexEntry[] {
  return JSON.parse(fs.readFileSync(path.join(streamsDir, 'streams.json'), 'utf8')) as IndexEntry[];
}

/** The bytes capc captured for one direction of a connection. */
export function streamBytes(streamsDir: string, e: IndexEntry, dir: 'egress' | 'ingress'): Buffer {
  const s = e.streams.find((x) => x.file.endsWith(`-${dir}.bin`));
  return s ? fs.readFileSync(path.join(streamsDir, s.file)) : Buffer.alloc(0);
}
