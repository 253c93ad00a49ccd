// The plugin contract: a plugin is `{ name, apply(api) }`, built by a typed factory that validates its
// options when the config loads. `api` is all a plugin ever sees of the engine.
import type { z } from 'zod';
import { formatIssues, schemaKeysAt } from '../config/zod-issues.js';
import { UsageError } from './errors.js';
import type { TapOnlyHooks, Unregister } from './hooks.js';
import type {
  Clock,
  CredentialRequest,
  Credentials,
  ErrorReport,
  ExpiryNotice,
  Logger,
  MfaRequest,
  ReauthNotice,
  RecoverableOperation,
  RecoveryDecision,
  ServiceName,
  Services,
  Settings,
  TokenEvent,
  TunnelStateChange,
} from './types.js';

export interface StormtunnelPlugin {
  readonly name: string;
  /**
   * Taps hooks and provides services. May return what `tap` returned (`apply: (api) => api.hooks.x.tap(fn)`);
   * the engine ignores it.
   */
  apply(api: PluginApi): void | Promise<void> | Unregister;
}

/** A tunnel as declared in the config (after validation and defaults). */
export interface TunnelConfig {
  name: string;
  profile: string | undefined;
  region: string | undefined;
  target: string;
  /** 0 only with an `rds:` remoteHost: the database's port, filled when the target is resolved. */
  remotePort: number;
  localPort: number;
  remoteHost: string | undefined;
  bindAddress: string;
  autostart: boolean;
  /** Which instance when a Name or tag selector matches several (the targets plugin; default newest). */
  pick?: 'newest' | 'random' | 'only';
  /** Sessions this tunnel may run at once (undefined: `settings.maxSessions`). */
  maxSessions?: number;
}

export interface PluginApi {
  /** The plugin's own name; every tap is registered under it. */
  readonly name: string;
  readonly hooks: TapOnlyHooks;
  /** A logger bound to the plugin's name; secrets are redacted. */
  readonly logger: Logger;
  readonly clock: Clock;
  /** Aborted when the engine shuts down. */
  readonly signal: AbortSignal;
  readonly settings: Readonly<Settings>;
  readonly tunnels: readonly TunnelConfig[];
  /** Services, resolved after every plugin has applied (so one plugin can use what another provides). */
  readonly services: Readonly<Services>;
  /** Offers an implementation of a service (e.g. the keychain plugin provides `tokenStore`). */
  provide<K extends ServiceName>(service: K, implementation: Services[K]): void;
  /** Runs `task` every `intervalMs` on the engine's clock until shutdown; overlapping runs are skipped. */
  every(intervalMs: number, task: () => Promise<void>): () => void;
  /** Credentials for another profile, through the engine's own resolveCredentials (for chains). */
  resolveCredentials: (request: CredentialRequest) => Promise<Credentials>;
  /** Asks the mfaCode hook for a code (undefined when no plugin answers); for assume-role hops with mfa_serial. */
  mfaCode: (request: MfaRequest) => Promise<string | undefined>;
  /** Runs onError for a failure and returns the decision (fail when no plugin decides). */
  reportError: (info: Omit<ErrorReport, 'plugin'>) => Promise<RecoveryDecision>;
  /**
   * Runs `fn`; on failure asks onError and carries out the decision (waits and retries, re-authenticates,
   * or throws a RecoveryFailedError carrying the user-facing message).
   */
  recover: <T>(operation: RecoverableOperation, fn: (attempt: number) => Promise<T>) => Promise<T>;
  /**
   * Runs `fn` as work a stop must not cut short (see src/engine/exit-guard.ts): Ctrl-C, SIGTERM, SIGHUP and
   * the engine's shutdown wait for it, up to 15 s. For the durable write of something the service has just
   * replaced, such as a rotated refresh token; keep `fn` to the request and the write.
   */
  finishBeforeExit: <T>(what: string, fn: () => Promise<T>) => Promise<T>;
  /** Raise the engine's notification hooks. */
  readonly emit: {
    tokenExpiring: (notice: ExpiryNotice) => Promise<void>;
    reauthRequired: (notice: ReauthNotice) => Promise<void>;
    tokenChanged: (event: TokenEvent) => Promise<void>;
    tunnelState: (change: TunnelStateChange) => Promise<void>;
  };
}

/** A plugin's options did not validate: reported as a config error (exit 2). */
export class PluginOptionsError extends UsageError {
  constructor(
    readonly plugin: string,
    problems: string[],
  ) {
    super(`plugin "${plugin}" options: ${problems.join('; ')}`);
  }
}

/**
 * Validates a plugin factory's options with a zod schema, so mistakes fail when the config loads:
 * `plugin "sso" options: sessions.work.useDeviceCode: expected boolean, got "yes"`.
 */
export function parsePluginOptions<S extends z.ZodType>(
  plugin: string,
  schema: S,
  input: unknown,
): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  throw new PluginOptionsError(
    plugin,
    formatIssues(result.error.issues, {
      knownKeys: (level) => schemaKeysAt(schema, level),
      noun: 'option',
      whole: 'the options',
    }),
  );
}

/** Identity helper that gives a plugin object its type (for one-off plugins written inline in a config). */
export function definePlugin(plugin: StormtunnelPlugin): StormtunnelPlugin {
  return plugin;
}
