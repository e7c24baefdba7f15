// tests/support/servers/nginx.ts — a throwaway nginx (Debian's nginx) in the
// foreground: its own prefix dir, config, pid file and logs, HTTPS (and plain
// HTTP when asked) on 127.0.0.1 at free ports, serving files the test writes
// under `root`, with a few fixed locations for status codes; text files are
// gzipped for clients that accept it (so their bodies come chunked). curl
// (or any client) talks to it.
import fs from 'node:fs';
import path from 'node:path';
import { accepts, findBinary, freePort, makeCert, privateDir, startServer, type ServerProcess } from './process.js';

export function nginxMissing(): string | undefined {
  if (!findBinary('nginx', ['/usr/sbin/nginx'])) return 'needs nginx (apt-get install nginx)';
  if (!findBinary('curl', ['/usr/bin/curl'])) return 'needs curl (apt-get install curl)';
  return undefined;
}

export interface Nginx {
  host: '127.0.0.1';
  /** HTTPS port. */
  port: number;
  plainPort?: number;
  /** Files under this dir are served at `/`. */
  root: string;
  cert: string;
  pid: number;
  server: ServerProcess;
  stop(): Promise<void>;
}

export async function startNginx(o: { plain?: boolean } = {}): Promise<Nginx> {
  const dir = privateDir('capc-nginx-');
  fs.chmodSync(dir, 0o755);
  const root = path.join(dir, 'www');
  fs.mkdirSync(root);
  fs.mkdirSync(path.join(dir, 'logs'));
  const { cert, key } = makeCert(dir);
  let server: ServerProcess | undefined;
  let port = 0;
  let plainPort: number | undefined;
  for (let attempt = 0; attempt < 5 && !server; attempt++) {
    port = await freePort();
    plainPort = o.plain ? await freePort() : undefined;
    const conf = path.join(dir, 'nginx.conf');
    fs.writeFileSync(
      conf,
      `user root; worker_processes 1; daemon off; master_process off; pid ${dir}/nginx.pid; error_log ${dir}/logs/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  keepalive_requests 10000;
  gzip on; gzip_types text/plain application/json; gzip_min_length 1;
  server {
    listen 127.0.0.1:${port} ssl;${plainPort ? ` listen 127.0.0.1:${plainPort};` : ''}
    ssl_certificate ${cert}; ssl_certificate_key ${key};
    root ${root};
    location = /teapot { return 418 "short and stout\\n"; }
    location = /missing { return 404; }
    location = /echo { client_body_buffer_size 1m; return 200 "got it\\n"; }
  }
}\n`,
    );
    const p = port;
    try {
      server = await startServer(
        findBinary('nginx', ['/usr/sbin/nginx'])!,
        ['-p', dir, '-c', conf, '-e', path.join(dir, 'logs', 'error.log')],
        {
          cwd: dir,
          ready: async () => fs.existsSync(path.join(dir, 'nginx.pid')) && (await accepts(p)),
          timeoutMs: 20000,
        },
      );
    } catch (e) {
      const log = fs.existsSync(path.join(dir, 'logs', 'error.log'))
        ? fs.readFileSync(path.join(dir, 'logs', 'error.log'), 'utf8')
        : '';
      if (!/Address already in use/.test(String(e) + log)) throw e;
    }
  }
  if (!server) throw new Error('nginx did not start');
  const s = server;
  return {
    host: '127.0.0.1',
    port,
    plainPort,
    root,
    cert,
    pid: s.pid,
    server: s,
    stop: async () => {
      await s.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
