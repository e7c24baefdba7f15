// tests/support/db-servers.ts — minimal real servers for export tests, each
// on a free loopback port with its own temporary directory, started from the
// Debian packages (never a system service) and stopped by PID: PostgreSQL
// (initdb, run as the postgres user, which refuses root), MariaDB
// (mariadb-install-db, mariadbd --user=root), Redis and a Python HTTP/1.x
// server. Plain TCP: the export tests capture the clients' socket syscalls.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface Server {
  port: number;
  dir: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** A port nobody listens on right now (bound to port 0 and released). */
export function pickFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Start `cmd` and resolve once its output contains `ready`; reject if it exits first or takes too long. */
function startServer(
  cmd: string,
  args: string[],
  ready: RegExp,
  dir: string,
  port: number,
  timeoutMs = 60_000,
): Promise<Server> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let done = false;
    const exited = new Promise<void>((r) => proc.on('exit', () => r()));
    const stop = async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    };
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      void stop().then(() => reject(new Error(`${cmd} did not get ready in ${timeoutMs} ms:\n${out}`)));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d;
      if (!done && ready.test(out)) {
        done = true;
        clearTimeout(timer);
        resolve({ port, dir, proc, stop });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.on('error', (e) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(e);
    });
    proc.on('exit', (code) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`${cmd} exited (${code}) before it was ready:\n${out}`));
    });
  });
}

function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The PostgreSQL server binaries (Debian keeps them out of PATH). */
export function postgresBin(tool: string): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return undefined;
  const versions = fs.readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const p = path.join(root, v, 'bin', tool);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

export async function startPostgres(): Promise<Server> {
  const dir = tmpDir('capc-pg-');
  fs.chmodSync(dir, 0o755);
  const data = path.join(dir, 'data');
  const sock = path.join(dir, 'sock');
  fs.mkdirSync(sock);
  execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  const asPostgres = ['--reuid=postgres', '--regid=postgres', '--init-groups', '--'];
  execFileSync(
    'setpriv',
    [...asPostgres, postgresBin('initdb')!, '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'],
    { stdio: 'ignore', cwd: dir },
  );
  const port = await pickFreePort();
  return startServer(
    'setpriv',
    [
      ...asPostgres,
      postgresBin('postgres')!,
      '-D',
      data,
      '-k',
      sock,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'ssl=off',
    ],
    /ready to accept connections/,
    dir,
    port,
  );
}

export async function startMariadb(): Promise<Server> {
  const dir = tmpDir('capc-maria-');
  const data = path.join(dir, 'data');
  execFileSync(
    'mariadb-install-db',
    ['--no-defaults', `--datadir=${data}`, '--user=root', '--skip-test-db', '--auth-root-authentication-method=normal'],
    { stdio: 'ignore', cwd: dir },
  );
  const port = await pickFreePort();
  return startServer(
    'mariadbd',
    [
      '--no-defaults',
      `--datadir=${data}`,
      `--socket=${path.join(dir, 'mysqld.sock')}`,
      `--pid-file=${path.join(dir, 'mysqld.pid')}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      '--user=root',
      '--skip-log-bin',
      '--innodb-buffer-pool-size=16M',
      '--skip-name-resolve',
    ],
    /ready for connections/,
    dir,
    port,
  );
}

export async function startRedis(): Promise<Server> {
  const dir = tmpDir('capc-redis-');
  const port = await pickFreePort();
  return startServer(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    /Ready to accept connections/,
    dir,
    port,
  );
}

export async function startHttp(): Promise<Server> {
  const dir = tmpDir('capc-http-');
  fs.writeFileSync(path.join(dir, 'index.html'), '<html><body>capc pcapng test page</body></html>\n');
  const port = await pickFreePort();
  return startServer(
    'python3',
    ['-u', '-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', dir],
    /Serving HTTP/,
    dir,
    port,
  );
}
