/**
 * `run --metrics ADDR:PORT`: the registry's text at /metrics over plain HTTP (node:http), nothing else. Meant for a
 * Prometheus scraper on a trusted network or loopback: it serves counts, never addresses.
 */
import { createServer, type Server } from 'node:http';
import { isIP } from 'node:net';
import type { Logger } from '../log/logger.js';
import type { Registry } from './registry.js';

export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * ADDR:PORT, with an IPv6 address in brackets ([::1]:9150); ADDR is an IP address. Returns the problem as a
 * string when the text is not one.
 */
export function parseListenAddress(text: string): ListenAddress | string {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(text);
  if (m === null) {
    return `expected ADDR:PORT with an IP address (an IPv6 one in brackets: [::1]:9150), got ${JSON.stringify(text)}`;
  }
  const host = m[1] ?? m[2];
  if (isIP(host) !== (m[1] !== undefined ? 6 : 4)) return `${JSON.stringify(host)} is not an ${m[1] !== undefined ? 'IPv6' : 'IPv4'} address`;
  const port = Number(m[3]);
  // 0: a free port chosen by the kernel (logged at start, and shown by `status`)
  if (port > 65535) return `port ${port} is not from 0 to 65535`;
  return { host, port };
}

export function listenText(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

export interface MetricsServer {
  /** Where it listens (the port the kernel gave, for port 0) */
  readonly address: ListenAddress;
  close(): Promise<void>;
}

/** Listens on `at`; rejects, naming the address, when it cannot (in use, not an address of this host). */
export function serveMetrics(at: ListenAddress, registry: Registry, log: Logger): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: the metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    let body: string;
    try {
      body = registry.text();
    } catch (error) {
      log.error({}, `metrics: ${(error as Error).message}`);
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics not available\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  // a scraper that keeps its connection open must not hold the daemon's exit
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new Error(`--metrics ${listenText(at)}: cannot listen (${error.code === 'EADDRINUSE' ? 'the port is in use' : error.code === 'EADDRNOTAVAIL' ? 'not an address of this host' : error.message})`)),
    );
    server.listen(at.port, at.host, () => {
      const bound = server.address();
      const port = typeof bound === 'object' && bound !== null ? bound.port : at.port;
      server.on('error', (error) => log.error({}, `metrics server: ${error.message}`));
      resolve({
        address: { host: at.host, port },
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
