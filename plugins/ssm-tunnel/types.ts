// Public types of the ssm-tunnel plugin.
import type { DurationInput } from '../../src/plugin-kit/index.js';

export type { TunnelSet, TunnelStartRequest, TunnelStatus } from '../../src/plugin-kit/index.js';

export interface SsmTunnelOptions {
  /**
   * No longer used: how often and how long a lost tunnel is tried again is onError's decision (the retry
   * plugin and `settings.retry`). Accepted so that existing configs keep loading; a warning says so.
   */
  reconnectDelay?: DurationInput;
  /**
   * How long a new local connection may wait for a data channel: while the tunnel reconnects, and in basic
   * mode behind the one open connection (default "30s"). After that it is closed with a log line.
   */
  connectionWait?: DurationInput;
  /**
   * How long a session must stay up before its loss counts as a new outage (default "30s"). A session lost
   * sooner continues the outage it started in, so a session that dies at once is not restarted in a loop.
   */
  stableAfter?: DurationInput;
  /**
   * An extra session of a tunnel's pool (see `maxSessions`) that carried no connection for this long is
   * ended (default "60s"); the tunnel's first session stays.
   */
  poolIdle?: DurationInput;
  /**
   * Sessions per tunnel at most (1-16, default 4; shorthand `settings.maxSessions`); a tunnel's own
   * `maxSessions` wins.
   */
  maxSessions?: number;
  /** Data-channel tuning. */
  dataChannel?: {
    /** WebSocket ping period (default "5s"). */
    pingInterval?: DurationInput;
    /** The endpoint counts as dead when nothing arrived for this long (default "20s"). */
    deadAfter?: DurationInput;
    /** No longer used (resume attempts follow `settings.retry`); accepted with a warning. */
    resumeAttempts?: number;
    /**
     * Largest payload per message (default 1024, what every public client sends). UNVERIFIED AGAINST AWS
     * above 1024: the service may close the connection.
     */
    maxPayloadBytes?: number;
    /**
     * Messages sent per second per session, acks included (default 900; the service closes the WebSocket
     * of a client above ~1000/s). UNVERIFIED AGAINST AWS above 900. `false`: unpaced, for measuring the
     * client's own cost against the emulator only.
     */
    maxMessagesPerSecond?: number | false;
  };
}

/** Validated options, durations in ms. */
export interface ResolvedSsmTunnelOptions {
  connectionWaitMs: number;
  /** After a wake, how long a data channel has to answer a ping before it is resumed. */
  wakeCheckMs: number;
  stableAfterMs: number;
  poolIdleMs: number;
  maxSessions?: number;
  pingIntervalMs: number;
  deadAfterMs: number;
  maxPayloadBytes: number;
  maxMessagesPerSecond: number | false;
}
