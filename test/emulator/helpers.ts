// Shared set-up for emulator tests: real AWS SDK v3 clients pointed at a running emulator, and the
// device-code login a test needs before calling the portal.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { SSOClient, GetRoleCredentialsCommand } from '@aws-sdk/client-sso';
import {
  CreateTokenCommand,
  RegisterClientCommand,
  SSOOIDCClient,
  StartDeviceAuthorizationCommand,
} from '@aws-sdk/client-sso-oidc';
import { STSClient } from '@aws-sdk/client-sts';
import { SSMClient } from '@aws-sdk/client-ssm';
import type {
  ActiveFault,
  PendingDeviceAuthorization,
  RequestLogEntry,
  RunningEmulator,
  SessionSummary,
} from '../../src/emulator/index.js';

export const REGION = 'us-east-1';

export interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export function oidcClient(emu: RunningEmulator, maxAttempts = 1): SSOOIDCClient {
  return new SSOOIDCClient({ region: REGION, endpoint: emu.url, maxAttempts });
}

export function ssoClient(emu: RunningEmulator, maxAttempts = 1): SSOClient {
  return new SSOClient({ region: REGION, endpoint: emu.url, maxAttempts });
}

export function stsClient(
  emu: RunningEmulator,
  credentials: Creds,
  maxAttempts = 1,
  region = REGION,
): STSClient {
  return new STSClient({ region, endpoint: emu.url, credentials, maxAttempts });
}

export function ssmClient(
  emu: RunningEmulator,
  credentials: Creds,
  region = REGION,
  maxAttempts = 1,
): SSMClient {
  return new SSMClient({ region, endpoint: emu.url, credentials, maxAttempts });
}

export interface Registration {
  clientId: string;
  clientSecret: string;
}

export async function registerDeviceClient(
  emu: RunningEmulator,
  scopes: string[] | null = ['sso:account:access'],
) {
  const oidc = oidcClient(emu);
  const r = await oidc.send(
    new RegisterClientCommand({
      clientName: 'stormtunnel-test',
      clientType: 'public',
      ...(scopes ? { scopes } : {}),
    }),
  );
  return { clientId: r.clientId!, clientSecret: r.clientSecret! };
}

/** A public client registered for the PKCE flow with a loopback redirect. */
export async function registerPkce(emu: RunningEmulator, clientName = 'pkce-test'): Promise<Registration> {
  const r = await oidcClient(emu).send(
    new RegisterClientCommand({
      clientName,
      clientType: 'public',
      scopes: ['sso:account:access'],
      grantTypes: ['authorization_code', 'refresh_token'],
      redirectUris: ['http://127.0.0.1/oauth/callback'],
      issuerUrl: emu.startUrl,
    }),
  );
  return { clientId: r.clientId!, clientSecret: r.clientSecret! };
}

/** The emulator's /authorize URL for a PKCE sign-in (state `state-123` unless `extra` says otherwise). */
export function authorizeUrl(
  emu: RunningEmulator,
  clientId: string,
  redirectUri: string,
  challenge: string,
  extra: Record<string, string> = {},
): string {
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    state: 'state-123',
    code_challenge_method: 'S256',
    scopes: 'sso:account:access',
    code_challenge: challenge,
    ...extra,
  });
  return `${emu.url}/authorize?${q.toString()}`;
}

/** Device-code login approved through the admin helper; returns the CreateToken output. */
export async function deviceLogin(emu: RunningEmulator, scopes: string[] | null = ['sso:account:access']) {
  const oidc = oidcClient(emu);
  const reg = await registerDeviceClient(emu, scopes);
  const auth = await oidc.send(new StartDeviceAuthorizationCommand({ ...reg, startUrl: emu.startUrl }));
  emu.admin.approveDevice(auth.userCode);
  const token = await oidc.send(
    new CreateTokenCommand({
      ...reg,
      grantType: 'urn:ietf:params:oauth:grant-type:device_code',
      deviceCode: auth.deviceCode,
    }),
  );
  return { reg, token, userCode: auth.userCode! };
}

export async function roleCredentials(
  emu: RunningEmulator,
  accessToken: string,
  accountId: string,
  roleName: string,
): Promise<Creds> {
  const r = await ssoClient(emu).send(new GetRoleCredentialsCommand({ accessToken, accountId, roleName }));
  const c = r.roleCredentials!;
  return { accessKeyId: c.accessKeyId!, secretAccessKey: c.secretAccessKey!, sessionToken: c.sessionToken! };
}

/** What tests read from SDK errors (OIDC errors add `error` / `error_description`). */
export interface SdkError extends Error {
  code?: string;
  error?: string;
  error_description?: string;
  $metadata: { httpStatusCode?: number; attempts?: number };
}

/** Asserts the promise rejects and returns the error. */
export async function rejects(p: Promise<unknown>): Promise<SdkError> {
  try {
    await p;
  } catch (err) {
    return err as SdkError;
  }
  throw new Error('expected a rejection');
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** A loopback OAuth callback server like the CLI's, recording the query of each hit. */
export async function callbackServer(): Promise<{
  url: string;
  hits: URLSearchParams[];
  close(): Promise<void>;
  server: Server;
}> {
  const hits: URLSearchParams[] = [];
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    // Browsers also ask for /favicon.ico; only the callback path counts.
    if (u.pathname !== '/oauth/callback') {
      res.writeHead(404);
      res.end();
      return;
    }
    hits.push(u.searchParams);
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html><body><h1 id="done">Login complete</h1></body></html>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/oauth/callback`,
    hits,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** Union of the admin API's answers that tests read. */
export interface AdminJson {
  fault?: ActiveFault;
  faults?: ActiveFault[];
  sessions?: SessionSummary[];
  deviceAuthorizations?: PendingDeviceAuthorization[];
  requests?: RequestLogEntry[];
  settings?: { accessTokenSeconds: number };
  offsetMs?: number;
  code?: string;
  revoked?: number;
  message?: string;
}

export async function adminFetch(emu: RunningEmulator, method: string, path: string, body?: unknown) {
  const r = await fetch(`${emu.url}/_emulator/${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: r.status, json: (await r.json()) as AdminJson };
}
