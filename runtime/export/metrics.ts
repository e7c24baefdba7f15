// runtime/export/metrics.ts — `--metrics ADDR`: a Prometheus endpoint
// (GET /metrics) serving every map live, read from the kernel when scraped,
// capc's own health (metric-families.ts says what is served), and decoded
// exchanges by protocol, server and outcome (exchange-metrics.ts).
// prom-client formats the text: Prometheus 0.0.4 by default, OpenMetrics 1.0
// when the scraper asks for it (Prometheus does). Scrapes never hold up
// capture for long: maps are read at most every 20x the time the last
// reading took (the session's LiveSource), at most 8 connections are open at
// once (more are dropped), and a scrape that is not done in 10 s (a scraper
// that stops reading) is cut; both count as lost scrapes (W0906).
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import client from 'prom-client';
import { CapcError } from '../errors.js';
import type { CapEvent } from '../events/model.js';
import type { LiveSource } from './live-source.js';
import { ExchangeMetrics } from './exchange-metrics.js';
import { healthFamilies, mapFamilies, type Family } from './metric-families.js';
import type { ExportLoss, ExportSink } from './sink.js';

const MAX_CONNECTIONS = 8;
const SCRAPE_TIMEOUT_MS = 10_000;

/** HOST:PORT, :PORT (every address), [IPV6]:PORT, or a bare PORT; E0904 otherwise. */
export function parseListenAddress(text: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535))
    throw new CapcError('E0904', `--metrics needs HOST:PORT, :PORT or [IPV6]:PORT (got '${text}')`, [
      'e.g. --metrics 127.0.0.1:9435 (this machine only) or --metrics :9435 (every address)',
    ]);
  return { host: m[1] || m[2] || undefined, port };
}

export class MetricsServer implements ExportSink {
  readonly name = 'metrics';
  private live: LiveSource | undefined;
  private readonly events = new Map<string, number>();
  private readonly captureBytes: [number, number] = [0, 0];
  private readonly exchanges = new ExchangeMetrics();
  private readonly sockets = new Set<Socket>();
  private lost = 0;
  private reason: string | undefined;
  scrapes = 0;

  private constructor(
    private readonly server: http.Server,
    readonly target: string,
    readonly url: string,
  ) {}

  static async start(addr: string): Promise<MetricsServer> {
    const { host, port } = parseListenAddress(addr);
    // Half-sent requests are checked every second (Node's default is every 30 s).
    const server = http.createServer({ connectionsCheckingInterval: 1000 });
    server.maxConnections = MAX_CONNECTIONS;
    server.headersTimeout = SCRAPE_TIMEOUT_MS;
    server.requestTimeout = SCRAPE_TIMEOUT_MS;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => {
        const why =
          e.code === 'EADDRINUSE'
            ? 'the port is in use'
            : e.code === 'EACCES'
              ? 'permission denied'
              : e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND'
                ? 'no such local address'
                : e.message;
        reject(
          new CapcError('E0908', `cannot serve metrics on ${addr}: ${why}`, [
            e.code === 'EADDRINUSE'
              ? 'choose another port, or stop what listens there (ss -ltnp)'
              : 'give an address of this machine, e.g. 127.0.0.1:9435',
          ]),
        );
      });
      server.listen({ host, port }, () => resolve());
    });
    const a = server.address() as AddressInfo;
    const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    const self = new MetricsServer(server, addr, `http://${shown}:${a.port}/metrics`);
    server.on('request', (req, res) => void self.handle(req, res));
    server.on('drop', () => self.lose('too many scrapes at once'));
    server.on('connection', (s: Socket) => {
      self.sockets.add(s);
      s.on('close', () => self.sockets.delete(s));
    });
    server.on('timeout', (s: Socket) => s.destroy());
    return self;
  }

  private lose(reason: string): void {
    this.lost++;
    this.reason = reason;
  }

  bind(live: LiveSource): void {
    this.live = live;
  }

  event(e: CapEvent): void {
    this.events.set(e.kind, (this.events.get(e.kind) ?? 0) + 1);
    if (e.kind === 'capture') this.captureBytes[e.dir] += e.data.length;
    else if (e.kind === 'exchange') this.exchanges.add(e.x);
  }

  /** Every family, read now. */
  families(): Family[] {
    const live = this.live!;
    const { maps, readMs } = live.readMaps();
    return [
      ...mapFamilies(maps),
      ...healthFamilies({
        counters: live.counters(),
        rings: live.rings(),
        probes: live.probes(),
        losses: live.exportLosses(),
        events: this.events,
        captureBytes: this.captureBytes,
        mapReadSeconds: readMs / 1000,
        startedAt: live.startedAt,
      }),
      ...this.exchanges.families(),
    ];
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('capc: metrics at /metrics\n');
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: try /metrics\n');
      return;
    }
    if (!this.live) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end('capc is starting\n');
      return;
    }
    // A scraper that stops reading must not keep its response (and our memory) forever.
    const timer = setTimeout(() => {
      if (!res.writableFinished) {
        this.lose('a scrape took longer than 10 s');
        res.destroy();
      }
    }, SCRAPE_TIMEOUT_MS);
    res.on('close', () => clearTimeout(timer));
    try {
      const open = /application\/openmetrics-text/.test(req.headers.accept ?? '');
      const registry = new client.Registry();
      if (open) registry.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE as never);
      for (const f of this.families()) {
        // OpenMetrics names a counter family without `_total` (prom-client adds it to each sample).
        const fixed = open && f.type === 'counter' ? { ...f, name: f.name.replace(/_total$/, '') } : f;
        registry.registerMetric({ name: f.name, help: f.help, type: f.type, get: () => fixed } as never);
      }
      const body = await registry.metrics();
      this.scrapes++;
      res.writeHead(200, { 'content-type': registry.contentType });
      if (req.method === 'HEAD') res.end();
      else res.end(body);
    } catch (e) {
      this.lose((e as Error).message);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`capc could not read its metrics: ${(e as Error).message}\n`);
    }
  }

  losses(): ExportLoss[] {
    return [{ count: this.lost, unit: 'scrapes', reason: this.reason }];
  }

  end(): void {}

  async close(): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}
