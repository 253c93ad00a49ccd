// Public types of the sso plugin.

export interface SsoSessionOptions {
  /** Sign in with the device code flow instead of PKCE (headless and remote machines). */
  useDeviceCode?: boolean;
}

export interface SsoOptions {
  /** Per sso-session settings, keyed by the session name (or start URL for legacy profiles). */
  sessions?: Record<string, SsoSessionOptions>;
  /** Client name registered with IAM Identity Center (default "stormtunnel"). */
  clientName?: string;
  /** Opens a URL in the user's browser (default: the `open` package). Tests drive a real browser here. */
  openUrl?: (url: string) => Promise<void>;
  /** How long a sign-in may wait for the person (default 10 minutes). */
  signInTimeout?: number | `${number}${'ms' | 's' | 'm' | 'h'}`;
  // The sso plugin's settings. Each has a shorthand in the config's `settings` (same name), used when the
  // option is not given here.
  /** Refresh tokens silently before they expire (default true; shorthand `settings.autoRefresh`). */
  autoRefresh?: boolean;
  /** How early before expiry a token is refreshed (default "5m"; shorthand `settings.earlyRefreshThreshold`). */
  earlyRefreshThreshold?: number | `${number}${'ms' | 's' | 'm' | 'h'}`;
  /** How often tokens in use are checked (default "60s"; shorthand `settings.refreshCheckInterval`). */
  refreshCheckInterval?: number | `${number}${'ms' | 's' | 'm' | 'h'}`;
  /**
   * Also write tokens to the AWS CLI cache (~/.aws/sso/cache) so `aws` shares the sign-in (default true;
   * shorthand `settings.shareWithAwsCli`). Off, tokens still go there when the token store cannot keep them.
   */
  shareWithAwsCli?: boolean;
}

/** The sso plugin's settings as it uses them (durations in ms): its options, else the config's shorthands. */
export interface SsoSettings {
  autoRefresh: boolean;
  earlyRefreshThresholdMs: number;
  refreshCheckIntervalMs: number;
  shareWithAwsCli: boolean;
}

/** One SSO session as the AWS CLI keys its token: by sso-session name, or by start URL for legacy profiles. */
export interface SsoSessionRef {
  /** sso-session name, or the start URL for legacy profiles: the key of the token store entry. */
  name: string;
  /** The AWS CLI cache key (SHA-1 of the session name or start URL). */
  cacheKey: string;
  startUrl: string;
  /** The region of IAM Identity Center. */
  region: string;
  /** `sso_registration_scopes` as configured (undefined when not set). */
  configuredScopes: string[] | undefined;
  /** Legacy profiles (sso_start_url in the profile) never get refresh tokens. */
  legacy: boolean;
  useDeviceCode: boolean;
}
