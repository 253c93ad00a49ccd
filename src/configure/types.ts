// Public types of `stormtunnel configure`: the SSO wizard, populate, and safe edits of ~/.aws/config.

/** One account the signed-in person can reach, with the roles (permission sets) they may use in it. */
export interface AccountRoles {
  accountId: string;
  accountName: string;
  emailAddress: string | undefined;
  /** Role names, sorted. */
  roles: string[];
}

/** One (account, role) pair, the unit of a profile. */
export interface AccountRole {
  accountId: string;
  accountName: string;
  roleName: string;
}

/** An `[sso-session NAME]` as the wizard writes it. */
export interface SsoSessionSpec {
  name: string;
  startUrl: string;
  region: string;
  /** Registration scopes, written comma separated as `sso_registration_scopes` (none: the key is not written). */
  scopes: string[];
}

/** A `[profile NAME]` for an sso-session, as the AWS CLI's `configure sso` writes it. */
export interface SsoProfileSpec {
  name: string;
  ssoSession: string;
  accountId: string;
  roleName: string;
  /** Default region of the profile (`region`); omitted when undefined. */
  region: string | undefined;
}

/** What an edit did to one section. */
export type SectionChange = 'added' | 'updated' | 'unchanged';

/** The result of planning an edit of the AWS config file; nothing is written until `commit`. */
export interface ConfigEditPlan {
  /** The file as resolved (symlinks followed). */
  file: string;
  exists: boolean;
  before: string;
  after: string;
  /** True when `after` differs from `before`. */
  changed: boolean;
}

/** What `writeAwsConfig` did. */
export interface ConfigWriteResult {
  file: string;
  /** The copy of the previous file, when there was one to keep. */
  backup: string | undefined;
}

/** One line of the populate summary. */
export interface PopulateEntry {
  profile: string;
  accountId: string;
  accountName: string;
  roleName: string;
  action: 'add' | 'exists' | 'already-configured';
  /** For skipped pairs: the existing profile, and whether it differs from what populate would write. */
  detail?: string;
}

export interface PopulateOptions {
  ssoSession: string;
  /** Region written to each profile (default: the session's sso_region). */
  region?: string;
  /** Prepended to every generated name. */
  prefix?: string;
  /** Name template, with {account_name}, {account_id} and {role_name} (default "{account_name}-{role_name}"). */
  template?: string;
}

/** A tunnel the wizard offers to add to stormtunnel.config.ts. */
export interface TunnelSpec {
  name: string;
  profile: string;
  region: string | undefined;
  target: string;
  remotePort: number;
  localPort: number;
  remoteHost?: string;
}

/** What happened to stormtunnel.config.ts. */
export type TunnelConfigResult =
  | { kind: 'created'; file: string }
  | { kind: 'inserted'; file: string }
  | { kind: 'snippet'; file: string | undefined; reason: string; snippet: string };

/** Answers given as flags to `configure sso`; each one skips its question. */
export interface SsoWizardOptions {
  ssoSession?: string;
  startUrl?: string;
  ssoRegion?: string;
  /** Comma separated (default "sso:account:access"). */
  scopes?: string;
  accountId?: string;
  roleName?: string;
  profileName?: string;
  /** The profile's default region (default: the SSO region). */
  region?: string;
  noBrowser?: boolean;
  useDeviceCode?: boolean;
  /** true: add a tunnel without asking; false: do not offer; undefined: ask when interactive. */
  addTunnel?: boolean;
  tunnelName?: string;
  target?: string;
  remotePort?: string;
  localPort?: string;
  remoteHost?: string;
  /** Update an existing profile with other settings without asking. */
  yes?: boolean;
}

export interface SsoWizardResult {
  session: SsoSessionSpec;
  sessionChange: SectionChange;
  profile: SsoProfileSpec;
  profileChange: SectionChange;
  /** Backups of ~/.aws/config made on the way (the first holds the file as it was before the wizard). */
  backups: string[];
  tunnel: TunnelConfigResult | undefined;
}
