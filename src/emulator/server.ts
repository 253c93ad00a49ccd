// The emulator's one HTTP + WebSocket server on 127.0.0.1: reads each request, routes it by shape,
// applies injected faults, records it in the request log, and hands data-channel upgrades to the agent.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createDataChannelRegistry, resolveRealism } from './agent/index.js';
import { createAdmin, handleAdmin } from './admin.js';
import type { Emu } from './context.js';
import { Faults } from './faults.js';
import { settleLaunches } from './fleet.js';
import { newExchange, readBody, sendJson, type Exchange } from './http.js';
import { RequestLog } from './request-log.js';
import { route } from './router.js';
import { resolveEmulatorState, type EmulatorState } from './state.js';
import { Clock, Store } from './store.js';
import type { EmulatorOptions, RunningEmulator } from './types.js';

export const HOST = '127.0.0.1';

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const initial: EmulatorState = resolveEmulatorState(options.state ?? {}, 'options.state');
  const logger = options.logger ?? (() => {});
  const sockets = new Set<Socket>();
  const server = createServer();
  // Idle keep-alive sockets would keep close() waiting; they are tracked and destroyed on close.
  server.keepAliveTimeout = 5000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('emulator: no TCP address');
  const url = `http://${HOST}:${address.port}`;

  const emu: Emu = {
    store: new Store(structuredClone(initial)),
    clock: new Clock(options.now ?? Date.now),
    faults: new Faults(),
    log: new RequestLog(),
    registry: createDataChannelRegistry(),
    url,
    startUrl: `${url}/start`,
    autoApprove: !!options.autoApprove,
    dataChannel: resolveRealism(options),
    settings: () => emu.store.state.settings,
    logger,
  };

  const reset = async () => {
    const old = emu.registry;
    emu.registry = createDataChannelRegistry();
    emu.store = new Store(structuredClone(initial));
    emu.clock.offsetMs = 0;
    emu.faults.clear();
    emu.faults.releaseAll();
    emu.log.clear();
    emu.autoApprove = !!options.autoApprove;
    emu.dataChannel = resolveRealism(options);
    await old.closeAll();
  };
  const admin = createAdmin(emu, reset);

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(emu, admin, req, res).catch((err: unknown) => {
      logger(`emulator: internal error: ${(err as Error).message}`);
      if (!res.headersSent) {
        res.writeHead(500, {
          'content-type': 'application/json',
          'x-amzn-errortype': 'InternalServerException',
        });
        res.end(JSON.stringify({ message: 'emulator internal error' }));
      } else res.destroy();
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (!emu.registry.handleUpgrade(req, socket, head)) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
  });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      emu.faults.releaseAll();
      await emu.registry.closeAll();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
    })());

  return {
    url,
    port: address.port,
    startUrl: emu.startUrl,
    env: () => emulatorEnv(url, initial.sso.region),
    requests: () => emu.log.list(),
    admin,
    close,
  };
}

/** Environment for the AWS SDK and CLI: every service on the one emulator URL. */
export function emulatorEnv(url: string, region: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: url,
    AWS_ENDPOINT_URL_SSO_OIDC: url,
    AWS_ENDPOINT_URL_SSO: url,
    AWS_ENDPOINT_URL_STS: url,
    AWS_ENDPOINT_URL_SSM: url,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    // Keeps SDKs from probing the instance metadata service when no credentials are configured.
    AWS_EC2_METADATA_DISABLED: 'true',
    STORMTUNNEL_EMULATOR_URL: url,
    STORMTUNNEL_EMULATOR_START_URL: `${url}/start`,
  };
}

async function handle(
  emu: Emu,
  admin: ReturnType<typeof createAdmin>,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  let body: Buffer;
  try {
    body = await readBody(req);
  } catch {
    if (!res.headersSent) {
      res.writeHead(413, { connection: 'close' });
      res.end();
    }
    return;
  }
  const ex = newExchange(req, res, url, body);
  if (url.pathname.startsWith('/_emulator/')) return handleAdmin(emu, admin, ex);
  // Launches are settled lazily, on the clock the request sees (admin clock moves included).
  settleLaunches(emu);
  const r = route(ex);
  if (!r) return sendJson(ex, 404, { message: 'not found' });
  ex.service = r.service;
  ex.operation = r.operation;
  if (r.logged) record(emu, ex);
  const fault = r.faultable ? emu.faults.take(r.operation) : undefined;
  if (fault) {
    emu.logger(`fault ${fault.kind} on ${r.operation}`);
    if (fault.kind !== 'slow') return emu.faults.apply(ex, fault);
    ex.fault = fault.kind;
    await emu.faults.hold(fault);
  }
  await r.handle(emu, ex);
}

/** Logs the exchange once its answer is settled (sent, reset or timed out). */
function record(emu: Emu, ex: Exchange): void {
  let done = false;
  const write = (status: number) => {
    if (done) return;
    done = true;
    emu.log.record(ex, status, emu.clock.now());
  };
  ex.res.once('finish', () => write(ex.res.statusCode));
  ex.res.once('close', () => write(ex.res.writableFinished ? ex.res.statusCode : 0));
}
