// Loopback TCP targets for tunnel and data-channel tests: servers that track their sockets so a test can
// close everything it started.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface TcpServer {
  port: number;
  connections: number;
  close(): Promise<void>;
}

/** A server on 127.0.0.1 (ephemeral port) that hands every connection to `handler`. */
export async function serveTcp(handler: (s: Socket) => void): Promise<TcpServer> {
  const sockets = new Set<Socket>();
  const info = { connections: 0 };
  const server: Server = createServer((s) => {
    info.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    handler(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return info.connections;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Writes back everything it reads. */
export const startEchoServer = (): Promise<TcpServer> => serveTcp((s) => s.pipe(s));

/** A port with nothing listening (bound, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
