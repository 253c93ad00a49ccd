// Profile typing (the SDK's order of checks), role chains (the AWS CLI's rules) and the `profiles` listing.
import { closest } from '../config/suggest.js';
import { AwsConfigError, displayPath, shortValue } from './errors.js';
import { resolveRegion } from './shared-config.js';
import type {
  CredentialKind,
  NamedSection,
  Profile,
  ProfileType,
  RoleChainHop,
  SharedConfig,
  ValueOrigin,
} from './types.js';

export const CREDENTIAL_SOURCES: readonly string[] = ['Environment', 'Ec2InstanceMetadata', 'EcsContainer'];

const SSO_PROFILE_KEYS = [
  'sso_session',
  'sso_start_url',
  'sso_region',
  'sso_account_id',
  'sso_role_name',
] as const;

/** Keys the AWS CLI or SDK read; used to spot `sso-session`-style and upper-case spellings. */
export const KNOWN_KEYS: ReadonlySet<string> = new Set([
  ...SSO_PROFILE_KEYS,
  'sso_registration_scopes',
  'aws_access_key_id',
  'aws_secret_access_key',
  'aws_session_token',
  'aws_account_id',
  'aws_credential_scope',
  'role_arn',
  'source_profile',
  'credential_source',
  'external_id',
  'mfa_serial',
  'role_session_name',
  'duration_seconds',
  'web_identity_token_file',
  'credential_process',
  'login_session',
  'region',
  'output',
  'endpoint_url',
  'services',
  'ignore_configured_endpoint_urls',
  'use_fips_endpoint',
  'use_dualstack_endpoint',
  'cli_pager',
  'ca_bundle',
  'max_attempts',
  'retry_mode',
]);

/** Keys in `values` that look like known keys spelled with hyphens (`sso-session` for `sso_session`). */
export function hyphenatedKeys(values: Record<string, string>): string[] {
  return Object.keys(values).filter(
    (k) => k.includes('-') && KNOWN_KEYS.has(k.replace(/-/g, '_').toLowerCase()),
  );
}

/** Keys in `values` that are known keys with upper-case letters (the AWS CLI lower-cases, the SDK does not). */
export function upperCaseKeys(values: Record<string, string>): string[] {
  return Object.keys(values).filter(
    (k) => k !== k.toLowerCase() && KNOWN_KEYS.has(k.toLowerCase().replace(/-/g, '_')),
  );
}

export function parseScopes(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function has(values: Record<string, string>, key: string): boolean {
  return Object.hasOwn(values, key) && typeof values[key] === 'string';
}

function val(values: Record<string, string>, key: string): string | undefined {
  return Object.hasOwn(values, key) ? values[key] : undefined;
}

/** The one message for a profile that is not in the files, whichever command (or AWS_PROFILE) named it. */
export function undefinedProfileError(config: SharedConfig, name: string): AwsConfigError {
  const known = [...config.profiles.keys()];
  const shown = shortValue(name);
  // A name with spaces or quotes must be quoted in the header for the AWS CLI to read it as one name.
  const header = /^[^\s"'\\]+$/.test(name) ? shown : `"${shown.replace(/["\\]/g, '\\$&')}"`;
  return new AwsConfigError({
    file: config.configFile.path,
    home: config.home,
    profile: name,
    detail:
      `profile "${shown}" is not defined; add [profile ${header}] (or [${shown}] in the credentials file)` +
      (known.length
        ? ` or use one of: ${known
            .slice(0, 10)
            .map((k) => shortValue(k))
            .join(', ')}`
        : ''),
  });
}

export function getProfile(config: SharedConfig, name: string): Profile {
  const p = config.profiles.get(name);
  if (!p) throw undefinedProfileError(config, name);
  return p;
}

/**
 * Keys nobody reads that are one typo away from a known key (`sso_acount_id` -> `sso_account_id`), when the
 * section does not also have the right spelling. Hyphen and case variants have their own warnings.
 */
export function misspeltKeys(values: Record<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of Object.keys(values)) {
    const normal = k.replace(/-/g, '_').toLowerCase();
    if (KNOWN_KEYS.has(normal)) continue;
    const guess = closest(normal, [...KNOWN_KEYS]);
    if (guess !== undefined && !has(values, guess)) out.set(k, guess);
  }
  return out;
}

export function isStaticProfile(values: Record<string, string>): boolean {
  return has(values, 'aws_access_key_id') && has(values, 'aws_secret_access_key');
}

/**
 * Types a profile with the checks the SDK's `fromIni` makes, in its order: assume-role, static keys, web
 * identity, credential_process, SSO, login. Profiles the SDK could not use are `incomplete` with a reason.
 */
export function classifyProfile(name: string, config: SharedConfig): ProfileType {
  const profile = getProfile(config, name);
  const v = profile.values;
  const region = resolveRegion(config, name)?.region;
  const base = { name, region };

  if (has(v, 'role_arn')) {
    const src = has(v, 'source_profile');
    const cs = has(v, 'credential_source');
    if (src !== cs) {
      return {
        ...base,
        type: 'assume-role',
        roleArn: v.role_arn as string,
        source: src
          ? { profile: v.source_profile as string }
          : { credentialSource: v.credential_source as string },
        externalId: val(v, 'external_id'),
        mfaSerial: val(v, 'mfa_serial'),
        roleSessionName: val(v, 'role_session_name'),
        durationSeconds: parseDuration(val(v, 'duration_seconds')),
      };
    }
    if (src && cs) {
      return {
        ...base,
        type: 'incomplete',
        intended: 'assume-role',
        reason: 'role_arn with both source_profile and credential_source; keep exactly one',
      };
    }
    if (!has(v, 'web_identity_token_file')) {
      return {
        ...base,
        type: 'incomplete',
        intended: 'assume-role',
        reason: 'role_arn without source_profile or credential_source; add one of them',
      };
    }
  }
  if (profile.partialKeys) {
    return { ...base, type: 'incomplete', intended: 'static', reason: partialKeysReason(profile, config) };
  }
  if (isStaticProfile(v)) {
    return {
      ...base,
      type: has(v, 'aws_session_token') ? 'temporary' : 'static',
      accountId: val(v, 'aws_account_id'),
    };
  }
  if (has(v, 'web_identity_token_file') && has(v, 'role_arn')) {
    return {
      ...base,
      type: 'web-identity',
      roleArn: v.role_arn as string,
      tokenFile: v.web_identity_token_file as string,
      roleSessionName: val(v, 'role_session_name'),
    };
  }
  if (has(v, 'credential_process')) {
    return { ...base, type: 'credential-process', command: v.credential_process as string };
  }
  if (SSO_PROFILE_KEYS.some((k) => has(v, k))) return classifySso(profile, config, base);
  if (has(v, 'login_session')) return { ...base, type: 'login', loginSession: v.login_session as string };

  if (has(v, 'aws_access_key_id') || has(v, 'aws_secret_access_key')) {
    const missing = has(v, 'aws_access_key_id') ? 'aws_secret_access_key' : 'aws_access_key_id';
    return {
      ...base,
      type: 'incomplete',
      intended: 'static',
      reason: `static keys without ${missing}; add ${missing}`,
    };
  }
  if (has(v, 'web_identity_token_file')) {
    return {
      ...base,
      type: 'incomplete',
      intended: 'web-identity',
      reason: 'web_identity_token_file without role_arn; add role_arn',
    };
  }
  const hyphens = hyphenatedKeys(v);
  if (hyphens.length) {
    const intended = hyphens.some((k) => k.startsWith('sso')) ? 'sso' : undefined;
    return {
      ...base,
      type: 'incomplete',
      intended,
      reason: `no credential settings: ${hyphens.join(', ')} ${hyphens.length > 1 ? 'are' : 'is'} not read by the AWS CLI or SDK; write ${hyphens.map((k) => k.replace(/-/g, '_')).join(', ')}`,
    };
  }
  return {
    ...base,
    type: 'incomplete',
    intended: undefined,
    reason:
      'no credential settings (static keys, sso_*, role_arn, credential_process or web_identity_token_file)',
  };
}

/** Why a key id without its secret stops the profile, naming both files (never the key values). */
export function partialKeysReason(profile: Profile, config: Pick<SharedConfig, 'home'>): string {
  const p = profile.partialKeys;
  if (!p) return '';
  const where = (o: ValueOrigin) => `${displayPath(o.file, config.home)} line ${o.line}`;
  const other = p.otherSecret
    ? `; the AWS CLI does not combine it with the aws_secret_access_key in ${where(p.otherSecret)} (PartialCredentialsError), and neither do we`
    : '';
  return `aws_access_key_id in ${where(p.keyId)} has no ${p.missing} in the same file${other}; add ${p.missing} next to it, or remove that aws_access_key_id`;
}

function classifySso(
  profile: Profile,
  config: SharedConfig,
  base: { name: string; region: string | undefined },
): ProfileType {
  const v = profile.values;
  const sessionName = val(v, 'sso_session');
  const incomplete = (reason: string): ProfileType => ({
    ...base,
    type: 'incomplete',
    intended: 'sso',
    reason,
  });
  let startUrl = val(v, 'sso_start_url');
  let ssoRegion = val(v, 'sso_region');
  let scopes: string[] = [];
  if (sessionName !== undefined) {
    const session = config.ssoSessions.get(sessionName);
    if (!session)
      return incomplete(
        `sso_session = ${shortValue(sessionName)} but there is no [sso-session ${shortValue(sessionName)}] section`,
      );
    const s = session.values;
    for (const [key, label] of [
      ['sso_start_url', 'start URL'],
      ['sso_region', 'region'],
    ] as const) {
      const fromProfile = val(v, key);
      const fromSession = val(s, key);
      if (fromProfile !== undefined && fromSession !== undefined && fromProfile !== fromSession) {
        return incomplete(
          `${key} in the profile differs from sso-session "${shortValue(sessionName)}" (SSO ${label}); remove it from the profile`,
        );
      }
    }
    startUrl = val(s, 'sso_start_url') ?? startUrl;
    ssoRegion = val(s, 'sso_region') ?? ssoRegion;
    if (val(s, 'sso_start_url') === undefined)
      return incomplete(`sso-session "${shortValue(sessionName)}" has no sso_start_url`);
    if (val(s, 'sso_region') === undefined)
      return incomplete(`sso-session "${shortValue(sessionName)}" has no sso_region`);
    scopes = parseScopes(val(s, 'sso_registration_scopes'));
  }
  const required =
    sessionName !== undefined
      ? ['sso_account_id', 'sso_role_name']
      : ['sso_start_url', 'sso_region', 'sso_account_id', 'sso_role_name'];
  const missing = required.filter((k) => !has(v, k));
  if (missing.length)
    return incomplete(
      `SSO profile without ${missing.join(', ')}; add ${missing.map((k) => `${k} = <value>`).join(', ')}`,
    );
  return {
    ...base,
    type: 'sso',
    variant: sessionName !== undefined ? 'session' : 'legacy',
    startUrl: startUrl as string,
    ssoRegion: ssoRegion as string,
    accountId: v.sso_account_id as string,
    roleName: v.sso_role_name as string,
    ssoSession: sessionName,
    registrationScopes: scopes,
  };
}

export function parseDuration(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return /^\d+$/.test(value) ? Number(value) : Number.NaN;
}

/** Where a key of a profile was read from (falls back to the section header). */
export function originOf(section: NamedSection, key?: string): ValueOrigin | undefined {
  if (key !== undefined && Object.hasOwn(section.origins, key)) return section.origins[key];
  return section.headers[0];
}

function chainError(config: SharedConfig, profile: Profile, key: string, detail: string): AwsConfigError {
  const o = originOf(profile, key);
  return new AwsConfigError({
    file: o?.file ?? config.configFile.path,
    ...(o ? { line: o.line } : {}),
    key,
    profile: profile.name,
    home: config.home,
    detail,
  });
}

/**
 * The hops taken to get credentials for `name`, following the AWS CLI's rules: from the second hop on,
 * static keys win over role_arn; a profile may name itself as source_profile only when it has static keys;
 * any other repeat is a loop (error printed as `a -> b -> a`). The first hop is the requested profile.
 */
export function resolveRoleChain(name: string, config: SharedConfig): RoleChainHop[] {
  const first = classifyProfile(name, config);
  if (first.type !== 'assume-role') {
    if (first.type === 'incomplete') {
      throw chainError(
        config,
        getProfile(config, name),
        'role_arn',
        `profile "${shortValue(name)}": ${first.reason}`,
      );
    }
    return [{ kind: 'source', profile: name, credentialType: first.type }];
  }
  const hops: RoleChainHop[] = [];
  const visited: string[] = [name];
  let current = getProfile(config, name);
  for (;;) {
    const v = current.values;
    const roleArn = v.role_arn as string;
    const src = val(v, 'source_profile');
    const cs = val(v, 'credential_source');
    if (src !== undefined && cs !== undefined) {
      throw chainError(
        config,
        current,
        'role_arn',
        `profile "${shortValue(current.name)}" has both source_profile and credential_source; keep exactly one`,
      );
    }
    if (src === undefined && cs === undefined) {
      throw chainError(
        config,
        current,
        'role_arn',
        `profile "${shortValue(current.name)}" has role_arn but no source_profile or credential_source; add one of them`,
      );
    }
    hops.push({
      kind: 'assume-role',
      profile: current.name,
      roleArn,
      externalId: val(v, 'external_id'),
      mfaSerial: val(v, 'mfa_serial'),
      roleSessionName: val(v, 'role_session_name'),
      durationSeconds: parseDuration(val(v, 'duration_seconds')),
    });
    if (cs !== undefined) {
      if (!CREDENTIAL_SOURCES.includes(cs)) {
        throw chainError(
          config,
          current,
          'credential_source',
          `profile "${shortValue(current.name)}" has credential_source = ${shortValue(cs)}; use ${CREDENTIAL_SOURCES.join(', ')}`,
        );
      }
      hops.push({ kind: 'credential-source', profile: current.name, credentialSource: cs });
      return hops;
    }
    const sourceName = src as string;
    const source = config.profiles.get(sourceName);
    if (!source) {
      throw chainError(
        config,
        current,
        'source_profile',
        `profile "${shortValue(current.name)}" has source_profile = ${shortValue(sourceName)} but there is no profile "${shortValue(sourceName)}"; add it or fix the name`,
      );
    }
    if (visited.includes(sourceName)) {
      if (sourceName === current.name && isStaticProfile(source.values)) {
        hops.push({ kind: 'source', profile: sourceName, credentialType: staticKind(source.values) });
        return hops;
      }
      const loop = [...visited.slice(visited.indexOf(sourceName)), sourceName].join(' -> ');
      throw chainError(
        config,
        current,
        'source_profile',
        `source_profile loop: ${shortValue(loop)}; point one of them at a profile with credentials` +
          (sourceName === current.name ? ' (a profile may name itself only when it has static keys)' : ''),
      );
    }
    visited.push(sourceName);
    const sv = source.values;
    if (isStaticProfile(sv)) {
      hops.push({ kind: 'source', profile: sourceName, credentialType: staticKind(sv) });
      return hops;
    }
    if (has(sv, 'role_arn') && !has(sv, 'web_identity_token_file')) {
      current = source;
      continue;
    }
    if (!has(sv, 'role_arn') && has(sv, 'credential_source')) {
      // The SDK takes credentials straight from the source here; the AWS CLI does not support this.
      hops.push({
        kind: 'credential-source',
        profile: sourceName,
        credentialSource: sv.credential_source as string,
      });
      return hops;
    }
    const t = classifyProfile(sourceName, config);
    if (t.type === 'incomplete' || t.type === 'assume-role') {
      throw chainError(
        config,
        source,
        'source_profile',
        `profile "${shortValue(sourceName)}" (source_profile of "${shortValue(current.name)}") cannot provide credentials: ${t.type === 'incomplete' ? t.reason : 'unexpected role settings'}`,
      );
    }
    hops.push({ kind: 'source', profile: sourceName, credentialType: t.type });
    return hops;
  }
}

function staticKind(values: Record<string, string>): CredentialKind {
  return has(values, 'aws_session_token') ? 'temporary' : 'static';
}

const ROLE_ARN_RE = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[^/]+\/)*([^/]+)$/;

export function parseRoleArn(arn: string): { accountId: string; roleName: string } | undefined {
  const m = ROLE_ARN_RE.exec(arn);
  return m ? { accountId: m[1] as string, roleName: m[2] as string } : undefined;
}

export { ROLE_ARN_RE };
