// Emulated SSM agent side of the Session Manager data channel. The emulator's SSM API handlers register
// sessions here (StartSession), rotate tokens (ResumeSession), terminate them (TerminateSession), and its
// HTTP server forwards 'upgrade' requests to `handleUpgrade`.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { AgentSessionImpl } from './session.js';
import type { AgentSession, AgentSessionOptions, DataChannelRegistry } from './types.js';

export type {
  AgentSession,
  AgentSessionOptions,
  AgentSessionStats,
  DataChannelFaults,
  DataChannelRealism,
  DataChannelRegistry,
} from './types.js';
export { REALISTIC, REALISM_KEYS, parseRealismValue, resolveRealism } from './realism.js';

const PATH_RE = /^\/v1\/data-channel\/([^/?#]+)$/;

export function createDataChannelRegistry(): DataChannelRegistry {
  const sessions = new Map<string, AgentSessionImpl>();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });

  function reject(socket: Duplex, status: string): void {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroy();
  }

  return {
    registerSession(opts: AgentSessionOptions): AgentSession {
      if (sessions.get(opts.sessionId)?.terminated === false) {
        throw new Error(`session ${opts.sessionId} already registered`);
      }
      const s = new AgentSessionImpl(opts);
      sessions.set(opts.sessionId, s);
      return s;
    },

    get(sessionId: string): AgentSession | undefined {
      return sessions.get(sessionId);
    },

    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
      let path: string;
      try {
        path = new URL(req.url ?? '/', 'http://emulator.invalid').pathname;
      } catch {
        return false;
      }
      const m = PATH_RE.exec(path);
      if (!m?.[1]) return false;
      const session = sessions.get(decodeURIComponent(m[1]));
      if (!session || session.terminated) {
        reject(socket, '404 Not Found');
        return true;
      }
      wss.handleUpgrade(req, socket, head, (ws) => session.attach(ws, socket));
      return true;
    },

    async closeAll(): Promise<void> {
      for (const s of sessions.values()) s.shutdown();
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
