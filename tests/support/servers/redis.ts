// tests/support/servers/redis.ts — a throwaway redis-server (Debian's
// redis-server, built with TLS): no config file, no persistence, TLS only on
// 127.0.0.1 at a free port (`--port 0` turns plain TCP off unless asked),
// a password, a private working dir. redis-cli talks to it with --tls.
import { execFile } from 'node:child_process';
import { accepts, findBinary, freePort, makeCert, privateDir, startServer, type ServerProcess } from './process.js';

export function redisMissing(): string | undefined {
  if (!findBinary('redis-server', ['/usr/bin/redis-server']))
    return 'needs redis-server (apt-get install redis-server)';
  if (!findBinary('redis-cli', ['/usr/bin/redis-cli'])) return 'needs redis-cli (apt-get install redis-tools)';
  return undefined;
}

export interface Redis {
  host: '127.0.0.1';
  /** TLS port. */
  port: number;
  /** Plain TCP port, when started with `plain: true`. */
  plainPort?: number;
  password: string;
  pid: number;
  server: ServerProcess;
  cert: string;
  /** redis-cli over TLS with these arguments (one command, or `-3` etc. before it); returns stdout. */
  cli(args: string[], o?: { input?: string }): Promise<string>;
  stop(): Promise<void>;
}

export async function startRedis(o: { plain?: boolean } = {}): Promise<Redis> {
  const dir = privateDir('capc-redis-');
  const { cert, key } = makeCert(dir);
  const password = `pw-${process.pid}`;
  let server: ServerProcess | undefined;
  let port = 0;
  let plainPort: number | undefined;
  for (let attempt = 0; attempt < 5 && !server; attempt++) {
    port = await freePort();
    plainPort = o.plain ? await freePort() : undefined;
    try {
      const p = port;
      server = await startServer(
        findBinary('redis-server', ['/usr/bin/redis-server'])!,
        [
          '--port',
          String(plainPort ?? 0),
          '--tls-port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--tls-cert-file',
          cert,
          '--tls-key-file',
          key,
          '--tls-ca-cert-file',
          cert,
          '--tls-auth-clients',
          'no',
          '--requirepass',
          password,
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
          '--daemonize',
          'no',
          '--logfile',
          '',
        ],
        { cwd: dir, ready: async (out) => /Ready to accept connections/.test(out) && (await accepts(p)) },
      );
    } catch (e) {
      if (!/Address already in use|Could not create server TCP/.test(String(e))) throw e;
    }
  }
  if (!server) throw new Error('redis-server did not start');
  const s = server;
  const cli = findBinary('redis-cli', ['/usr/bin/redis-cli'])!;
  return {
    host: '127.0.0.1',
    port,
    plainPort,
    password,
    pid: s.pid,
    server: s,
    cert,
    cli: (args, q = {}) =>
      new Promise((resolve, reject) => {
        const child = execFile(
          cli,
          [
            '--tls',
            '--cacert',
            cert,
            '-h',
            '127.0.0.1',
            '-p',
            String(port),
            '--no-auth-warning',
            '-a',
            password,
            ...args,
          ],
          { encoding: 'utf8' },
          (err, stdout, stderr) => (err ? reject(new Error(`redis-cli: ${stderr || err.message}`)) : resolve(stdout)),
        );
        if (q.input !== undefined) child.stdin!.end(q.input);
      }),
    stop: async () => {
      await s.stop();
      const { rmSync } = await import('node:fs');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
