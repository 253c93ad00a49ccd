// Public types of the AWS shared-config model and the SSO caches.

export type Env = Readonly<Record<string, string | undefined>>;

// ---------------------------------------------------------------- INI document (lossless)

/** Python's universal newlines, which the AWS CLI reads with: a lone `\r` ends a line too. */
export type LineEnding = '' | '\n' | '\r\n' | '\r';

export interface IniLine {
  /** 1-based line number. */
  lineNo: number;
  /** The line's text without its line ending. */
  raw: string;
  eol: LineEnding;
}

/** The prefixes botocore files config-file sections under (`[profile NAME]`, `[sso-session NAME]`...). */
export type SectionPrefix = 'profile' | 'sso-session' | 'services';

export interface IniSectionHeader {
  lineNo: number;
  /** configparser's section name: the text between `[` and the last `]`, as written (not trimmed). */
  rawName: string;
  /**
   * Where botocore files the section in the config file: `profile.NAME` (also for `[default]`),
   * `sso-session.NAME`, `services.NAME`, the raw name for other sections, or undefined when it drops the
   * section (`[profile a b]`, `[profile.dev]`) or it is the `[DEFAULT]` section.
   */
  key: string | undefined;
  /** Set when the section is a profile, sso-session or services section in the config file. */
  prefix: SectionPrefix | undefined;
  /** Name after the prefix (unquoted as a shell would), or the whole raw name when there is no prefix. */
  name: string;
}

export interface IniEntry {
  lineNo: number;
  /** Last line of the value: continuation lines are part of it. */
  endLineNo: number;
  /** Key as the AWS CLI reads it: lower-cased (keys inside a sub-section are kept as written). */
  key: string;
  /** Value as the AWS CLI reads it: stripped, continuation lines joined with newlines, comments kept. */
  value: string;
  /** Sub-section key when the line belongs to an indented block after `key =`. */
  subSection: string | undefined;
  /** `sub.key` for sub-section lines, else `key`. */
  fullKey: string;
}

export interface IniSection {
  header: IniSectionHeader;
  /** Index into `lines` of the header line. */
  startIndex: number;
  /** Index into `lines` one past the section's last line (the next header or the end). */
  endIndex: number;
  entries: IniEntry[];
  /** Lines `key =` that open a sub-section. */
  subSectionStarts: { lineNo: number; key: string }[];
}

export type Severity = 'error' | 'warning';

export interface ConfigDiagnostic {
  severity: Severity;
  file: string;
  line?: number;
  key?: string;
  profile?: string;
  /** One line, what is wrong and how to fix it; no secrets. */
  message: string;
}

export interface IniDocument {
  file: string;
  lines: IniLine[];
  sections: IniSection[];
  /** Errors (the AWS CLI refuses the file) and warnings, in line order per kind. */
  diagnostics: ConfigDiagnostic[];
}

/** Section -> key -> value, botocore's `raw_config_parse` shape with sub-sections as `parent.key`. */
export type SectionMap = Record<string, Record<string, string>>;

// ---------------------------------------------------------------- shared config

export type FileKind = 'config' | 'credentials';

export interface ValueOrigin {
  file: string;
  line: number;
}

export interface LoadedFile {
  kind: FileKind;
  path: string;
  exists: boolean;
  document: IniDocument;
}

/** A profile, `sso-session` or `services` section as the AWS CLI reads it. */
export interface NamedSection {
  name: string;
  /** Keys and values as the AWS CLI reads them. */
  values: Record<string, string>;
  /** Where each value in `values` was read from. */
  origins: Record<string, ValueOrigin>;
  /** Header lines that contributed to this section (several when duplicated). */
  headers: ValueOrigin[];
}

export interface Profile extends NamedSection {
  /** Values from the config file only (preferred for client settings such as `endpoint_url`). */
  configValues: Record<string, string>;
  /** Values from the credentials file only. */
  credentialsValues: Record<string, string>;
  /**
   * Set when the file whose access key the AWS CLI would use lacks the secret next to it: the CLI stops with
   * PartialCredentialsError rather than take the secret from the other file, and so do we.
   */
  partialKeys?: PartialKeys;
}

export interface PartialKeys {
  /** The aws_access_key_id line without a secret beside it. */
  keyId: ValueOrigin;
  missing: 'aws_secret_access_key';
  /** A secret for the same profile in the other file, which is not combined with it. */
  otherSecret: ValueOrigin | undefined;
}

export interface SharedConfig {
  env: Env;
  home: string;
  configFile: LoadedFile;
  credentialsFile: LoadedFile;
  /**
   * Credentials-file keys overlay config-file keys, key by key (botocore's session profile map), except the
   * key pair and session token, which come from one file only (its credential providers).
   */
  profiles: Map<string, Profile>;
  ssoSessions: Map<string, NamedSection>;
  services: Map<string, NamedSection>;
  selectedProfile: string;
  selectedProfileSource: 'AWS_PROFILE' | 'default';
  /** Region for the selected profile. */
  region: string | undefined;
  regionSource: RegionSource | undefined;
  /** File-level errors and warnings (syntax, section naming). */
  diagnostics: ConfigDiagnostic[];
}

export type RegionSource = 'AWS_REGION' | 'AWS_DEFAULT_REGION' | 'profile';

// ---------------------------------------------------------------- profile typing

export type CredentialSource = 'Environment' | 'Ec2InstanceMetadata' | 'EcsContainer';

interface ProfileBase {
  name: string;
  region: string | undefined;
}

export interface StaticProfile extends ProfileBase {
  type: 'static';
  accountId: string | undefined;
}

export interface TemporaryProfile extends ProfileBase {
  type: 'temporary';
  accountId: string | undefined;
}

export interface SsoProfile extends ProfileBase {
  type: 'sso';
  variant: 'session' | 'legacy';
  startUrl: string;
  ssoRegion: string;
  accountId: string;
  roleName: string;
  /** `sso_session` name; undefined for legacy profiles. */
  ssoSession: string | undefined;
  /** Registration scopes of the session (empty for legacy profiles or when not configured). */
  registrationScopes: string[];
}

export interface AssumeRoleProfile extends ProfileBase {
  type: 'assume-role';
  roleArn: string;
  source: { profile: string } | { credentialSource: string };
  externalId: string | undefined;
  mfaSerial: string | undefined;
  roleSessionName: string | undefined;
  durationSeconds: number | undefined;
}

export interface CredentialProcessProfile extends ProfileBase {
  type: 'credential-process';
  command: string;
}

export interface WebIdentityProfile extends ProfileBase {
  type: 'web-identity';
  roleArn: string;
  tokenFile: string;
  roleSessionName: string | undefined;
}

/** `aws login` console-credential profiles (`login_session`): recognised, not used by stormtunnel. */
export interface LoginProfile extends ProfileBase {
  type: 'login';
  loginSession: string;
}

export interface IncompleteProfile extends ProfileBase {
  type: 'incomplete';
  /** The type the keys point at, when there is one. */
  intended: 'static' | 'sso' | 'assume-role' | 'web-identity' | undefined;
  reason: string;
}

export type ProfileType =
  | StaticProfile
  | TemporaryProfile
  | SsoProfile
  | AssumeRoleProfile
  | CredentialProcessProfile
  | WebIdentityProfile
  | LoginProfile
  | IncompleteProfile;

export type CredentialKind = Exclude<ProfileType['type'], 'assume-role' | 'incomplete'>;

export type RoleChainHop =
  | {
      kind: 'assume-role';
      profile: string;
      roleArn: string;
      externalId: string | undefined;
      mfaSerial: string | undefined;
      roleSessionName: string | undefined;
      durationSeconds: number | undefined;
    }
  /** The profile whose own credentials start the chain. */
  | { kind: 'source'; profile: string; credentialType: CredentialKind }
  | { kind: 'credential-source'; profile: string; credentialSource: string };

export interface ProfileRow {
  name: string;
  type: ProfileType['type'];
  region: string | undefined;
  accountId?: string;
  roleName?: string;
  roleArn?: string;
  /** Profiles visited from this one to the source of credentials, e.g. `['app', 'base', 'sso']`. */
  chain?: string[];
  ssoSession?: string;
  startUrl?: string;
  /** Errors that make the profile unusable, one line each. */
  errors: string[];
  warnings: string[];
}

// ---------------------------------------------------------------- endpoints

export type EndpointServiceId = 'sso-oidc' | 'sso' | 'sts' | 'ssm';

export interface ResolvedEndpoint {
  url: string;
  source:
    | { kind: 'env'; variable: string }
    | { kind: 'services-section'; section: string; key: string }
    | { kind: 'profile'; profile: string };
}

// ---------------------------------------------------------------- SSO caches

/** `~/.aws/sso/cache/<sha1>.json` written by `aws sso login` or by us. */
export interface SsoToken {
  startUrl?: string;
  region?: string;
  accessToken: string;
  expiresAt: Date;
  clientId?: string;
  clientSecret?: string;
  registrationExpiresAt?: Date;
  refreshToken?: string;
  /** Fields we do not model (e.g. `receivedAt`), written back unchanged. */
  extra: Record<string, unknown>;
}

/** Client registration cache entry (same folder). */
export interface ClientRegistration {
  clientId: string;
  clientSecret: string;
  expiresAt: Date;
  scopes?: string[];
  grantTypes?: string[];
  extra: Record<string, unknown>;
}

export type RegistrationFlow = 'device' | 'pkce';
