/**
 * The operations endpoints, /healthz, /readyz and /metrics, as plain node:http handlers: Bolt's
 * HTTPReceiver serves them beside /slack/events (customRoutes) in HTTP mode; in Socket Mode a
 * small server of their own listens on HEALTH_PORT.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Health } from './health';
import type { Metrics } from './metrics';

export const OPS_PATHS = { liveness: '/healthz', readiness: '/readyz', metrics: '/metrics' } as const;

export type OpsHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface OpsRoute {
  path: string;
  method: string[];
  handler: OpsHandler;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));
};

/** The three routes, for Bolt's HTTPReceiver customRoutes or the Socket Mode server. */
export function opsRoutes(health: Health, metrics: Metrics, onError: (err: unknown, path: string) => void): OpsRoute[] {
  const guarded = (path: string, run: (res: ServerResponse) => Promise<void>): OpsRoute => ({
    path,
    method: ['GET'],
    handler: (_req, res) => {
      run(res).catch((err: unknown) => {
        onError(err, path);
        if (!res.headersSent) json(res, 500, { status: 'fail', error: 'internal error' });
        else res.end();
      });
    },
  });
  return [
    guarded(OPS_PATHS.liveness, async (res) => json(res, 200, health.liveness())),
    guarded(OPS_PATHS.readiness, async (res) => {
      const report = await health.readiness();
      json(res, report.status === 'ok' ? 200 : 503, report);
    }),
    guarded(OPS_PATHS.metrics, async (res) => {
      const text = await metrics.render();
      res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' }).end(text);
    }),
  ];
}

/** Serves the routes on their own port (Socket Mode). Resolves with the server and its bound port. */
export async function startOpsServer(routes: OpsRoute[], port: number, host = '0.0.0.0'): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = routes.find((r) => r.path === path);
    if (!route) return json(res, 404, { error: 'not found' });
    if (!route.method.includes(req.method ?? '')) {
      res.setHeader('allow', route.method.join(', '));
      return json(res, 405, { error: 'method not allowed' });
    }
    route.handler(req, res);
  });
  // A scrape or probe keeps no connection open that would hold up shutdown.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
