// Public types of the assume-role plugin.
import type { MfaRequest } from '../../src/plugin-kit/index.js';

export interface AssumeRoleOptions {
  /**
   * Supplies MFA codes for profiles with mfa_serial when no plugin answers the mfaCode hook (before the
   * terminal prompt). Must resolve to the current 6-digit code.
   */
  mfaCode?: (request: MfaRequest) => Promise<string>;
  /** RoleSessionName when the profile sets no role_session_name (default "stormtunnel-<OS user name>"). */
  roleSessionName?: string;
}

/** One assumed role kept in memory; for status. */
export interface AssumedRole {
  profile: string;
  roleArn: string;
  /** Profiles from this one to the source of credentials, e.g. ["ops", "deploy", "dev"]. */
  chain: string[];
  expiresAt: Date;
}
