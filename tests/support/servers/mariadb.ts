// tests/support/servers/mariadb.ts — a throwaway MariaDB (Debian's
// mariadb-server): mariadb-install-db into a private temp dir, mariadbd with
// its own datadir, socket and pid file, TLS with a fresh certificate and
// require_secure_transport=ON (TCP clients must use TLS; the socket counts as
// secure, so setup goes through it), on 127.0.0.1 at a free port. A user
// `capc` with a password owns the database the test names.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { findBinary, freePort, makeCert, privateDir, startServer, type ServerProcess } from './process.js';

export function mariadbMissing(): string | undefined {
  if (!findBinary('mariadbd', ['/usr/sbin/mariadbd'])) return 'needs mariadbd (apt-get install mariadb-server)';
  if (!findBinary('mariadb-install-db', ['/usr/bin/mariadb-install-db']))
    return 'needs mariadb-install-db (apt-get install mariadb-server)';
  if (!findBinary('mariadb', ['/usr/bin/mariadb'])) return 'needs the mariadb client (apt-get install mariadb-client)';
  return undefined;
}

export interface Mariadb {
  host: '127.0.0.1';
  port: number;
  socket: string;
  user: string;
  password: string;
  database: string;
  pid: number;
  server: ServerProcess;
  /** The mariadb client over TCP with TLS as the test user (batch mode, no column names); returns stdout. */
  client(sql: string, o?: { database?: string; user?: string; password?: string }): Promise<string>;
  /** SQL as root through the unix socket (setup). */
  admin(sql: string): Promise<string>;
  stop(): Promise<void>;
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { encoding: 'utf8' }, (err, stdout, stderr) =>
      err ? reject(new Error(`${path.basename(cmd)}: ${stderr || err.message}`)) : resolve(stdout),
    ),
  );
}

export async function startMariadb(o: { database?: string } = {}): Promise<Mariadb> {
  const dir = privateDir('capc-mariadb-');
  const data = path.join(dir, 'data');
  const socket = path.join(dir, 'mysqld.sock');
  const user = 'capc';
  const password = `pw-${process.pid}`;
  const database = o.database ?? 'shop';
  execFileSync(
    findBinary('mariadb-install-db', ['/usr/bin/mariadb-install-db'])!,
    [
      '--no-defaults',
      `--datadir=${data}`,
      '--user=root',
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      '--skip-name-resolve',
    ],
    { stdio: 'pipe', cwd: dir },
  );
  const { cert, key } = makeCert(dir);
  let server: ServerProcess | undefined;
  let port = 0;
  for (let attempt = 0; attempt < 5 && !server; attempt++) {
    port = await freePort();
    try {
      server = await startServer(
        findBinary('mariadbd', ['/usr/sbin/mariadbd'])!,
        [
          '--no-defaults',
          `--datadir=${data}`,
          `--socket=${socket}`,
          `--pid-file=${path.join(dir, 'mariadbd.pid')}`,
          `--port=${port}`,
          '--bind-address=127.0.0.1',
          '--user=root',
          `--ssl-cert=${cert}`,
          `--ssl-key=${key}`,
          '--require-secure-transport=ON',
          '--skip-name-resolve',
          '--skip-log-bin',
          '--innodb-buffer-pool-size=32M',
          '--innodb-log-file-size=16M',
          '--innodb-flush-log-at-trx-commit=0',
          '--max-connections=300',
          `--tmpdir=${dir}`,
        ],
        {
          cwd: dir,
          ready: (out) => /ready for connections/.test(out) && fs.existsSync(socket),
          timeoutMs: 60000,
        },
      );
    } catch (e) {
      if (!/Can't start server: Bind|Address already in use/.test(String(e))) throw e;
    }
  }
  if (!server) throw new Error('mariadbd did not start');
  const client = findBinary('mariadb', ['/usr/bin/mariadb'])!;
  const admin = (sql: string) =>
    run(client, ['--no-defaults', `--socket=${socket}`, '-u', 'root', '-N', '-B', '-e', sql]);
  await admin(
    `CREATE DATABASE IF NOT EXISTS ${database}; CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY '${password}'; GRANT ALL ON *.* TO '${user}'@'127.0.0.1'; FLUSH PRIVILEGES;`,
  );
  const s = server;
  return {
    host: '127.0.0.1',
    port,
    socket,
    user,
    password,
    database,
    pid: s.pid,
    server: s,
    admin,
    client: (sql, q = {}) =>
      run(client, [
        '--no-defaults',
        '-h',
        '127.0.0.1',
        '-P',
        String(port),
        '--ssl',
        '--ssl-verify-server-cert=0',
        '-u',
        q.user ?? user,
        `-p${q.password ?? password}`,
        '-N',
        '-B',
        '-D',
        q.database ?? database,
        '-e',
        sql,
      ]),
    stop: async () => {
      await s.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
