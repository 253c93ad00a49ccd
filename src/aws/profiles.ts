// Profile typing (the SDK's order of checks), role chains (the AWS CLI's rules) and the `profiles` listing.
import { closest } from '../config/suggest.js';
import { AwsConfigError, displayPath } from './errors.js';
import { shortValue } from '../text/shorten.js';
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
export const PROFILE_KEYS: ReadonlySet<string> = new Set([
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

const PROFILE_KEY_LIST: readonly string[] = [...PROFILE_KEYS];

/** Keys in `values` that look like known keys spelled with hyphens (`sso-session` for `sso_session`). */
export function hyphenatedKeys(values: Record<string, string>): string[] {
  return Object.keys(values).filter(
    (k) => k.includes('-') && PROFILE_KEYS.has(k.replace(/-/g, '_').toLowerCase()),
  );
}

/** Keys in `values` that are known keys with upper-case letters (the AWS CLI lower-cases, the SDK does not). */
export function upperCaseKeys(values: Record<string, string>): string[] {
  return Object.keys(values).filter(
    (k) => k !== k.toLowerCase() && PROFILE_KEYS.has(k.toLowerCase().replace(/-/g, '_')),
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
  // The first ten names only: copying 90,000 names for each message made a hostile file quadratic.
  const known: string[] = [];
  for (const k of config.profiles.keys()) {
    if (known.length === 10) break;
    known.push(k);
  }
  const shown = shortValue(name);
  // A name with spaces or quotes must be quoted in the header for the AWS CLI to read it as one name.
  const header = /^[^\s"'\\]+$/.test(name) ? shown : `"${shown.replace(/["\\]/g, '\\$&')}"`;
  return new AwsConfigError({
    file: config.configFile.path,
    home: config.home,
    profile: name,
    detail:
      `profile "${shown}" is not defined; add [profile ${header}] (or [${shown}] in the credentials file)` +
      (known.length ? ` or use one of: ${known.map((k) => shortValue(k)).join(', ')}` : ''),
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
    if (PROFILE_KEYS.has(normal)) continue;
    const guess = closest(normal, PROFILE_KEY_LIST);
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
  const types = cacheOf(config).types;
  const region = resolveRegion(config, name)?.region;
  let t = types.get(name);
  if (t === undefined) {
    // Frozen: callers share it (a copy per call cost 90,000s of objects in a hostile file).
    t = Object.freeze({ ...classifyUncached(getProfile(config, name), config), region });
    types.set(name, t);
  }
  // The region is read again each time: AWS_REGION in config.env may have changed since.
  return t.region === region ? t : { ...t, region };
}

function classifyUncached(profile: Profile, config: SharedConfig): ProfileType {
  const name = profile.name;
  const v = profile.values;
  const base = { name, region: undefined };

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
  base: { name: string; region: undefined },
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
  for (let run: ChainRun | undefined = roleRun(config, getProfile(config, name)); run; run = run.rest) {
    if (!run.ok) throw run.error;
    hops.push(...run.hops);
  }
  return hops;
}

/**
 * The second and the last hop of an assume-role profile's chain, without copying the chain (validation
 * needs no more); throws what resolveRoleChain throws.
 */
export function roleChainEnds(
  name: string,
  config: SharedConfig,
): { second: RoleChainHop; last: RoleChainHop } {
  const first = classifyProfile(name, config);
  if (first.type !== 'assume-role') {
    const [only] = resolveRoleChain(name, config);
    return { second: only as RoleChainHop, last: only as RoleChainHop };
  }
  const run = roleRun(config, getProfile(config, name));
  if (!run.ok) throw run.error;
  const second = run.hops[1] ?? run.rest?.hops[0];
  return { second: second as RoleChainHop, last: run.last };
}

/**
 * The chain from one assume-role profile, as resolveRoleChain would give it when asked for that profile.
 * Runs are shared: the run of a profile is its own hops followed by the run of its source_profile, so a
 * chain of n hops is walked once for all n profiles on it (issue 17: each profile's own walk made `profiles`
 * quadratic, and validation exponential, in the length of a chain).
 */
type ChainRun =
  | {
      ok: true;
      /** This profile's hops: its assume-role hop, and the source hop when the chain ends here. */
      hops: readonly RoleChainHop[];
      rest: (ChainRun & { ok: true }) | undefined;
      last: RoleChainHop;
      /** The last profile reached as a source (to tell whether a walk from elsewhere would loop). */
      end: string;
    }
  | { ok: false; error: AwsConfigError; end: string; cycle: ReadonlySet<string> | undefined };

interface ProfileCache {
  /** classifyProfile's results, with the region they were made with. */
  types: Map<string, ProfileType>;
  runs: Map<string, ChainRun>;
}

// Keyed on the loaded config, which nothing edits after loadSharedConfig: every command loads its own.
const caches = new WeakMap<SharedConfig, ProfileCache>();

function cacheOf(config: SharedConfig): ProfileCache {
  let c = caches.get(config);
  if (!c) caches.set(config, (c = { types: new Map(), runs: new Map() }));
  return c;
}

/** One hop of the walk from `current` (a profile that assumes a role), the AWS CLI's rules in its order. */
type ChainStep =
  | { kind: 'fail'; error: AwsConfigError; end: string }
  | { kind: 'done'; hops: RoleChainHop[]; end: string }
  | { kind: 'next'; hops: RoleChainHop[]; source: Profile }
  | { kind: 'loop'; repeat: string };

function chainStep(config: SharedConfig, current: Profile, visited: ReadonlyMap<string, number>): ChainStep {
  const v = current.values;
  const roleArn = v.role_arn as string;
  const src = val(v, 'source_profile');
  const cs = val(v, 'credential_source');
  const fail = (error: AwsConfigError, end = current.name): ChainStep => ({ kind: 'fail', error, end });
  if (src !== undefined && cs !== undefined) {
    return fail(
      chainError(
        config,
        current,
        'role_arn',
        `profile "${shortValue(current.name)}" has both source_profile and credential_source; keep exactly one`,
      ),
    );
  }
  if (src === undefined && cs === undefined) {
    return fail(
      chainError(
        config,
        current,
        'role_arn',
        `profile "${shortValue(current.name)}" has role_arn but no source_profile or credential_source; add one of them`,
      ),
    );
  }
  const hop: RoleChainHop = {
    kind: 'assume-role',
    profile: current.name,
    roleArn,
    externalId: val(v, 'external_id'),
    mfaSerial: val(v, 'mfa_serial'),
    roleSessionName: val(v, 'role_session_name'),
    durationSeconds: parseDuration(val(v, 'duration_seconds')),
  };
  if (cs !== undefined) {
    if (!CREDENTIAL_SOURCES.includes(cs)) {
      return fail(
        chainError(
          config,
          current,
          'credential_source',
          `profile "${shortValue(current.name)}" has credential_source = ${shortValue(cs)}; use ${CREDENTIAL_SOURCES.join(', ')}`,
        ),
      );
    }
    return {
      kind: 'done',
      hops: [hop, { kind: 'credential-source', profile: current.name, credentialSource: cs }],
      end: current.name,
    };
  }
  const sourceName = src as string;
  const source = config.profiles.get(sourceName);
  if (!source) {
    return fail(
      chainError(
        config,
        current,
        'source_profile',
        `profile "${shortValue(current.name)}" has source_profile = ${shortValue(sourceName)} but there is no profile "${shortValue(sourceName)}"; add it or fix the name`,
      ),
    );
  }
  const done = (last: RoleChainHop): ChainStep => ({ kind: 'done', hops: [hop, last], end: sourceName });
  if (visited.has(sourceName)) {
    if (sourceName === current.name && isStaticProfile(source.values)) {
      return done({ kind: 'source', profile: sourceName, credentialType: staticKind(source.values) });
    }
    return { kind: 'loop', repeat: sourceName };
  }
  const sv = source.values;
  if (isStaticProfile(sv)) {
    return done({ kind: 'source', profile: sourceName, credentialType: staticKind(sv) });
  }
  if (has(sv, 'role_arn') && !has(sv, 'web_identity_token_file')) {
    return { kind: 'next', hops: [hop], source };
  }
  if (!has(sv, 'role_arn') && has(sv, 'credential_source')) {
    // The SDK takes credentials straight from the source here; the AWS CLI does not support this.
    return done({
      kind: 'credential-source',
      profile: sourceName,
      credentialSource: sv.credential_source as string,
    });
  }
  const t = classifyProfile(sourceName, config);
  if (t.type === 'incomplete' || t.type === 'assume-role') {
    return fail(
      chainError(
        config,
        source,
        'source_profile',
        `profile "${shortValue(sourceName)}" (source_profile of "${shortValue(current.name)}") cannot provide credentials: ${t.type === 'incomplete' ? t.reason : 'unexpected role settings'}`,
      ),
      sourceName,
    );
  }
  return done({ kind: 'source', profile: sourceName, credentialType: t.type });
}

/** The run of `start`, walking only as far as the first profile whose run is known and still applies. */
function roleRun(config: SharedConfig, start: Profile): ChainRun {
  const runs = cacheOf(config).runs;
  const known = runs.get(start.name);
  if (known) return known;
  const currents: Profile[] = [];
  const ownHops: RoleChainHop[][] = [];
  const visited = new Map<string, number>();
  let current = start;
  let step: ChainStep;
  let tail: ChainRun | undefined;
  for (;;) {
    visited.set(current.name, currents.length);
    currents.push(current);
    step = chainStep(config, current, visited);
    if (step.kind !== 'next') break;
    ownHops.push(step.hops);
    const next = runs.get(step.source.name);
    // A known run stands for the rest of this walk unless that walk comes back to a profile already on
    // this one (the loop check depends on where a walk started): then it ends at one of them or loops
    // through `current`.
    if (
      next &&
      !visited.has(next.end) &&
      !(next.ok === false && next.cycle !== undefined && next.cycle.has(current.name))
    ) {
      tail = next;
      break;
    }
    current = step.source;
  }
  let result: ChainRun;
  let memoCount = currents.length;
  if (tail) {
    result = tail;
  } else if (step.kind === 'done') {
    result = {
      ok: true,
      hops: step.hops,
      rest: undefined,
      last: step.hops[1] as RoleChainHop,
      end: step.end,
    };
    memoCount--;
  } else if (step.kind === 'fail') {
    result = { ok: false, error: step.error, end: step.end, cycle: undefined };
  } else if (step.kind === 'loop') {
    const from = visited.get(step.repeat) as number;
    const loop = [...currents.slice(from).map((p) => p.name), step.repeat].join(' -> ');
    result = {
      ok: false,
      error: chainError(
        config,
        current,
        'source_profile',
        `source_profile loop: ${shortValue(loop)}; point one of them at a profile with credentials` +
          (step.repeat === current.name ? ' (a profile may name itself only when it has static keys)' : ''),
      ),
      end: step.repeat,
      cycle: new Set(currents.slice(from).map((p) => p.name)),
    };
    // A profile on the loop after the repeated one, walked from itself, loops back to itself instead.
    memoCount = from + 1;
  } else {
    throw new Error('unreachable');
  }
  // Back from the end: each profile's run is its own hops followed by the next one's.
  const own = (i: number) => ownHops[i] as RoleChainHop[];
  let run = result;
  if (step.kind === 'done' && !tail) runs.set((currents[currents.length - 1] as Profile).name, run);
  for (let i = currents.length - (step.kind === 'done' && !tail ? 2 : 1); i >= 0; i--) {
    if (run.ok) run = { ok: true, hops: own(i), rest: run, last: run.last, end: run.end };
    if (i < memoCount) runs.set((currents[i] as Profile).name, run);
  }
  return run;
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
