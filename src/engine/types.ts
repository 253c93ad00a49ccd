// Public types of the engine: what hooks receive and return, the plugin API, and the services plugins use.
// Plugin authors import these from 'stormtunnel'.
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { SSOClient } from '@aws-sdk/client-sso';
import type { SSOOIDCClient } from '@aws-sdk/client-sso-oidc';
import type { STSClient } from '@aws-sdk/client-sts';
import type { Classification } from './classify.js';
import type { TunnelConfig } from './plugin.js';

/** AWS credentials as every hook and service passes them around. Never logged. */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When the credentials stop working; absent for long-term keys. */
  expiration?: Date;
  accountId?: string;
  /** Which plugin or mechanism produced them (for `status` and logs), e.g. "sso", "assume-role". */
  source?: string;
}

/** Why credentials are being asked for. */
export type CredentialPurpose =
  | { kind: 'tunnel'; tunnel: string }
  | { kind: 'command'; command: string }
  | { kind: 'source-profile'; forProfile: string }
  | { kind: 'library' };

export interface CredentialRequest {
  profile: string;
  region: string | undefined;
  purpose: CredentialPurpose;
  /** Profiles already on the way to this request (assume-role chains), oldest first. */
  chain: readonly string[];
  /** Skip in-memory caches (e.g. after an ExpiredToken error). */
  forceRefresh?: boolean;
  /** May a sign-in be started (browser or device code) when no valid token exists? Default false. */
  allowSignIn?: boolean;
  /**
   * Set by assume-role for `credential_source`: credentials from this source (env vars, instance or container
   * metadata), not from the profile's own keys. Plugins that do not serve credential sources return undefined.
   */
  credentialSource?: 'Environment' | 'Ec2InstanceMetadata' | 'EcsContainer';
}

/** A transport-neutral description of a connection about to be made; beforeConnect taps may amend it. */
export interface ConnectDraft {
  tunnel: string;
  profile: string;
  region: string;
  target: string;
  remotePort: number;
  remoteHost: string | undefined;
  localPort: number;
  bindAddress: string;
  /**
   * For the ssm-tunnel plugin: the Session Manager document to start. The engine leaves it unset; a plugin may
   * set its own document here, else ssm-tunnel takes AWS-StartPortForwardingSession(ToRemoteHost).
   */
  documentName?: string;
  /** Filled by the engine from resolveCredentials before beforeConnect runs. */
  credentials: Credentials | undefined;
  /** Free-form notes a plugin can leave for later plugins (e.g. the tag it matched). */
  annotations: Record<string, unknown>;
  /** Set by the engine when resolveTarget answered: what the config named and what it became. */
  resolution?: TargetResolution;
}

/**
 * A resolveTarget tap's answer: where sessions of this connection really go. The engine writes it into the
 * draft (target, remoteHost, remotePort) before beforeConnect, so guards see the real target.
 */
export interface ResolvedTarget {
  /** The Session Manager target: an instance or managed-node id, or `ecs:<cluster>_<taskId>_<runtimeId>`. */
  target: string;
  /** The real host, when the config's remoteHost was symbolic (`rds:IDENTIFIER`). */
  remoteHost?: string;
  /** The real port, when the config left it to the resolved resource (an `rds:` host without remotePort). */
  remotePort?: number;
  /** One line for people: what was looked for and what was chosen, e.g. `tag:Name=web: i-0abc (newest of 2)`. */
  description: string;
  /** The IAM actions the resolution called (all granted, as it answered), for `check`'s permission report. */
  actions?: readonly string[];
}

/** What the engine records on the draft after resolveTarget: the configured names and the answer's line. */
export interface TargetResolution {
  requested: { target: string; remoteHost: string | undefined };
  description: string;
  /** The IAM actions the resolution called (ResolvedTarget.actions). */
  actions?: readonly string[];
}

/** Returned by a beforeConnect tap to stop the connection. */
export interface Veto {
  veto: true;
  reason: string;
}

export interface ExpiryNotice {
  /** The SSO session key (sso-session name, or start URL for legacy profiles). */
  session: string;
  expiresAt: Date;
  /** Milliseconds left when the notice was raised. */
  remainingMs: number;
  /** Whether a silent refresh is possible (a refresh token exists). */
  refreshable: boolean;
}

/** The lifecycle step a failure happened in. */
export type ErrorPhase =
  'credentials' | 'sign-in' | 'token-refresh' | 'token-store' | 'connect' | 'data-channel' | 'command';

export interface ErrorInfo {
  /** What kind of failure this is, and the message the user will see (src/engine/classify.ts). */
  classification: Classification;
  phase: ErrorPhase;
  /** 1 for the first failure of an operation, 2 for the failure of its first retry, ... */
  attempt: number;
  /** Milliseconds since the operation first started. */
  elapsedMs: number;
  /** The plugin the failure came from, if any. */
  plugin: string | undefined;
  /** The operation, e.g. "GetRoleCredentials" or "tunnel db". */
  operation: string;
  error: unknown;
  /** Profile or SSO session involved, for messages. */
  profile?: string;
  ssoSession?: string;
}

/** What a plugin or the engine reports about a failure; the engine adds the classification. */
export type ErrorReport = Omit<ErrorInfo, 'classification'> & { action?: string };

/** An operation run with recovery: failures go to onError and its decision is carried out. */
export interface RecoverableOperation {
  phase: ErrorPhase;
  operation: string;
  profile?: string;
  ssoSession?: string;
  /** The IAM action, for "Contact AWS Administrator" when the denial message names none. */
  action?: string;
  /** Called on a `reauthenticate` decision; the operation is retried once it resolves. */
  reauthenticate?: () => Promise<void>;
  /**
   * The outage this call continues. Successive calls given the same record share one budget: attempts go on
   * counting and `elapsedMs` runs from its start (a session that dies right after it started is the same
   * outage, not a fresh one). The caller drops the record once things are healthy again.
   */
  outage?: Outage;
}

/** Failures so far of one outage, and when it began (engine clock, ms). Updated by `recover`. */
export interface Outage {
  attempts: number;
  startedAt: number;
}

export type RecoveryDecision =
  | { action: 'retry'; afterMs: number; reason: string }
  | { action: 'reauthenticate'; reason: string }
  | { action: 'fail'; reason: string; message?: string; guidance?: string };

export interface ReauthNotice {
  session: string;
  profile?: string;
  reason: string;
  /** No sign-in of this session was found at all (nothing expired): messages must not say "expired". */
  neverSignedIn?: boolean;
  /** Starts the sign-in for this session; what a notification click calls. */
  signIn: () => Promise<void>;
}

export interface SignInRequest {
  profile?: string;
  ssoSession?: string;
  noBrowser?: boolean;
  useDeviceCode?: boolean;
}

export interface SignInResult {
  session: string;
  expiresAt: Date;
  refreshable: boolean;
}

export interface SsoTokenRequest {
  profile?: string;
  ssoSession?: string;
  allowSignIn?: boolean;
}

/** What other commands (roles, configure) need to call the SSO portal; never logged. */
export interface SsoAccessToken {
  session: string;
  accessToken: string;
  /** The SSO region (where the portal API is). */
  region: string;
  startUrl: string;
  expiresAt: Date;
}

export interface SignOutRequest {
  session?: string;
  profile?: string;
  all?: boolean;
}

export interface TokenEvent {
  session: string;
  expiresAt: Date;
  how: 'sign-in' | 'refresh' | 'external';
}

/**
 * `idle`: the service ended a session nobody was using (its idle timeout, protocol §9); the local port
 * still listens and the next connection starts a new session.
 */
export type TunnelState =
  | 'starting'
  | 'connecting'
  | 'ready'
  | 'reconnecting'
  | 'idle'
  | 'waiting-for-sign-in'
  | 'failed'
  | 'stopped';

export interface TunnelStateChange {
  tunnel: string;
  state: TunnelState;
  previous: TunnelState | undefined;
  detail?: string;
}

/** A tunnel's live figures, for `up`'s view and `status` (no secrets). */
export interface TunnelStatus {
  name: string;
  state: TunnelState;
  /** "127.0.0.1:5432" once the local listener is bound. */
  localAddress: string | undefined;
  /** "i-0123456789abcdef0:5432", or "i-0123456789abcdef0 -> db.internal:5432" through a remote host. */
  target: string;
  /** Local connections open now / since the start. */
  connections: number;
  totalConnections: number;
  /** Bytes from the target to local clients, and from local clients to the target. */
  bytesIn: number;
  bytesOut: number;
  /** Milliseconds since the epoch of the last state change. */
  since: number;
  /** The last problem, one line ("Target Unavailable: ..."), or what the tunnel waits for. */
  detail?: string;
  sessionId?: string;
  /** The tunnel's sessions when it may run several (`maxSessions` > 1): its own first, then extra ones. */
  sessions?: { id: string; connections: number; primary: boolean }[];
  /** When failed: the exit code of the failure's class (src/engine/classify.ts), e.g. 8 for a target problem. */
  exitCode?: number;
}

/** What the engine hands the startTunnels hook: the tunnels to run and the one way to prepare a connection. */
export interface TunnelStartRequest {
  tunnels: readonly TunnelConfig[];
  /** May the first credentials of a tunnel start a sign-in (browser or device code)? */
  allowSignIn: boolean;
  /**
   * A connection draft for a new session of `tunnel`: credentials resolved now (fresh when `forceRefresh`),
   * then beforeConnect. Throws ConnectionVetoedError on a veto and credential errors as they come.
   */
  prepare(tunnel: string, options?: { forceRefresh?: boolean; allowSignIn?: boolean }): Promise<ConnectDraft>;
}

/**
 * What the engine hands the openStream hook (`stormtunnel ssh-proxy`): one connection to `tunnel`'s target and
 * remotePort whose bytes travel over a stream (the caller's stdin/stdout) instead of a local port.
 */
export interface StreamOpenRequest {
  /** Target, profile, region and remotePort (localPort is unused); from the command line or the config. */
  tunnel: TunnelConfig;
  /** What the stream carries; `ssh` is an SSH connection (the ssm-tunnel plugin starts AWS-StartSSHSession). */
  service: 'ssh';
  /** May the first credentials start a sign-in (browser or device code)? */
  allowSignIn: boolean;
  /** As TunnelStartRequest.prepare, for this tunnel: credentials (fresh when `forceRefresh`), then beforeConnect. */
  prepare(options?: { forceRefresh?: boolean; allowSignIn?: boolean }): Promise<ConnectDraft>;
}

/** How a stream's session ended: `closed` by our side (stop, or the stream ended), `ended` by the service. */
export interface StreamEnd {
  how: 'closed' | 'ended' | 'failed';
  /** One line: the service's Output, or what failed. */
  detail?: string;
  /** `failed`: the error, worded by the host like every other error. */
  error?: unknown;
}

/** An open stream session, as returned by the plugin that answered openStream. */
export interface StreamSession {
  /** The connection's bytes both ways; it closes when the session ends (with an error when it failed). */
  readonly stream: NodeJS.ReadWriteStream & { destroy(error?: Error): unknown };
  readonly sessionId: string;
  /** Resolves once the session is over (never rejects). */
  readonly ended: Promise<StreamEnd>;
  /** Ends the session (bounded); the stream closes. */
  stop(): Promise<void>;
}

/**
 * What the engine hands the probeTunnel hook (`stormtunnel check`): one tunnel and its connection prepared as
 * `up` prepares it (credentials, beforeConnect, target), or why that failed (a veto, credentials), or why the
 * host did not try (`skipped`, e.g. the profile's credentials already failed): then list the steps as skipped.
 */
export interface TunnelProbeRequest {
  tunnel: TunnelConfig;
  connection: { draft: ConnectDraft } | { error: unknown } | { skipped: string };
}

/** One step of a tunnel probe, as `stormtunnel check` shows it ("instance", "start-session", ...). */
export interface ProbeStep {
  /** Stable id, kebab-case; `check` shows it with spaces ("start session"). */
  id: string;
  status: 'pass' | 'fail' | 'skip';
  /**
   * What was found, or why the step failed or was skipped (one line). With `error`, a note added after the
   * host's wording of that error.
   */
  message: string;
  /** What to do next (failures the plugin words itself). */
  hint?: string;
  /** The error class (src/engine/classify.ts) of a failure the plugin words itself. */
  errorClass?: string;
  /** A failed call: the host words it like every other error (classification, redaction, what to ask for). */
  error?: unknown;
}

/** Running tunnels, as returned by the plugin that answered startTunnels. */
export interface TunnelSet {
  status(): TunnelStatus[];
  /** Resolves once no tunnel is `starting` or `connecting` any more (ready, failed, waiting...). */
  settled(): Promise<void>;
  /** Calls `listener` on every state change of a tunnel of this set; returns the unsubscribe function. */
  onChange(listener: (change: TunnelStateChange) => void): () => void;
  /** Terminates every session and closes every listener. */
  stop(): Promise<void>;
}

export interface ShutdownInfo {
  reason: 'signal' | 'command-done' | 'error';
}

/** One line of `stormtunnel status`, contributed by a plugin. */
export interface StatusEntry {
  kind: 'sso-session' | 'profile' | 'tunnel' | 'token-store' | 'notifier' | 'other';
  name: string;
  state: string;
  detail?: string;
  ok: boolean;
}

export interface StatusRequest {
  profiles: string[];
  /** Whether to call AWS (GetCallerIdentity) to check credentials. */
  live: boolean;
}

export interface StatusReport {
  request: StatusRequest;
  entries: StatusEntry[];
}

export interface MfaRequest {
  profile: string;
  mfaSerial: string;
  roleArn: string;
}

// ---------------------------------------------------------------------------------------------
// Services: interfaces the engine hands to plugins; plugins may provide implementations.

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): Logger;
}

export type TimerHandle = { readonly id: number };

/** Time source and timers; tests inject a fake one. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Resolves after `ms`, or rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** A stored SSO token and its client registration, as one record per SSO session. */
export interface StoredToken {
  session: string;
  startUrl: string;
  region: string;
  accessToken: string;
  expiresAt: Date;
  refreshToken?: string;
  clientId?: string;
  clientSecret?: string;
  registrationExpiresAt?: Date;
}

export interface TokenStore {
  readonly kind: string;
  /** null: nothing stored for that session. */
  get(session: string): Promise<StoredToken | null>;
  set(token: StoredToken): Promise<void>;
  delete(session: string): Promise<void>;
  /** A one-line description for `status` (e.g. "Secret Service", or why it is unavailable). */
  describe(): Promise<{ available: boolean; detail: string }>;
}

export interface Notification {
  /** Notifications with the same key are not repeated until `clear(key)`. */
  key: string;
  title: string;
  message: string;
  /** Called when the user clicks it, where the platform reports clicks. */
  onClick?: () => void;
}

export interface Notifier {
  notify(n: Notification): Promise<void>;
  clear(key: string): void;
}

export type AwsServiceId = 'sso' | 'sso-oidc' | 'sts' | 'ssm' | 'ec2' | 'ecs' | 'rds';

export interface AwsClientOptions {
  region: string;
  credentials?: Credentials;
  profile?: string;
}

/** Builds AWS SDK clients with the endpoint, retry and logging settings the engine owns. */
export interface AwsClientFactory {
  endpointFor(service: AwsServiceId, profile?: string): string | undefined;
  sso(options: AwsClientOptions): Promise<SSOClient>;
  ssoOidc(options: AwsClientOptions): Promise<SSOOIDCClient>;
  sts(options: AwsClientOptions): Promise<STSClient>;
  ssm(options: AwsClientOptions): Promise<SSMClient>;
  ec2(options: AwsClientOptions): Promise<EC2Client>;
  ecs(options: AwsClientOptions): Promise<ECSClient>;
  rds(options: AwsClientOptions): Promise<RDSClient>;
}

export interface Prompt {
  /** Whether a person can answer (stdin and stdout are terminals). */
  readonly interactive: boolean;
  text(question: string, options?: { default?: string; secret?: boolean }): Promise<string>;
  confirm(question: string, defaultValue?: boolean): Promise<boolean>;
  /** Prints a line for the person at the terminal (stderr), e.g. a sign-in URL and code. */
  say(text: string): void;
  /** Shows progress for something that waits; returns a handle to update and stop it. */
  progress(text: string): ProgressHandle;
}

export interface ProgressHandle {
  update(text: string): void;
  succeed(text?: string): void;
  fail(text?: string): void;
  stop(): void;
}

export interface Services {
  tokenStore: TokenStore;
  notifier: Notifier;
  aws: AwsClientFactory;
  prompt: Prompt;
}

export type ServiceName = keyof Services;

// ---------------------------------------------------------------------------------------------
// Settings (validated by the config schema; durations in milliseconds here).

export interface RetrySettings {
  maxAttempts: number;
  maxRecoveryDurationMs: number;
  jitter: boolean;
  baseDelayMs: number;
  maxDelayMs: number;
  throttleDelayMs: number;
}

export interface Settings {
  autoRefresh: boolean;
  earlyRefreshThresholdMs: number;
  refreshCheckIntervalMs: number;
  retry: RetrySettings;
  /** Keep SSO tokens in the OS keychain. */
  keychain: boolean;
  /** Also write SSO tokens to the AWS CLI cache (~/.aws/sso/cache) so `aws` shares the sign-in. */
  shareWithAwsCli: boolean;
  notifications: boolean;
  /** Sessions per tunnel at most (a tunnel's own `maxSessions` wins); undefined: the transport's default. */
  maxSessions?: number;
}

/** The process was away (the machine slept, the wall clock jumped, the process was frozen). */
export interface WakeEvent {
  /** How long it was away, as far as can be told (ms). */
  awayMs: number;
  /** Which sign saw it: the wall clock moved against the monotonic clock, or a timer fired far too late. */
  detectedBy: 'clock-jump' | 'late-timer';
}
