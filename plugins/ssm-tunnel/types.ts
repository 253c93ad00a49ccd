// Public types of the ssm-tunnel plugin.
import type { DurationInput } from '../../src/config/types.js';

export type { TunnelSet, TunnelStartRequest, TunnelStatus } from '../../src/engine/types.js';

export interface SsmTunnelOptions {
  /**
   * Wait between rounds of bringing a lost tunnel back after a network or throttling failure outlived the
   * retry plugin's budget (default "15s"). Other failures (denied, unknown instance...) are not retried.
   */
  reconnectDelay?: DurationInput;
  /**
   * How long a new local connection may wait for a data channel: while the tunnel reconnects, and in basic
   * mode behind the one open connection (default "30s"). After that it is closed with a log line.
   */
  connectionWait?: DurationInput;
  /** Data-channel tuning, mostly for tests. */
  dataChannel?: {
    /** WebSocket ping period (default "5s"). */
    pingInterval?: DurationInput;
    /** The endpoint counts as dead when nothing arrived for this long (default "20s"). */
    deadAfter?: DurationInput;
    /** ResumeSession attempts per outage before a new session is started instead (default 5). */
    resumeAttempts?: number;
  };
}

/** Validated options, durations in ms. */
export interface ResolvedSsmTunnelOptions {
  reconnectDelayMs: number;
  connectionWaitMs: number;
  pingIntervalMs: number;
  deadAfterMs: number;
  resumeAttempts: number;
}
