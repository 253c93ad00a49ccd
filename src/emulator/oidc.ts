// SSO OIDC (restJson1, unsigned): RegisterClient, StartDeviceAuthorization, CreateToken with the device
// code, refresh token (rotating) and authorization code + PKCE S256 grants. Errors are the service's
// OAuth-style bodies `{error, error_description}` typed by the `x-amzn-errortype` header.
import { createHash, randomUUID } from 'node:crypto';
import type { Emu } from './context.js';
import { parseJsonBody, restJsonError, sendJson, str, strArray, type Exchange } from './http.js';
import { randomToken, userCode } from './ids.js';
import type { AuthorizationRecord, ClientRecord, DeviceAuthRecord, SsoSessionRecord } from './store.js';

export const GRANT_DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';
const KNOWN_GRANTS = new Set(['authorization_code', 'refresh_token', GRANT_DEVICE_CODE]);
const LEGACY_GRANTS = [GRANT_DEVICE_CODE, 'refresh_token'];

type OidcError =
  | 'InvalidRequestException'
  | 'InvalidClientException'
  | 'InvalidClientMetadataException'
  | 'InvalidScopeException'
  | 'InvalidRedirectUriException'
  | 'InvalidGrantException'
  | 'UnauthorizedClientException'
  | 'UnsupportedGrantTypeException'
  | 'AuthorizationPendingException'
  | 'SlowDownException'
  | 'ExpiredTokenException'
  | 'AccessDeniedException';

const OAUTH_CODES: Record<OidcError, [number, string]> = {
  InvalidRequestException: [400, 'invalid_request'],
  InvalidClientException: [401, 'invalid_client'],
  InvalidClientMetadataException: [400, 'invalid_client_metadata'],
  InvalidScopeException: [400, 'invalid_scope'],
  InvalidRedirectUriException: [400, 'invalid_redirect_uri'],
  InvalidGrantException: [400, 'invalid_grant'],
  UnauthorizedClientException: [400, 'unauthorized_client'],
  UnsupportedGrantTypeException: [400, 'unsupported_grant_type'],
  AuthorizationPendingException: [400, 'authorization_pending'],
  SlowDownException: [400, 'slow_down'],
  ExpiredTokenException: [400, 'expired_token'],
  AccessDeniedException: [400, 'access_denied'],
};

function oidcError(ex: Exchange, type: OidcError, description: string): void {
  const [status, error] = OAUTH_CODES[type];
  restJsonError(ex, status, type, { error, error_description: description });
}

export function shortGrant(grant: string): string {
  return grant === GRANT_DEVICE_CODE ? 'device_code' : grant;
}

export function isLoopbackHost(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}

/** Registered redirect URIs match on scheme, host and path; for loopback hosts any port is allowed. */
export function redirectUriAllowed(client: ClientRecord, uri: string): boolean {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return false;
  }
  return client.redirectUris.some((r) => {
    const reg = new URL(r);
    if (reg.protocol !== u.protocol || reg.hostname !== u.hostname || reg.pathname !== u.pathname)
      return false;
    return isLoopbackHost(u.hostname) || reg.port === u.port;
  });
}

function validRedirectUri(uri: string): boolean {
  try {
    const u = new URL(uri);
    if (u.hash) return false;
    return u.protocol === 'https:' || (u.protocol === 'http:' && isLoopbackHost(u.hostname));
  } catch {
    return false;
  }
}

export function handleRegisterClient(emu: Emu, ex: Exchange): void {
  const body = parseJsonBody(ex);
  if (!body) return oidcError(ex, 'InvalidRequestException', 'Request body is not valid JSON');
  const clientName = str(body.clientName);
  const clientType = str(body.clientType);
  const scopes = body.scopes === undefined ? [] : strArray(body.scopes);
  const redirectUris = body.redirectUris === undefined ? [] : strArray(body.redirectUris);
  const grantTypes = body.grantTypes === undefined ? undefined : strArray(body.grantTypes);
  if (clientName) ex.params.clientName = clientName;
  if (clientType) ex.params.clientType = clientType;
  if (scopes?.length) ex.params.scopes = scopes;
  if (grantTypes) ex.params.grantTypes = grantTypes.map(shortGrant);
  if (redirectUris?.length) ex.params.redirectUris = redirectUris;
  if (!clientName || !clientType)
    return oidcError(ex, 'InvalidRequestException', 'clientName and clientType are required');
  if (clientType !== 'public')
    return oidcError(ex, 'InvalidClientMetadataException', `Invalid client type: ${clientType}`);
  if (!scopes || !redirectUris || (body.grantTypes !== undefined && !grantTypes)) {
    return oidcError(
      ex,
      'InvalidRequestException',
      'scopes, redirectUris and grantTypes must be lists of strings',
    );
  }
  const allowed = new Set(emu.store.state.sso.scopes);
  const badScope = scopes.find((s) => !allowed.has(s));
  if (badScope) return oidcError(ex, 'InvalidScopeException', `Invalid scope: ${badScope}`);
  const grants = grantTypes ?? LEGACY_GRANTS;
  const badGrant = grants.find((g) => !KNOWN_GRANTS.has(g));
  if (badGrant) return oidcError(ex, 'InvalidClientMetadataException', `Invalid grant type: ${badGrant}`);
  if (grants.includes('authorization_code')) {
    if (redirectUris.length === 0) {
      return oidcError(
        ex,
        'InvalidRequestException',
        'redirectUris are required for the authorization_code grant',
      );
    }
    if (!str(body.issuerUrl)) {
      return oidcError(
        ex,
        'InvalidRequestException',
        'issuerUrl is required for the authorization_code grant',
      );
    }
  }
  const badUri = redirectUris.find((u) => !validRedirectUri(u));
  if (badUri) return oidcError(ex, 'InvalidRedirectUriException', `Invalid redirect URI: ${badUri}`);

  const now = emu.clock.now();
  const client: ClientRecord = {
    clientId: randomToken('', 16),
    clientSecret: `eyJraWQiOiJrZXktMTU2NDAyODA5OSIsImFsZyI6IkhTMzg0In0.${randomToken('', 96)}`,
    clientName,
    scopes,
    grantTypes: grants,
    redirectUris,
    issuedAt: now,
    expiresAt: now + emu.settings().clientRegistrationSeconds * 1000,
  };
  emu.store.clients.set(client.clientId, client);
  sendJson(ex, 200, {
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    clientIdIssuedAt: Math.floor(client.issuedAt / 1000),
    clientSecretExpiresAt: Math.floor(client.expiresAt / 1000),
  });
}

/** Checks clientId + clientSecret; answers InvalidClientException and returns undefined when wrong. */
function authenticateClient(
  emu: Emu,
  ex: Exchange,
  clientId?: string,
  clientSecret?: string,
): ClientRecord | undefined {
  const client = clientId ? emu.store.clients.get(clientId) : undefined;
  if (client) ex.params.clientName = client.clientName;
  if (!client || client.clientSecret !== clientSecret) {
    oidcError(ex, 'InvalidClientException', 'Invalid client credentials');
    return undefined;
  }
  if (client.expiresAt <= emu.clock.now()) {
    oidcError(ex, 'InvalidClientException', 'Client registration has expired');
    return undefined;
  }
  return client;
}

function normalizeStartUrl(u: string): string {
  return u.replace(/#.*$/, '').replace(/\/+$/, '');
}

export function handleStartDeviceAuthorization(emu: Emu, ex: Exchange): void {
  const body = parseJsonBody(ex);
  if (!body) return oidcError(ex, 'InvalidRequestException', 'Request body is not valid JSON');
  const startUrl = str(body.startUrl);
  if (startUrl) ex.params.startUrl = startUrl;
  if (!str(body.clientId) || !str(body.clientSecret) || !startUrl) {
    return oidcError(ex, 'InvalidRequestException', 'clientId, clientSecret and startUrl are required');
  }
  const client = authenticateClient(emu, ex, str(body.clientId), str(body.clientSecret));
  if (!client) return;
  if (!client.grantTypes.includes(GRANT_DEVICE_CODE)) {
    return oidcError(ex, 'UnauthorizedClientException', 'Client is not authorized for the device code grant');
  }
  const accepted = [emu.startUrl, ...emu.store.state.sso.startUrlAliases].map(normalizeStartUrl);
  if (!accepted.includes(normalizeStartUrl(startUrl))) {
    return oidcError(ex, 'InvalidRequestException', `Unknown start URL: ${startUrl}`);
  }
  const s = emu.settings();
  const now = emu.clock.now();
  let code = userCode();
  while (emu.store.deviceAuthByUserCode(code)) code = userCode();
  const rec: DeviceAuthRecord = {
    deviceCode: randomToken('', 64),
    userCode: code,
    clientId: client.clientId,
    expiresAt: now + s.deviceCodeSeconds * 1000,
    intervalMs: s.pollIntervalSeconds * 1000,
    status: 'pending',
  };
  if (emu.autoApprove) {
    rec.status = 'approved';
    rec.username = emu.store.state.users[0]?.username;
  }
  emu.store.deviceAuths.set(rec.deviceCode, rec);
  ex.params.userCode = code;
  sendJson(ex, 200, {
    deviceCode: rec.deviceCode,
    userCode: code,
    verificationUri: `${emu.url}/device`,
    verificationUriComplete: `${emu.url}/device?user_code=${encodeURIComponent(code)}`,
    expiresIn: s.deviceCodeSeconds,
    interval: s.pollIntervalSeconds,
  });
}

export function handleCreateToken(emu: Emu, ex: Exchange): void {
  const body = parseJsonBody(ex);
  if (!body) return oidcError(ex, 'InvalidRequestException', 'Request body is not valid JSON');
  const grantType = str(body.grantType);
  if (grantType) ex.params.grantType = shortGrant(grantType);
  if (!str(body.clientId) || !str(body.clientSecret) || !grantType) {
    return oidcError(ex, 'InvalidRequestException', 'clientId, clientSecret and grantType are required');
  }
  const client = authenticateClient(emu, ex, str(body.clientId), str(body.clientSecret));
  if (!client) return;
  if (!KNOWN_GRANTS.has(grantType))
    return oidcError(ex, 'UnsupportedGrantTypeException', `Unsupported grant type: ${grantType}`);
  if (!client.grantTypes.includes(grantType)) {
    return oidcError(
      ex,
      'UnauthorizedClientException',
      `Client is not authorized for grant type ${shortGrant(grantType)}`,
    );
  }
  if (grantType === GRANT_DEVICE_CODE) return deviceCodeGrant(emu, ex, client, str(body.deviceCode));
  if (grantType === 'refresh_token') return refreshTokenGrant(emu, ex, client, str(body.refreshToken));
  return authorizationCodeGrant(emu, ex, client, body);
}

function deviceCodeGrant(emu: Emu, ex: Exchange, client: ClientRecord, deviceCode?: string): void {
  if (!deviceCode) return oidcError(ex, 'InvalidRequestException', 'deviceCode is required');
  const rec = emu.store.deviceAuths.get(deviceCode);
  if (!rec || rec.clientId !== client.clientId)
    return oidcError(ex, 'InvalidGrantException', 'Invalid device code provided');
  ex.params.userCode = rec.userCode;
  const now = emu.clock.now();
  if (rec.status === 'consumed')
    return oidcError(ex, 'InvalidGrantException', 'Device code has already been used');
  if (rec.expiresAt <= now) return oidcError(ex, 'ExpiredTokenException', 'Device code has expired');
  if (rec.status === 'denied')
    return oidcError(ex, 'AccessDeniedException', 'The user denied the authorization request');
  if (rec.status === 'pending') {
    // A quarter of the interval of slack: a client that waits `interval` between polls must never see
    // SlowDown because of request latency jitter.
    const tooSoon = rec.lastPollAt !== undefined && now - rec.lastPollAt < rec.intervalMs * 0.75;
    rec.lastPollAt = now;
    if (tooSoon) return oidcError(ex, 'SlowDownException', 'Client is polling too fast');
    return oidcError(ex, 'AuthorizationPendingException', 'Authorization is still pending');
  }
  rec.status = 'consumed';
  issueTokens(emu, ex, newSsoSession(emu, client, rec.username ?? '', client.scopes));
}

function refreshTokenGrant(emu: Emu, ex: Exchange, client: ClientRecord, token?: string): void {
  if (!token) return oidcError(ex, 'InvalidRequestException', 'refreshToken is required');
  const rec = emu.store.refreshTokens.get(token);
  const now = emu.clock.now();
  const session = rec ? emu.store.ssoSessions.get(rec.sessionId) : undefined;
  if (!rec || !session || session.clientId !== client.clientId) {
    return oidcError(ex, 'InvalidGrantException', 'Invalid refresh token provided');
  }
  if (rec.used) return oidcError(ex, 'InvalidGrantException', 'Refresh token has already been used');
  if (session.revoked) return oidcError(ex, 'InvalidGrantException', 'Refresh token has been revoked');
  if (rec.expiresAt <= now || session.expiresAt <= now) {
    return oidcError(ex, 'InvalidGrantException', 'Refresh token has expired');
  }
  rec.used = true;
  issueTokens(emu, ex, session);
}

function authorizationCodeGrant(
  emu: Emu,
  ex: Exchange,
  client: ClientRecord,
  body: Record<string, unknown>,
): void {
  const code = str(body.code);
  const redirectUri = str(body.redirectUri);
  const verifier = str(body.codeVerifier);
  if (!code || !redirectUri || !verifier) {
    return oidcError(ex, 'InvalidRequestException', 'code, redirectUri and codeVerifier are required');
  }
  const rec = emu.store.authCodes.get(code);
  if (!rec || rec.clientId !== client.clientId)
    return oidcError(ex, 'InvalidGrantException', 'Invalid authorization code provided');
  if (rec.used) {
    // RFC 6749 10.5: a replayed code revokes what it produced.
    for (const s of emu.store.ssoSessions.values()) if (s.id === `code:${code}`) s.revoked = true;
    return oidcError(ex, 'InvalidGrantException', 'Authorization code has already been used');
  }
  rec.used = true;
  if (rec.expiresAt <= emu.clock.now())
    return oidcError(ex, 'InvalidGrantException', 'Authorization code has expired');
  if (rec.redirectUri !== redirectUri)
    return oidcError(ex, 'InvalidGrantException', 'Redirect URI does not match the authorization request');
  const challenge = createHash('sha256').update(verifier, 'ascii').digest('base64url');
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || challenge !== rec.codeChallenge) {
    return oidcError(ex, 'InvalidGrantException', 'Code verifier does not match the code challenge');
  }
  issueTokens(emu, ex, newSsoSession(emu, client, rec.username, rec.scopes, `code:${code}`));
}

function newSsoSession(
  emu: Emu,
  client: ClientRecord,
  username: string,
  scopes: string[],
  id?: string,
): SsoSessionRecord {
  const s: SsoSessionRecord = {
    id: id ?? randomUUID(),
    username,
    clientId: client.clientId,
    scopes,
    expiresAt: emu.clock.now() + emu.settings().refreshTokenSeconds * 1000,
    revoked: false,
  };
  emu.store.ssoSessions.set(s.id, s);
  return s;
}

/**
 * Access token + rotating refresh token. Registrations without scopes get legacy tokens: no refresh token,
 * and the access token lives as long as the sign-in session (AWS's ~8 h legacy tokens).
 */
function issueTokens(emu: Emu, ex: Exchange, session: SsoSessionRecord): void {
  const s = emu.settings();
  const now = emu.clock.now();
  const legacy = session.scopes.length === 0;
  const life = legacy
    ? session.expiresAt - now
    : Math.min(s.accessTokenSeconds * 1000, session.expiresAt - now);
  const accessToken = randomToken('aoa', 96);
  emu.store.accessTokens.set(accessToken, {
    token: accessToken,
    sessionId: session.id,
    expiresAt: now + life,
  });
  const out: Record<string, unknown> = {
    accessToken,
    tokenType: 'Bearer',
    expiresIn: Math.max(1, Math.floor(life / 1000)),
  };
  if (!legacy) {
    const refreshToken = randomToken('aor', 96);
    emu.store.refreshTokens.set(refreshToken, {
      token: refreshToken,
      sessionId: session.id,
      expiresAt: session.expiresAt,
      used: false,
    });
    out.refreshToken = refreshToken;
  }
  ex.params.username = session.username;
  sendJson(ex, 200, out);
}

// ---- approvals (from pages, admin API or auto-approve) ----

export function approveDeviceAuth(rec: DeviceAuthRecord, username: string): boolean {
  if (rec.status !== 'pending') return false;
  rec.status = 'approved';
  rec.username = username;
  return true;
}

export function denyDeviceAuth(rec: DeviceAuthRecord): boolean {
  if (rec.status !== 'pending') return false;
  rec.status = 'denied';
  return true;
}

/** Issues a single-use code and returns the redirect the browser follows. */
export function approveAuthorization(emu: Emu, auth: AuthorizationRecord, username: string): string {
  auth.status = 'approved';
  const code = randomToken('', 48);
  emu.store.authCodes.set(code, {
    code,
    clientId: auth.clientId,
    redirectUri: auth.redirectUri,
    codeChallenge: auth.codeChallenge,
    scopes: auth.scopes,
    username,
    expiresAt: emu.clock.now() + emu.settings().authorizationCodeSeconds * 1000,
    used: false,
  });
  return withQuery(auth.redirectUri, { code, state: auth.state });
}

export function denyAuthorization(auth: AuthorizationRecord): string {
  auth.status = 'denied';
  return withQuery(auth.redirectUri, {
    error: 'access_denied',
    error_description: 'The user denied the request',
    state: auth.state,
  });
}

export function withQuery(base: string, q: Record<string, string | undefined>): string {
  const u = new URL(base);
  for (const [k, v] of Object.entries(q)) if (v !== undefined) u.searchParams.set(k, v);
  return u.toString();
}
