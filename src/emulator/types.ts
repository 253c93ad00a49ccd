// Public types of the local AWS emulator. The state shape itself is declared with zod in state.ts;
// its inferred type is re-exported here so that callers only import from one place.
import type { DataChannelRealism } from './agent/types.js';
import type { EmulatorState, EmulatorStateInput } from './state.js';

export type { EmulatorState, EmulatorStateInput, DataChannelRealism };

/**
 * The data channel's realism switches (`pacing`, `clientMessageRateLimit`, `clientPayloadLimit`,
 * `basicEagerDial`, `agentSessionState`, `clientClearsPause`, `agentStyleEnding`): all realistic by
 * default, see "Realism" in src/emulator/README.md.
 */
export interface EmulatorOptions extends Partial<DataChannelRealism> {
  /** TCP port on 127.0.0.1; 0 picks an ephemeral port. */
  port?: number;
  /** Seed state (partial: missing top-level keys take the built-in seed's values). */
  state?: EmulatorStateInput;
  /** Approve every device authorization and PKCE authorization without a browser. */
  autoApprove?: boolean;
  /** Injectable clock (ms since epoch) so token expiry follows a test's fake clock. */
  now?: () => number;
  /** Receives short operational lines (never secrets). Silent when absent. */
  logger?: (line: string) => void;
}

export type ServiceName =
  'sso-oidc' | 'sso' | 'sts' | 'ssm' | 'ec2' | 'ecs' | 'rds' | 'pages' | 'admin' | 'data-channel' | 'unknown';

export interface RequestLogEntry {
  seq: number;
  /** ISO time on the emulator clock. */
  time: string;
  service: ServiceName;
  operation: string;
  status: number;
  /** Error code sent to the client, when the answer was an error. */
  errorCode?: string;
  /** Injected fault kind, when a fault answered instead of the handler. */
  fault?: FaultKind;
  /** Key parameters (account id, role name, instance id, client name, grant type...). Never secrets. */
  params: Record<string, string | number | boolean | string[]>;
}

export type FaultKind = 'throttle' | '5xx' | 'timeout' | 'reset' | 'slow';

export interface FaultSpec {
  /** Operation name as in the request log (e.g. 'GetRoleCredentials', 'CreateToken', 'StartSession') or '*'. */
  operation: string;
  kind: FaultKind;
  /** How many matching requests fail (default 1). */
  count?: number;
  /** Retry-After seconds sent with a throttle (default 1). */
  retryAfterSeconds?: number;
  /** HTTP status for '5xx' (default 500; 500-599). */
  status?: number;
  /** How long a 'timeout' holds the request before dropping the socket, or a 'slow' one before serving it (default 60 s). */
  holdSeconds?: number;
}

export interface ActiveFault extends Required<Omit<FaultSpec, 'status'>> {
  id: number;
  status: number;
  remaining: number;
}

export interface DataChannelFaultsInput {
  dropRate?: number;
  duplicateRate?: number;
  reorderRate?: number;
}

export interface PendingDeviceAuthorization {
  userCode: string;
  clientName: string;
  status: 'pending' | 'approved' | 'denied' | 'expired' | 'consumed';
  expiresAt: string;
}

export interface PendingAuthorization {
  id: string;
  clientName: string;
  redirectUri: string;
  status: 'pending' | 'approved' | 'denied' | 'consumed';
}

export interface ApprovalResult {
  /** For PKCE: where the browser is sent (`redirect_uri?code=...&state=...` or `error=access_denied`). */
  redirectUrl?: string;
  /** For PKCE with follow: HTTP status the callback answered, or the error reaching it. */
  callbackStatus?: number;
  callbackError?: string;
}

export interface RevokeSpec {
  /** Revoke every token of every sign-in session (default when nothing else is given). */
  all?: boolean;
  accessToken?: string;
  refreshToken?: string;
  clientId?: string;
  username?: string;
}

export interface SessionSummary {
  sessionId: string;
  instanceId: string;
  documentName: string;
  status: 'Connected' | 'Terminated';
  owner: string;
  stats?: unknown;
}

/** Runtime settings; the data-channel switches apply to sessions started afterwards. */
export interface EmulatorSettingsInput extends Partial<DataChannelRealism> {
  accessTokenSeconds?: number;
  refreshTokenSeconds?: number;
  deviceCodeSeconds?: number;
  pollIntervalSeconds?: number;
  roleCredentialSeconds?: number;
  clientRegistrationSeconds?: number;
  authorizationCodeSeconds?: number;
  agentVersion?: string;
  autoApprove?: boolean;
}

export interface InstancePatch {
  pingStatus?: 'Online' | 'ConnectionLost' | 'Inactive';
  agentVersion?: string;
  /** `running`: a pending launch (replaceInstance with hold) is up; its agent registers as `pingStatus`. */
  state?: 'running';
}

/** How admin `replaceInstance` launches the new instance (default: running and online at once). */
export interface ReplaceOptions {
  /** The new instance is `pending` (not a managed node) until the emulator clock has moved on this much. */
  onlineAfterMs?: number;
  /** The new instance stays `pending` until `setInstance(id, { state: 'running' })`. */
  hold?: boolean;
}

/** Helpers mirroring the admin API under /_emulator/ (same semantics, in-process). */
export interface EmulatorAdmin {
  approveDevice(userCode?: string, username?: string): ApprovalResult[];
  denyDevice(userCode?: string): ApprovalResult[];
  listDeviceAuthorizations(): PendingDeviceAuthorization[];
  approveAuthorization(opts?: {
    id?: string;
    username?: string;
    follow?: boolean;
  }): Promise<ApprovalResult[]>;
  denyAuthorization(opts?: { id?: string; follow?: boolean }): Promise<ApprovalResult[]>;
  listAuthorizations(): PendingAuthorization[];
  setAutoApprove(enabled: boolean): void;
  revokeTokens(spec?: RevokeSpec): { revoked: number };
  injectFault(spec: FaultSpec): ActiveFault;
  listFaults(): ActiveFault[];
  clearFaults(): void;
  /** Moves the emulator clock forward (or back) by `ms`; cumulative. */
  advanceClock(ms: number): { offsetMs: number; now: string };
  setSettings(settings: EmulatorSettingsInput): void;
  setInstance(instanceId: string, patch: InstancePatch): void;
  /**
   * What an Auto Scaling group does on a health-check failure: the instance is terminated (its sessions end)
   * and a new one with the same name, tags and group is launched, running and online. Returns the new id.
   * As in AWS, the new one can take minutes: `onlineAfterMs` keeps it `pending` (not a managed node) until the
   * emulator clock has moved on that much, `hold` until `setInstance(id, { state: 'running' })`.
   */
  replaceInstance(instanceId: string, options?: ReplaceOptions): { instanceId: string };
  /** What an ECS service does when a task dies: it stops (its sessions end), a new task runs. Returns its id. */
  restartTask(taskId: string): { taskId: string };
  /** Current valid one-time code for an MFA device serial. */
  mfaCode(serial: string): string;
  listSessions(): SessionSummary[];
  sessionFaults(sessionId: string, faults: DataChannelFaultsInput): void;
  pauseSession(sessionId: string): void;
  startSession(sessionId: string): void;
  closeSession(sessionId: string, code?: number): void;
  killSession(sessionId: string): void;
  /** Stops reading and writing the connection without closing it (a silent network). */
  freezeSession(sessionId: string): void;
  channelClosed(sessionId: string, output?: string): void;
  terminateSession(sessionId: string, reason?: string): void;
  clearRequests(): void;
  /** Back to the initial state: tokens, registrations, sessions, faults, log, clock offset. */
  reset(): Promise<void>;
}

export interface RunningEmulator {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** The portal start URL of the emulated SSO instance. */
  readonly startUrl: string;
  /** Environment for the AWS SDK / CLI: AWS_ENDPOINT_URL (all services on one URL), AWS_REGION... */
  env(): Record<string, string>;
  /** Copy of the request log. */
  requests(): RequestLogEntry[];
  readonly admin: EmulatorAdmin;
  close(): Promise<void>;
}
