// tests/support/identity.ts — reading what capc says about connections'
// identities: JSON lines of a run, and streams.json entries with the socket
// fields, so identity tests can pair a client's connection with the server's.
import fs from 'node:fs';
import path from 'node:path';

export interface Endpoint {
  addr?: string;
  port?: number;
  path?: string;
}

/** A streams.json entry (runtime/output/stream-files.ts). */
export interface StreamEntry {
  conn: number;
  key: string;
  pid: number;
  comm: string;
  probe: string;
  identity: 'socket' | 'not-socket' | 'no-fd' | 'unknown';
  fd: number | null;
  local: Endpoint | null;
  peer: Endpoint | null;
  cgroup: number | null;
  family: string | number | null;
  type: string | number | null;
  inode: number | null;
  learned: string | null;
  port_bound: boolean | null;
  closed: boolean;
  streams: { file: string; bytes: number; lost: { offset: number; bytes: number }[] }[];
}

export function readStreamIndex(dir: string): StreamEntry[] {
  return JSON.parse(fs.readFileSync(path.join(dir, 'streams.json'), 'utf8')) as StreamEntry[];
}

export interface JsonLine {
  type: string;
  data: Record<string, unknown>;
}

export function jsonLines(stdout: string): JsonLine[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as JsonLine);
}

/** The bytes of one direction of a connection, from its stream file. */
export function streamBytes(dir: string, e: StreamEntry, which: 'egress' | 'ingress'): Buffer {
  const s = e.streams.find((x) => x.file.endsWith(`-${which}.bin`));
  return s ? fs.readFileSync(path.join(dir, s.file)) : Buffer.alloc(0);
}
