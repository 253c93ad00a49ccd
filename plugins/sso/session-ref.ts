// Finds the SSO session behind a profile or an sso-session name, keyed exactly as the AWS CLI keys it.
import {
  classifyProfile,
  loadSharedConfig,
  parseScopes,
  startUrlProblem,
  tokenCacheKey,
  UsageError,
} from '../../src/plugin-kit/index.js';
import type { SharedConfig } from '../../src/plugin-kit/index.js';
import type { SsoOptions, SsoSessionRef } from './types.js';

export async function readAwsConfig(env: NodeJS.ProcessEnv = process.env): Promise<SharedConfig> {
  return loadSharedConfig({ env });
}

function withOptions(ref: Omit<SsoSessionRef, 'useDeviceCode'>, options: SsoOptions): SsoSessionRef {
  // Legacy profiles can only use the device flow: PKCE registrations need scopes, which legacy tokens lack.
  return { ...ref, useDeviceCode: ref.legacy || Boolean(options.sessions?.[ref.name]?.useDeviceCode) };
}

/** The SSO session of a profile, or undefined when the profile is not an SSO profile. */
export function sessionForProfile(
  config: SharedConfig,
  profile: string,
  options: SsoOptions,
): SsoSessionRef | undefined {
  if (!config.profiles.has(profile)) return undefined;
  const p = classifyProfile(profile, config);
  if (p.type !== 'sso') return undefined;
  if (p.variant === 'session' && p.ssoSession) return sessionByName(config, p.ssoSession, options);
  return withOptions(
    {
      name: p.startUrl,
      cacheKey: tokenCacheKey({ startUrl: p.startUrl }),
      startUrl: p.startUrl,
      region: p.ssoRegion,
      configuredScopes: undefined,
      legacy: true,
    },
    options,
  );
}

export function sessionByName(config: SharedConfig, name: string, options: SsoOptions): SsoSessionRef {
  const section = config.ssoSessions.get(name);
  if (!section) {
    const known = [...config.ssoSessions.keys()];
    throw new UsageError(`no [sso-session ${name}] in ${config.configFile.path}`, {
      hint: known.length ? `known sessions: ${known.join(', ')}` : 'add one with: stormtunnel configure sso',
    });
  }
  const startUrl = section.values.sso_start_url;
  const region = section.values.sso_region;
  if (!startUrl || !region) {
    const missing = !startUrl ? 'sso_start_url' : 'sso_region';
    throw new UsageError(`[sso-session ${name}] in ${config.configFile.path} has no ${missing}`, {
      hint: `add ${missing} = ... to the [sso-session ${name}] section`,
    });
  }
  const problem = startUrlProblem(startUrl);
  if (problem) throw new UsageError(`[sso-session ${name}] sso_start_url: ${problem}`);
  const scopes = section.values.sso_registration_scopes;
  return withOptions(
    {
      name,
      cacheKey: tokenCacheKey({ ssoSessionName: name }),
      startUrl,
      region,
      configuredScopes: scopes === undefined ? undefined : parseScopes(scopes),
      legacy: false,
    },
    options,
  );
}

/** Every SSO session the config knows: sso-session sections and the start URLs of legacy profiles. */
export function allSessions(config: SharedConfig, options: SsoOptions): SsoSessionRef[] {
  const out = new Map<string, SsoSessionRef>();
  for (const name of config.ssoSessions.keys()) {
    try {
      out.set(name, sessionByName(config, name, options));
    } catch {
      // An incomplete section is reported by `profiles`; it has no token to manage.
    }
  }
  for (const profile of config.profiles.keys()) {
    const ref = sessionForProfile(config, profile, options);
    if (ref && !out.has(ref.name)) out.set(ref.name, ref);
  }
  return [...out.values()];
}

/** Scopes to register with: as configured, else the AWS CLI's default for sso-session logins. */
export function registrationScopes(ref: SsoSessionRef): string[] | undefined {
  if (ref.legacy) return undefined;
  return ref.configuredScopes && ref.configuredScopes.length ? ref.configuredScopes : ['sso:account:access'];
}
