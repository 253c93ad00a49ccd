// Public types of stormtunnel.config.*: what users write (inputs) and what the engine gets (resolved).
import type { StormtunnelPlugin, TunnelConfig } from '../engine/plugin.js';
import type { Settings } from '../engine/types.js';

/** Seconds as a number, or a string like "90s", "5m", "1h", "250ms". */
export type DurationInput = number | `${number}${'ms' | 's' | 'm' | 'h'}`;

export type PluginEntry = StormtunnelPlugin | false | null | undefined | 0 | '' | readonly PluginEntry[];

export interface TunnelInput {
  /** Unique name, used by `stormtunnel up NAME` and in status. */
  name: string;
  /** AWS profile (default: AWS_PROFILE, then "default"). */
  profile?: string;
  /** Region of the target (default: the profile's region). */
  region?: string;
  /**
   * Instance id ("i-0123456789abcdef0"), a Name tag ("bastion"), tag selectors ("tag:Name=web,tag:env=prod"),
   * or an ECS task ("ecs:CLUSTER/SERVICE[/CONTAINER]"); names are resolved for every new session.
   */
  target: string;
  /** Port on the target (or on remoteHost); may be left out with an "rds:" remoteHost (the database's port). */
  remotePort?: number;
  /** Local port; 0 picks a free one. */
  localPort: number;
  /** Forward to this host through the target (AWS-StartPortForwardingSessionToRemoteHost); "rds:IDENTIFIER" for a database's endpoint. */
  remoteHost?: string;
  /** Which instance when a Name or tag selector matches several: "newest" (default), "random" per session, or "only" (several is an error). */
  pick?: 'newest' | 'random' | 'only';
  /** Local address to listen on (default 127.0.0.1). */
  bindAddress?: string;
  /** Started by a plain `stormtunnel up` (default true). */
  autostart?: boolean;
  /**
   * Sessions this tunnel may run at once (1-16, default `settings.maxSessions`, else 4). Each extra session
   * is one more StartSession (Session Manager history, CloudTrail); 1 keeps one session per tunnel.
   */
  maxSessions?: number;
}

export interface RetrySettingsInput {
  /** Default 5. */
  maxAttempts?: number;
  /** Default "120s". */
  maxRecoveryDuration?: DurationInput;
  /** Default true. */
  jitter?: boolean;
  /** First backoff delay, default "1s". */
  baseDelay?: DurationInput;
  /** Largest backoff delay, default "30s". */
  maxDelay?: DurationInput;
  /** Wait after throttling when the service names no Retry-After, default "30s". */
  throttleDelay?: DurationInput;
}

export interface SettingsInput {
  /** Refresh SSO tokens silently before they expire (default true). */
  autoRefresh?: boolean;
  /** Refresh this long before expiry (default "5m"). */
  earlyRefreshThreshold?: DurationInput;
  /** How often tokens are checked (default "60s"). */
  refreshCheckInterval?: DurationInput;
  retry?: RetrySettingsInput;
  /** Keep SSO tokens in the OS keychain (default true). */
  keychain?: boolean;
  /** Share SSO tokens with the AWS CLI cache (default true; false keeps no plaintext token on disk). */
  shareWithAwsCli?: boolean;
  /** Desktop notifications (default true). */
  notifications?: boolean;
  /** Sessions per tunnel at most (1-16, default 4); a tunnel's own `maxSessions` wins. */
  maxSessions?: number;
}

export interface StormtunnelConfigInput {
  /** Plugin instances; nested lists are flattened and falsy entries dropped. Omit for the built-in set. */
  plugins?: readonly PluginEntry[];
  tunnels?: readonly TunnelInput[];
  settings?: SettingsInput;
}

export interface ResolvedConfig {
  /** The file the config came from; undefined when none was found (built-in defaults). */
  file: string | undefined;
  plugins: StormtunnelPlugin[];
  tunnels: TunnelConfig[];
  settings: Settings;
}
