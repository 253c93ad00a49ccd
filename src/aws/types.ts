// Public types of the AWS shared-config model and the SSO caches.

export type Env = Readonly<Record<string, string | undefined>>;

// ---------------------------------------------------------------- INI document (lossless)

export type LineEnding = '' | '\n' | '\r\n';

export interface IniLine {
  /** 1-based line number. */
  lineNo: number;
  /** The line's text without its line ending. */
  raw: string;
  eol: LineEnding;
}

/** The section prefixes the SDK recognises in `[prefix name]` headers. */
export type SectionPrefix = 'profile' | 'sso-session' | 'services';

export interface IniSectionHeader {
  lineNo: number;
  /** Text between the brackets, after the SDK's comment stripping and trimming. */
  rawName: string;
  /**
   * The key the SDK's `parseIni` gives this section (`default`, `profile.dev`, `sso-session.corp`, `dev`),
   * or undefined when the SDK ignores the section's keys.
   */
  sdkKey: string | undefined;
  /** Set when the header matched the SDK's `prefix name` pattern with a known prefix. */
  prefix: SectionPrefix | undefined;
  /** Name after the prefix (unquoted), or the whole raw name when there is no prefix. */
  name: string;
}

export interface IniEntry {
  lineNo: number;
  /** Key as written (the SDK does not change case or hyphens). */
  key: string;
  value: string;
  /** Sub-section key when the line belongs to an indented block after `key =`. */
  subSection: string | undefined;
  /** `sub.key` for sub-section lines, else `key`: the SDK's map key. */
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
  diagnostics: ConfigDiagnostic[];
  /** True when the SDK's parser throws on this text (and the SDK then treats the whole file as empty). */
  sdkRejects: boolean;
}

/** Shape of the SDK's `parseIni` / `loadSharedConfigFiles` output. */
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

/** A profile, `sso-session` or `services` section after the SDK's merge rules. */
export interface NamedSection {
  name: string;
  /** SDK-equivalent key/value view. */
  values: Record<string, string>;
  /** Where each value in `values` was read from. */
  origins: Record<string, ValueOrigin>;
  /** Header lines that contributed to this section (several when duplicated). */
  headers: ValueOrigin[];
}

export interface Profile extends NamedSection {
  /** Values from the config file only (the SDK prefers these for client settings such as `endpoint_url`). */
  configValues: Record<string, string>;
  /** Values from the credentials file only. */
  credentialsValues: Record<string, string>;
}

export interface SharedConfig {
  env: Env;
  home: string;
  configFile: LoadedFile;
  credentialsFile: LoadedFile;
  /** Credentials-file keys overlay config-file keys, key by key (the SDK's `parseKnownFiles`). */
  profiles: Map<string, Profile>;
  ssoSessions: Map<string, NamedSection>;
  services: Map<string, NamedSection>;
  selectedProfile: string;
  selectedProfileSource: 'AWS_PROFILE' | 'default';
  /** Region for the selected profile. */
  region: string | undefined;
  regionSource: RegionSource | undefined;
  /** File-level errors and warnings (syntax, section naming, CLI/SDK differences). */
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
