// tests/support/servers/process.ts — what every real-server helper shares:
// a free loopback port, a private temp dir (optionally owned by a service
// user), a throwaway TLS certificate inside it, and a server process started
// in the foreground and stopped by its own PID (SIGTERM, then SIGKILL), with
// its temp dir removed. Servers still running when the test process exits are
// stopped too, so a failing test leaves nothing behind. Never a system
// service, never an address off this machine.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A port nobody listens on now (the kernel picks it); the caller binds it soon after. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A service account (postgres refuses to run as root). */
export interface Account {
  uid: number;
  gid: number;
}

export function account(name: string): Account | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/** A fresh directory under the system temp dir (0700), owned by `owner` when given. */
export function privateDir(prefix: string, owner?: Account): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (owner) fs.chownSync(dir, owner.uid, owner.gid);
  return dir;
}

/** A self-signed certificate for CN=localhost (and 127.0.0.1) in `dir`; the key is 0600 and owned by `owner`. */
export function makeCert(dir: string, owner?: Account): { cert: string; key: string } {
  const cert = path.join(dir, 'server.crt');
  const key = path.join(dir, 'server.key');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  fs.chmodSync(key, 0o600);
  if (owner) {
    fs.chownSync(key, owner.uid, owner.gid);
    fs.chownSync(cert, owner.uid, owner.gid);
  }
  return { cert, key };
}

export interface ServerProcess {
  pid: number;
  /** What the server printed so far (stdout and stderr). */
  output(): string;
  exited: Promise<number | null>;
  /** Stop it by PID (SIGTERM, SIGKILL after `graceMs`) and remove its directory. */
  stop(): Promise<void>;
}

const running = new Set<{ proc: ChildProcess; dir?: string }>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const r of running) {
      try {
        if (r.proc.exitCode === null && r.proc.pid) process.kill(r.proc.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      if (r.dir) fs.rmSync(r.dir, { recursive: true, force: true });
    }
  });
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  owner?: Account;
  cwd?: string;
  /** Resolves true once the server accepts clients; polled every 100 ms. */
  ready: (output: string) => boolean | Promise<boolean>;
  timeoutMs?: number;
  /** Removed after the server stopped. */
  dir?: string;
  /** Signal that asks this server to shut down (SIGTERM unless given). */
  stopSignal?: NodeJS.Signals;
  graceMs?: number;
}

/** Start a server in the foreground and wait until `ready` says it accepts clients. */
export async function startServer(cmd: string, args: string[], o: StartOptions): Promise<ServerProcess> {
  hookExit();
  const proc = spawn(cmd, args, {
    cwd: o.cwd,
    env: { ...process.env, ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: o.owner?.uid,
    gid: o.owner?.gid,
  });
  const entry = { proc, dir: o.dir };
  running.add(entry);
  let out = '';
  proc.stdout!.on('data', (d) => (out = (out + d).slice(-65536)));
  proc.stderr!.on('data', (d) => (out = (out + d).slice(-65536)));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  let spawnError: Error | undefined;
  proc.on('error', (e) => (spawnError = e));
  let stopped = false;
  const server: ServerProcess = {
    pid: proc.pid ?? -1,
    output: () => out,
    exited,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (proc.exitCode === null && proc.signalCode === null && proc.pid) {
        process.kill(proc.pid, o.stopSignal ?? 'SIGTERM');
        const killer = setTimeout(() => {
          try {
            process.kill(proc.pid!, 'SIGKILL');
          } catch {
            /* gone */
          }
        }, o.graceMs ?? 10000);
        await exited;
        clearTimeout(killer);
      }
      running.delete(entry);
      if (o.dir) fs.rmSync(o.dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + (o.timeoutMs ?? 60000);
  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    if (spawnError) {
      await server.stop();
      throw new Error(`${cmd}: ${spawnError.message}`);
    }
    if (gone) {
      await server.stop();
      throw new Error(`${cmd} exited before it was ready:\n${out.slice(-4000)}`);
    }
    if (await o.ready(out)) return server;
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`${cmd} was not ready within ${o.timeoutMs ?? 60000} ms:\n${out.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** The first of `candidates` that exists (binaries Debian keeps off PATH). */
export function findBinary(name: string, candidates: string[]): string | undefined {
  for (const c of candidates) if (fs.existsSync(c)) return c;
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Python with the Debian client modules (psycopg2, pymysql): the system one, not a pyenv shim. */
export function systemPython(modules: string[]): string | undefined {
  for (const py of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(py, ['-c', modules.map((m) => `import ${m}`).join('; ') || 'pass'], { stdio: 'ignore' });
      return py;
    } catch {
      /* next */
    }
  }
  return undefined;
}
