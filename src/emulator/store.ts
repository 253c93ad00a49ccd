// Runtime records of the emulator: client registrations, device and PKCE authorizations, tokens, issued
// credentials and SSM sessions, plus the clock they all expire against.
import { stableHex, stableUniqueId } from './ids.js';
import type { EmulatorState } from './state.js';

export class Clock {
  offsetMs = 0;
  constructor(private readonly base: () => number = Date.now) {}
  now(): number {
    return this.base() + this.offsetMs;
  }
}

export interface ClientRecord {
  clientId: string;
  clientSecret: string;
  clientName: string;
  scopes: string[];
  grantTypes: string[];
  redirectUris: string[];
  issuedAt: number;
  expiresAt: number;
}

export interface DeviceAuthRecord {
  deviceCode: string;
  userCode: string;
  clientId: string;
  expiresAt: number;
  intervalMs: number;
  lastPollAt?: number;
  status: 'pending' | 'approved' | 'denied' | 'consumed';
  username?: string;
}

export interface AuthorizationRecord {
  id: string;
  clientId: string;
  redirectUri: string;
  state: string | undefined;
  codeChallenge: string;
  scopes: string[];
  status: 'pending' | 'approved' | 'denied' | 'consumed';
  createdAt: number;
  /** Where the browser goes once decided (code or error). */
  redirectUrl?: string;
}

export interface AuthCodeRecord {
  code: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  scopes: string[];
  username: string;
  expiresAt: number;
  used: boolean;
}

/** One sign-in session of the user with one client; Logout and revocation end it. */
export interface SsoSessionRecord {
  id: string;
  username: string;
  clientId: string;
  scopes: string[];
  /** Refresh tokens cannot outlive the sign-in session. */
  expiresAt: number;
  revoked: boolean;
}

export interface AccessTokenRecord {
  token: string;
  sessionId: string;
  expiresAt: number;
}

export interface RefreshTokenRecord {
  token: string;
  sessionId: string;
  expiresAt: number;
  used: boolean;
}

/** Who a set of credentials belongs to. */
export interface Principal {
  accountId: string;
  /** What GetCallerIdentity returns. */
  arn: string;
  userId: string;
  /** IAM ARN matched against trust policies (the role ARN for assumed roles, the user ARN for users). */
  trustArn: string;
  deny: string[];
  /** Assumed-role credentials (SSO roles included): a further AssumeRole is role chaining. */
  assumedRole: boolean;
  /** Session name used to name SSM sessions. */
  sessionName: string;
}

export interface CredentialRecord {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiresAt?: number;
  principal: Principal;
}

export interface SsmSessionRecord {
  sessionId: string;
  instanceId: string;
  documentName: string;
  ownerArn: string;
  accountId: string;
  status: 'Connected' | 'Terminated';
}

export interface BrowserSession {
  id: string;
  username: string;
  csrf: string;
}

export class Store {
  clients = new Map<string, ClientRecord>();
  deviceAuths = new Map<string, DeviceAuthRecord>();
  authorizations = new Map<string, AuthorizationRecord>();
  authCodes = new Map<string, AuthCodeRecord>();
  ssoSessions = new Map<string, SsoSessionRecord>();
  accessTokens = new Map<string, AccessTokenRecord>();
  refreshTokens = new Map<string, RefreshTokenRecord>();
  credentials = new Map<string, CredentialRecord>();
  ssmSessions = new Map<string, SsmSessionRecord>();
  browserSessions = new Map<string, BrowserSession>();

  constructor(public state: EmulatorState) {
    for (const u of state.iamUsers) {
      const accountId = u.arn.split(':')[4] ?? '';
      this.credentials.set(u.accessKeyId, {
        accessKeyId: u.accessKeyId,
        secretAccessKey: u.secretAccessKey,
        principal: {
          accountId,
          arn: u.arn,
          userId: stableUniqueId('AIDA', u.arn),
          trustArn: u.arn,
          deny: u.deny,
          assumedRole: false,
          sessionName: u.arn.split('/').pop() ?? 'user',
        },
      });
    }
  }

  deviceAuthByUserCode(code: string): DeviceAuthRecord | undefined {
    const wanted = code.trim().toUpperCase();
    for (const d of this.deviceAuths.values()) if (d.userCode === wanted) return d;
    return undefined;
  }

  /** The live sign-in session behind an access token, or undefined if unknown, expired or revoked. */
  sessionForAccessToken(token: string | undefined, now: number): SsoSessionRecord | undefined {
    if (!token) return undefined;
    const rec = this.accessTokens.get(token);
    if (!rec || rec.expiresAt <= now) return undefined;
    const session = this.ssoSessions.get(rec.sessionId);
    if (!session || session.revoked) return undefined;
    return session;
  }

  revokeSession(id: string): void {
    const s = this.ssoSessions.get(id);
    if (s) s.revoked = true;
  }
}

/** IAM role ARN of an Identity Center permission set role in an account, with AWS's path and suffix. */
export function ssoRoleArn(accountId: string, roleName: string): string {
  return `arn:aws:iam::${accountId}:role/aws-reserved/sso.amazonaws.com/${ssoRoleResourceName(accountId, roleName)}`;
}

export function ssoRoleResourceName(accountId: string, roleName: string): string {
  return `AWSReservedSSO_${roleName}_${stableHex(`${accountId}/${roleName}`)}`;
}

/** Trust policy match: exact ARN, `*` wildcards, or `arn:aws:iam::ACCOUNT:root` for the whole account. */
export function principalMatches(pattern: string, principal: Principal): boolean {
  if (pattern === '*') return true;
  const root = /^arn:aws:iam::(\d{12}):root$/.exec(pattern);
  if (root) return root[1] === principal.accountId;
  const re = new RegExp('^' + pattern.split('*').map(escapeRe).join('.*') + '$');
  return re.test(principal.trustArn);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
