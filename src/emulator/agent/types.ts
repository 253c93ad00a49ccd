// Contract between the emulator's HTTP services (StartSession/ResumeSession/TerminateSession, 'upgrade')
// and the emulated SSM agent side of the data channel.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * How closely the data channel imitates AWS (docs: "Realism" in src/emulator/README.md). Every field
 * defaults to the realistic behaviour; each can be turned off.
 */
export interface DataChannelRealism {
  /** §8: the agent sends at most 1024 payload bytes per Output message, then sleeps 1 ms (default true). */
  pacing: boolean;
  /**
   * §9: close the client's WebSocket when it sends more than this many binary messages per second for more
   * than a moment (a token bucket of 250 messages; default 1000).
   */
  clientMessageRateLimit: number | false;
  /** §9: close the client's WebSocket for a message payload above this many bytes (default 1024; a guess). */
  clientPayloadLimit: number | false;
  /**
   * §7: basic mode dials the target when the session starts and a failed dial ends the session without a
   * word (default true). false: the former lenient basic mode (dial on first data, Flag 3 on failure).
   */
  basicEagerDial: boolean;
  /** §5: send `agent_session_state` before the handshake (default true). */
  agentSessionState: boolean;
  /** §5: every input_stream_data and acknowledge from the client clears pause_publication (default true). */
  clientClearsPause: boolean;
  /**
   * §6: on ending, wait up to 2 s for acks, then channel_closed from the service, then the socket dropped
   * without a close frame (default true). false: channel_closed and close code 1000 at once.
   */
  agentStyleEnding: boolean;
}

export interface AgentSessionOptions extends Partial<DataChannelRealism> {
  sessionId: string;
  documentName:
    'AWS-StartPortForwardingSession' | 'AWS-StartPortForwardingSessionToRemoteHost' | 'AWS-StartSSHSession';
  /** Target port to dial. */
  portNumber: number;
  /** '127.0.0.1' for instance documents, the `host` parameter for remote-host. */
  host: string;
  localPortNumber?: string;
  /** e.g. '3.3.1802.0' (mux capable); an old one like '3.0.161.0' gives basic mode. */
  agentVersion: string;
  /** The TokenValue StartSession returned; the open JSON must carry the currently valid one. */
  token: string;
  /** For the emulator's request log; details never contain secrets. */
  onEvent?: (event: string, detail: Record<string, unknown>) => void;
  /** Fail the session when no valid HandshakeResponse arrives in time (default 15000, like the agent). */
  handshakeTimeoutMs?: number;
  /** Seed for the fault PRNG (default: Math.random). */
  faultSeed?: number;
  /** smux keepalive timings when keepalive applies (defaults 10000 / 30000, like smux). */
  smuxKeepAliveIntervalMs?: number;
  smuxKeepAliveTimeoutMs?: number;
}

/** 0..1, applied to agent->client and client->agent stream messages (acks are not touched). */
export interface DataChannelFaults {
  dropRate: number;
  duplicateRate: number;
  reorderRate: number;
}

export interface DataChannelRegistry {
  registerSession(opts: AgentSessionOptions): AgentSession;
  get(sessionId: string): AgentSession | undefined;
  /** Route an HTTP upgrade for `/v1/data-channel/<sessionId>?...`; returns false if the path is not ours. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  closeAll(): Promise<void>;
}

export interface AgentSessionStats {
  /** WebSocket connections that passed token validation (1 + resumes). */
  connections: number;
  /** Target bytes sent to the client. */
  bytesToClient: number;
  /** Client bytes written to targets. */
  bytesFromClient: number;
  /** TCP connections made to the target. */
  targetConnections: number;
  /** Connections refused for a bad token. */
  rejectedTokens: number;
  mode: 'basic' | 'mux' | undefined;
  smuxKeepAlive: boolean | undefined;
  retransmits: number;
  /** Client messages received again after delivery (duplicates/resends), and ahead of sequence. */
  duplicatesReceived: number;
  outOfOrderReceived: number;
}

export interface AgentSession {
  readonly sessionId: string;
  /**
   * ResumeSession: the new token becomes the only valid one. Old tokens stop working at once (no grace),
   * which catches clients that reconnect without resuming; the current connection is not affected.
   */
  rotateToken(newToken: string): void;
  setFaults(f: Partial<DataChannelFaults>): void;
  /** Sends pause_publication to the client and stops agent sending. */
  pausePublication(): void;
  startPublication(): void;
  /** e.g. 1000 forces a client resume; the session itself survives. */
  closeConnection(code?: number): void;
  /** Abrupt socket destroy, no close frame. */
  killConnection(): void;
  /** Stops reading and writing the current connection without closing it (a silent network). */
  freezeConnection(): void;
  /** The service's channel_closed with this Output, then the end (no wait for acks). */
  sendChannelClosed(output: string): void;
  /** TerminateSession API: end the session the agent's way (§6), close target connections. */
  terminate(reason?: string): void;
  readonly terminated: boolean;
  stats(): AgentSessionStats;
}
