// Validation of the shared config with one-line errors that name the file, line and key and say how to fix it.
import { AwsConfigError } from './errors.js';
import { shortValue } from '../text/shorten.js';
import {
  CREDENTIAL_SOURCES,
  classifyProfile,
  getProfile,
  hyphenatedKeys,
  misspeltKeys,
  originOf,
  parseDuration,
  parseRoleArn,
  roleChainEnds,
  undefinedProfileError,
  upperCaseKeys,
} from './profiles.js';
import type { ConfigDiagnostic, NamedSection, Profile, RoleChainHop, SharedConfig } from './types.js';

export interface ValidationResult {
  errors: AwsConfigError[];
  warnings: ConfigDiagnostic[];
}

const REGION_RE = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** Why a start URL is unusable, or undefined when it is fine. http is accepted only for loopback (emulators). */
export function startUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (/\s/.test(url)) return 'contains spaces';
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) return 'must start with https://';
  if (!u.hostname.includes('.') && !loopback) return 'has no domain name';
  return undefined;
}

class Collector {
  readonly errors: AwsConfigError[] = [];
  readonly warnings: ConfigDiagnostic[] = [];
  private readonly seen = new Set<string>();
  private readonly errorLines = new Set<string>();
  /** Work already done in this validation: each profile and each role chain is checked once. */
  readonly checkedProfiles = new Set<string>();
  readonly checkedRoles = new Set<string>();

  constructor(private readonly config: SharedConfig) {}

  error(section: NamedSection | undefined, key: string | undefined, detail: string, profile?: string): void {
    const o = section ? originOf(section, key) : undefined;
    this.addError(
      new AwsConfigError({
        file: o?.file ?? this.config.configFile.path,
        ...(o ? { line: o.line } : {}),
        ...(key !== undefined ? { key } : {}),
        ...(profile !== undefined ? { profile } : {}),
        home: this.config.home,
        detail,
      }),
    );
  }

  addError(e: AwsConfigError): void {
    if (this.seen.has(e.message)) return;
    this.seen.add(e.message);
    this.errors.push(e);
    this.errorLines.add(`${e.line ?? ''}:${e.file}`);
  }

  hasErrorAt(section: NamedSection, key: string): boolean {
    const o = originOf(section, key);
    // A set, not a scan of the errors: a file with an error on every profile made this quadratic.
    return o !== undefined && this.errorLines.has(`${o.line}:${o.file}`);
  }

  warn(section: NamedSection | undefined, key: string | undefined, message: string, profile?: string): void {
    const o = section ? originOf(section, key) : undefined;
    const d: ConfigDiagnostic = {
      severity: 'warning',
      file: o?.file ?? this.config.configFile.path,
      ...(o ? { line: o.line } : {}),
      ...(key !== undefined ? { key } : {}),
      ...(profile !== undefined ? { profile } : {}),
      message,
    };
    const id = `${d.file}:${d.line ?? ''}:${message}`;
    if (this.seen.has(id)) return;
    this.seen.add(id);
    this.warnings.push(d);
  }
}

function spellingWarnings(c: Collector, section: NamedSection, what: string): void {
  for (const k of hyphenatedKeys(section.values)) {
    const fixed = k.replace(/-/g, '_').toLowerCase();
    c.warn(
      section,
      k,
      `${what}: "${shortValue(k)}" is not read by the AWS CLI or SDK (they read ${shortValue(fixed)}); rename it to ${shortValue(fixed)}`,
    );
  }
  for (const k of upperCaseKeys(section.values)) {
    c.warn(
      section,
      k,
      `${what}: the AWS CLI reads "${shortValue(k)}" as ${k.toLowerCase()} but the AWS SDK ignores it; write ${k.toLowerCase()}`,
    );
  }
}

function misspeltDetail(what: string, typo: string, right: string): string {
  return `${what} has ${shortValue(typo)}, which the AWS CLI and SDK do not read; did you mean ${shortValue(right)}?`;
}

function checkSession(c: Collector, config: SharedConfig, name: string): void {
  const session = config.ssoSessions.get(name);
  if (!session) return;
  const what = `sso-session "${shortValue(name)}"`;
  spellingWarnings(c, session, what);
  const v = session.values;
  const url = v.sso_start_url;
  if (url === undefined) {
    c.error(
      session,
      undefined,
      `${what} has no sso_start_url; add sso_start_url = https://<your-portal>.awsapps.com/start`,
    );
  } else {
    const problem = startUrlProblem(url);
    if (problem) {
      c.error(
        session,
        'sso_start_url',
        `${what} has an sso_start_url that ${problem}; use the AWS access portal URL, e.g. https://my-org.awsapps.com/start`,
      );
    }
  }
  const region = v.sso_region;
  if (region === undefined) {
    c.error(
      session,
      undefined,
      `${what} has no sso_region; add sso_region = <region of IAM Identity Center, e.g. us-east-1>`,
    );
  } else if (!REGION_RE.test(region)) {
    c.error(
      session,
      'sso_region',
      `${what} has sso_region = ${shortValue(region)}, which is not a region name; use e.g. us-east-1`,
    );
  }
}

function checkSsoProfile(c: Collector, config: SharedConfig, p: Profile): void {
  const v = p.values;
  const what = `profile "${shortValue(p.name)}"`;
  const sessionName = v.sso_session;
  if (sessionName !== undefined) {
    const session = config.ssoSessions.get(sessionName);
    if (!session) {
      const known = [...config.ssoSessions.keys()];
      c.error(
        p,
        'sso_session',
        `${what} has sso_session = ${shortValue(sessionName)} but there is no [sso-session ${shortValue(sessionName)}] section; add it` +
          (known.length ? ` or use one of: ${shortValue(known.join(', '))}` : ''),
        p.name,
      );
    } else {
      checkSession(c, config, sessionName);
      for (const key of ['sso_start_url', 'sso_region'] as const) {
        const mine = v[key];
        const theirs = session.values[key];
        if (mine !== undefined && theirs !== undefined && mine !== theirs) {
          c.error(
            p,
            key,
            `${what} sets ${key} = ${shortValue(mine)} but sso-session "${shortValue(sessionName)}" has ${shortValue(theirs)}; remove ${key} from the profile`,
            p.name,
          );
        }
      }
    }
  } else {
    const url = v.sso_start_url;
    if (url !== undefined) {
      const problem = startUrlProblem(url);
      if (problem)
        c.error(
          p,
          'sso_start_url',
          `${what} has an sso_start_url that ${problem}; use the AWS access portal URL, e.g. https://my-org.awsapps.com/start`,
          p.name,
        );
    }
    if (v.sso_region !== undefined && !REGION_RE.test(v.sso_region)) {
      c.error(
        p,
        'sso_region',
        `${what} has sso_region = ${shortValue(v.sso_region)}, which is not a region name; use e.g. us-east-1`,
        p.name,
      );
    }
  }
  const required =
    sessionName !== undefined
      ? ['sso_account_id', 'sso_role_name']
      : ['sso_start_url', 'sso_region', 'sso_account_id', 'sso_role_name'];
  // Name the key the user did write, preferring the account/role pair (the usual half-finished edit).
  const present = ['sso_account_id', 'sso_role_name', 'sso_session', 'sso_start_url', 'sso_region'].find(
    (k) => v[k] !== undefined,
  );
  const hints: Record<string, string> = {
    sso_account_id: '<12-digit account id>',
    sso_role_name: '<role>',
    sso_start_url: 'https://<your-portal>.awsapps.com/start',
    sso_region: '<region>',
  };
  const typos = misspeltKeys(v);
  for (const k of required) {
    // A misspelt key explains the missing one better than "no sso_account_id" does.
    const typo = [...typos].find(([, right]) => right === k)?.[0];
    if (v[k] === undefined && typo !== undefined) {
      c.error(p, typo, misspeltDetail(what, typo, k), p.name);
    } else if (v[k] === undefined) {
      c.error(
        p,
        present,
        `${what} has ${present ?? 'SSO settings'} but no ${shortValue(k)}; add ${shortValue(k)} = ${hints[k] ?? '<value>'}`,
        p.name,
      );
    }
  }
  if (v.sso_account_id !== undefined && !/^\d{12}$/.test(v.sso_account_id)) {
    c.error(
      p,
      'sso_account_id',
      `${what} has sso_account_id = ${shortValue(v.sso_account_id)}; an account id is 12 digits`,
      p.name,
    );
  }
  if (sessionName === undefined && v.sso_start_url !== undefined) {
    c.warn(
      p,
      'sso_start_url',
      `${what} is a legacy SSO profile: its token cannot be refreshed and expires after about 8 hours; move sso_start_url and sso_region into an [sso-session] section`,
      p.name,
    );
  }
}

function checkAssumeRole(c: Collector, config: SharedConfig, p: Profile): void {
  // Once per validation: a second check of the same profile only finds what the first one reported.
  if (c.checkedRoles.has(p.name)) return;
  c.checkedRoles.add(p.name);
  const v = p.values;
  const what = `profile "${shortValue(p.name)}"`;
  if (v.role_arn !== undefined && !parseRoleArn(v.role_arn)) {
    c.error(
      p,
      'role_arn',
      `${what} has role_arn = ${shortValue(v.role_arn)}; expected arn:aws:iam::<12-digit account>:role/<name>`,
      p.name,
    );
  }
  const d = parseDuration(v.duration_seconds);
  if (d !== undefined && (Number.isNaN(d) || d < 900 || d > 43200)) {
    c.error(
      p,
      'duration_seconds',
      `${what} has duration_seconds = ${shortValue(v.duration_seconds ?? '')}; use a whole number of seconds from 900 to 43200`,
      p.name,
    );
  }
  if (v.credential_source !== undefined && !CREDENTIAL_SOURCES.includes(v.credential_source)) {
    c.error(
      p,
      'credential_source',
      `${what} has credential_source = ${shortValue(v.credential_source)}; use ${CREDENTIAL_SOURCES.join(', ')}`,
      p.name,
    );
  }
  try {
    const { second, last } = roleChainEnds(p.name, config);
    const checkHop = (hop: RoleChainHop): void => {
      const hp = config.profiles.get(hop.profile);
      if (!hp) return;
      if (hop.kind === 'source' && hp.values.role_arn !== undefined && hop.profile !== p.name) {
        c.warn(
          hp,
          'role_arn',
          `profile "${shortValue(hop.profile)}" is used as a source_profile and has static keys, so its role_arn is not used there`,
          p.name,
        );
      }
      if (hop.kind === 'credential-source' && hp.values.role_arn === undefined) {
        c.warn(
          hp,
          'credential_source',
          `profile "${shortValue(hop.profile)}" has credential_source without role_arn: the AWS SDK uses it as a source but the AWS CLI does not; add role_arn or use its credentials directly`,
          p.name,
        );
      }
      if (hop.kind === 'assume-role' && hop.profile !== p.name) checkAssumeRole(c, config, hp);
      if (hop.kind === 'source') checkProfile(c, config, hop.profile, false);
    };
    // The chain after the second hop is the second hop's own chain, which its check covers; of the hops
    // after it only the last can report anything new here (a warning that excluded the second hop itself).
    checkHop(second);
    if (last !== second) checkHop(last);
  } catch (e) {
    if (e instanceof AwsConfigError) c.addError(e);
    else throw e;
  }
}

function checkProfile(c: Collector, config: SharedConfig, name: string, followChain = true): void {
  const once = `${followChain ? 'chain' : 'own'}:${name}`;
  if (c.checkedProfiles.has(once)) return;
  c.checkedProfiles.add(once);
  const p = getProfile(config, name);
  const what = `profile "${shortValue(name)}"`;
  spellingWarnings(c, p, what);
  const v = p.values;
  const t = classifyProfile(name, config);
  const hasSso = ['sso_session', 'sso_start_url', 'sso_region', 'sso_account_id', 'sso_role_name'].some(
    (k) => v[k] !== undefined,
  );
  if (t.type === 'sso' || (t.type === 'incomplete' && t.intended === 'sso' && hasSso))
    checkSsoProfile(c, config, p);
  if (t.type === 'assume-role' && followChain) checkAssumeRole(c, config, p);
  // Other misspellings do not stop the profile (an optional key): a warning, unless already an error above.
  for (const [typo, right] of misspeltKeys(v)) {
    if (!c.hasErrorAt(p, typo)) c.warn(p, typo, misspeltDetail(what, typo, right), name);
  }
  if (t.type === 'incomplete' && t.intended !== undefined && t.intended !== 'sso') {
    const key =
      t.intended === 'assume-role' || t.intended === 'web-identity'
        ? v.role_arn !== undefined
          ? 'role_arn'
          : 'web_identity_token_file'
        : t.intended === 'static'
          ? ['aws_access_key_id', 'aws_secret_access_key'].find((k) => v[k] !== undefined)
          : undefined;
    c.error(p, key, `${what}: ${t.reason}`, name);
  }
  if (t.type === 'incomplete' && t.intended === 'sso' && !hasSso)
    c.error(p, undefined, `${what}: ${t.reason}`, name);

  if (t.type === 'static' || t.type === 'temporary') {
    // `aws_access_key_id =` is an empty key to the AWS CLI, which then fails at AWS with a confusing error.
    for (const k of ['aws_access_key_id', 'aws_secret_access_key', 'aws_session_token']) {
      if (v[k] === '') c.error(p, k, `${what} has an empty ${k}; set it or remove the line`, name);
    }
  }
  const cmd = v.credential_process;
  if (cmd !== undefined && /[|&;<>()$`*?]/.test(cmd)) {
    c.warn(
      p,
      'credential_process',
      `${what}: credential_process uses shell syntax, which the AWS SDK runs through a shell but the AWS CLI and stormtunnel do not; put the command in a script`,
      name,
    );
  }
  if (v.services !== undefined && !config.services.has(v.services)) {
    c.error(
      p,
      'services',
      `${what} has services = ${shortValue(v.services)} but there is no [services ${shortValue(v.services)}] section; add it or remove the key`,
      name,
    );
  }
  const cfgRegion = p.configValues.region;
  const credRegion = p.credentialsValues.region;
  if (cfgRegion !== undefined && credRegion !== undefined && cfgRegion !== credRegion) {
    c.warn(
      p,
      'region',
      `${what} has region ${shortValue(cfgRegion)} in the config file and ${shortValue(credRegion)} in the credentials file; the AWS CLI uses ${shortValue(credRegion)}, remove one`,
      name,
    );
  }
  if (v.region !== undefined && !REGION_RE.test(v.region)) {
    c.warn(
      p,
      'region',
      `${what} has region = ${shortValue(v.region)}, which does not look like a region name (e.g. eu-west-1)`,
      name,
    );
  }
}

function fileDiagnostics(c: Collector, config: SharedConfig): void {
  for (const d of config.diagnostics) {
    if (d.severity === 'error') {
      c.addError(
        new AwsConfigError({
          file: d.file,
          ...(d.line !== undefined ? { line: d.line } : {}),
          ...(d.key !== undefined ? { key: d.key } : {}),
          home: config.home,
          detail: d.message,
        }),
      );
    } else {
      c.warnings.push(d);
    }
  }
  if (!config.env.AWS_REGION && config.env.AWS_DEFAULT_REGION) {
    c.warn(
      undefined,
      undefined,
      'AWS_DEFAULT_REGION is set but AWS_REGION is not: stormtunnel and the AWS CLI use it, other AWS SDK programs do not; set AWS_REGION too',
    );
  }
}

/** Every problem in the files: syntax, each profile, each sso-session. */
export function validateConfig(config: SharedConfig): ValidationResult {
  const c = new Collector(config);
  fileDiagnostics(c, config);
  // AWS_PROFILE matters to the whole-file view (`profiles`) only: a profile named by a tunnel or --profile
  // is checked on its own, whatever the shell exports.
  if (config.selectedProfileSource === 'AWS_PROFILE' && !config.profiles.has(config.selectedProfile))
    c.addError(undefinedProfileError(config, config.selectedProfile));
  for (const name of config.profiles.keys()) checkProfile(c, config, name);
  for (const name of config.ssoSessions.keys()) checkSession(c, config, name);
  return { errors: c.errors, warnings: c.warnings };
}

/** Problems that affect one profile: file-level errors, the profile, its role chain and its sso-session. */
export function validateProfile(
  config: SharedConfig,
  name: string,
  options: { fileLevel?: boolean } = {},
): ValidationResult {
  const c = new Collector(config);
  if (options.fileLevel !== false) fileDiagnostics(c, config);
  if (!config.profiles.has(name)) {
    try {
      getProfile(config, name);
    } catch (e) {
      if (e instanceof AwsConfigError) c.addError(e);
      else throw e;
    }
    return { errors: c.errors, warnings: c.warnings };
  }
  checkProfile(c, config, name);
  return { errors: c.errors, warnings: c.warnings };
}

/** Throws the first error that stops `name` from yielding credentials (the CLI prints it and exits 2). */
export function assertProfileUsable(config: SharedConfig, name: string): void {
  const { errors } = validateProfile(config, name);
  const first = errors[0];
  if (first) throw first;
  const t = classifyProfile(name, config);
  if (t.type === 'incomplete') {
    const p = getProfile(config, name);
    const o = originOf(p);
    throw new AwsConfigError({
      file: o?.file ?? config.configFile.path,
      ...(o ? { line: o.line } : {}),
      profile: name,
      home: config.home,
      detail: `profile "${shortValue(name)}" has ${t.reason}`,
    });
  }
}
