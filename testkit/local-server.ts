/**
 * The HTTP server of a local stand-in (simulated EC2, Identity Center): listens on 127.0.0.1 (a
 * given port, or any free one), hands each request to `serve` (a handler that throws drops the
 * connection, as a broken endpoint would), and closes with every open connection.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalServer {
  url: string;
  close(): Promise<void>;
}

export async function startLocalServer(serve: (req: IncomingMessage, res: ServerResponse) => Promise<void>, port = 0): Promise<LocalServer> {
  const server = createServer((req, res) => {
    serve(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
