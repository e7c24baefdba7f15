// tests/support/servers/postgres.ts — a throwaway PostgreSQL (Debian's
// postgresql-15): initdb into a private temp dir owned by the `postgres`
// account (postgres refuses to run as root), ssl=on with a fresh certificate,
// SCRAM passwords, listening on 127.0.0.1 at a free port and on a unix socket
// in its own dir. psql runs as the test's user over TCP (TLS unless asked not).
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { account, findBinary, freePort, makeCert, privateDir, startServer, type ServerProcess } from './process.js';

const PG_DIRS = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin'];

export function postgresBin(name: string): string | undefined {
  return findBinary(
    name,
    PG_DIRS.map((d) => path.join(d, name)),
  );
}

/** Why PostgreSQL tests cannot run here, or undefined. */
export function postgresMissing(): string | undefined {
  if (!postgresBin('initdb') || !postgresBin('postgres')) return 'needs PostgreSQL (apt-get install postgresql)';
  if (!postgresBin('psql')) return 'needs psql (apt-get install postgresql-client)';
  if (!account('postgres')) return 'needs the postgres account (apt-get install postgresql)';
  return undefined;
}

export interface Postgres {
  host: '127.0.0.1';
  port: number;
  user: string;
  password: string;
  database: string;
  pid: number;
  server: ServerProcess;
  /** libpq environment for this server (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE). */
  env(ssl?: boolean): NodeJS.ProcessEnv;
  /** Run psql with `sql` (-c), unaligned tuples only; returns stdout. */
  psql(sql: string, o?: { ssl?: boolean; database?: string; user?: string; password?: string }): Promise<string>;
  stop(): Promise<void>;
}

export async function startPostgres(o: { database?: string } = {}): Promise<Postgres> {
  const pg = account('postgres');
  if (!pg) throw new Error('no postgres account');
  const dir = privateDir('capc-pg-', pg);
  const user = 'capc';
  const password = `pw-${process.pid}`;
  const database = o.database ?? 'shop';
  fs.writeFileSync(path.join(dir, 'pw'), password);
  fs.chownSync(path.join(dir, 'pw'), pg.uid, pg.gid);
  const data = path.join(dir, 'data');
  execFileSync(
    postgresBin('initdb')!,
    ['-D', data, '-U', user, `--pwfile=${path.join(dir, 'pw')}`, '--auth=scram-sha-256', '-E', 'UTF8', '--no-sync'],
    { uid: pg.uid, gid: pg.gid, stdio: 'pipe', cwd: dir },
  );
  const { cert, key } = makeCert(dir, pg);
  // TLS and plain TCP both need the password; the socket dir is ours.
  fs.writeFileSync(
    path.join(data, 'pg_hba.conf'),
    'local all all scram-sha-256\nhostssl all all 127.0.0.1/32 scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n',
  );
  let server: ServerProcess | undefined;
  let port = 0;
  for (let attempt = 0; attempt < 5 && !server; attempt++) {
    port = await freePort();
    try {
      server = await startServer(
        postgresBin('postgres')!,
        [
          '-D',
          data,
          '-p',
          String(port),
          '-k',
          dir,
          '-c',
          'listen_addresses=127.0.0.1',
          '-c',
          'ssl=on',
          '-c',
          `ssl_cert_file=${cert}`,
          '-c',
          `ssl_key_file=${key}`,
          '-c',
          'fsync=off',
          '-c',
          'max_connections=200',
          '-c',
          'log_min_messages=warning',
        ],
        {
          owner: pg,
          cwd: dir,
          stopSignal: 'SIGINT', // fast shutdown
          ready: (out) => out.includes('ready to accept connections'),
          timeoutMs: 30000,
        },
      );
    } catch (e) {
      if (!/could not bind|Address already in use/.test(String(e))) throw e;
    }
  }
  if (!server) throw new Error('postgres did not start');
  const env = (ssl = true): NodeJS.ProcessEnv => ({
    PGHOST: '127.0.0.1',
    PGPORT: String(port),
    PGUSER: user,
    PGPASSWORD: password,
    PGDATABASE: database,
    PGSSLMODE: ssl ? 'require' : 'disable',
    PGCONNECT_TIMEOUT: '10',
  });
  const psql: Postgres['psql'] = (sql, q = {}) =>
    new Promise((resolve, reject) => {
      execFile(
        postgresBin('psql')!,
        ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', q.database ?? database, '-c', sql],
        {
          env: {
            ...process.env,
            ...env(q.ssl ?? true),
            ...(q.user ? { PGUSER: q.user } : {}),
            ...(q.password ? { PGPASSWORD: q.password } : {}),
          },
          encoding: 'utf8',
        },
        (err, stdout, stderr) => (err ? reject(new Error(`psql: ${stderr || err.message}`)) : resolve(stdout)),
      );
    });
  if (database !== 'postgres') await psql(`CREATE DATABASE ${database}`, { database: 'postgres', ssl: false });
  const s = server;
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    database,
    pid: s.pid,
    server: s,
    env,
    psql,
    stop: async () => {
      await s.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
