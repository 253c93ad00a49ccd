// The two sign-in flows of IAM Identity Center: PKCE authorization code (a callback server on 127.0.0.1 only,
// state checked) and device code (for headless and remote machines, and legacy profiles).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SSOOIDCClient } from '@aws-sdk/client-sso-oidc';
import { StormtunnelError } from '../../src/plugin-kit/index.js';
import type { Clock, Logger, Prompt, StoredToken } from '../../src/plugin-kit/index.js';
import { getRegistration, PKCE_REDIRECT_URI } from './registration.js';
import { registrationScopes } from './session-ref.js';
import type { SsoSessionRef } from './types.js';

export interface SignInDeps {
  oidc: SSOOIDCClient;
  /** Base URL of the OIDC service (where /authorize lives). */
  oidcEndpoint: string;
  clock: Clock;
  prompt: Prompt;
  logger: Logger;
  openUrl: (url: string) => Promise<void>;
  noBrowser: boolean;
  timeoutMs: number;
  signal: AbortSignal;
  clientName: string;
  env: NodeJS.ProcessEnv;
}

/** A sign-in that did not complete: the person denied it, it timed out, or the state did not match. */
export class SignInError extends StormtunnelError {
  readonly errorClass = 'token-expired';
  constructor(message: string, hint?: string) {
    super(message, { exitCode: 3, hint: hint ?? 'run stormtunnel login again' });
  }
}

const VERIFIER_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';

/** 64 characters of the unreserved set, as the AWS CLI makes them. */
export function makeCodeVerifier(): string {
  const bytes = randomBytes(64);
  let out = '';
  for (const b of bytes) out += VERIFIER_CHARS[b % VERIFIER_CHARS.length];
  return out;
}

export function codeChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

function tokenFrom(
  ref: SsoSessionRef,
  reg: { clientId: string; clientSecret: string; expiresAt: Date },
  out: { accessToken?: string; expiresIn?: number; refreshToken?: string },
  now: number,
): StoredToken {
  if (!out.accessToken || !out.expiresIn)
    throw new Error('CreateToken answered without accessToken or expiresIn');
  return {
    session: ref.name,
    startUrl: ref.startUrl,
    region: ref.region,
    accessToken: out.accessToken,
    expiresAt: new Date(now + out.expiresIn * 1000),
    ...(out.refreshToken ? { refreshToken: out.refreshToken } : {}),
    clientId: reg.clientId,
    clientSecret: reg.clientSecret,
    registrationExpiresAt: reg.expiresAt,
  };
}

function minutesLeft(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')} left`;
}

async function openOrPrint(deps: SignInDeps, url: string, what: string): Promise<void> {
  deps.prompt.say(`${what}:\n  ${url}`);
  if (deps.noBrowser) return;
  try {
    await deps.openUrl(url);
  } catch (err) {
    deps.logger.warn('could not open a browser; open the URL above yourself', { err });
  }
}

/** Waits for `promise` while showing a spinner with the time left; rejects after the deadline. */
async function waitWithProgress<T>(
  deps: SignInDeps,
  text: string,
  promise: Promise<T>,
  deadline: number,
): Promise<T> {
  const progress = deps.prompt.progress(`${text} (${minutesLeft(deadline - deps.clock.now())})`);
  const ticker = setInterval(
    () => progress.update(`${text} (${minutesLeft(deadline - deps.clock.now())})`),
    1000,
  );
  ticker.unref();
  const abort = new AbortController();
  const onAbort = () => abort.abort(deps.signal.reason);
  deps.signal.addEventListener('abort', onAbort, { once: true });
  const timeout = deps.clock.sleep(Math.max(0, deadline - deps.clock.now()), abort.signal).then(() => {
    throw new SignInError(`sign-in was not completed within ${Math.round(deps.timeoutMs / 60_000)} minutes`);
  });
  try {
    const result = await Promise.race([promise, timeout]);
    progress.succeed('Signed in');
    return result;
  } catch (err) {
    progress.fail('Sign-in did not complete');
    throw err;
  } finally {
    clearInterval(ticker);
    abort.abort();
    deps.signal.removeEventListener('abort', onAbort);
    timeout.catch(() => undefined);
  }
}

export async function signInWithPkce(ref: SsoSessionRef, deps: SignInDeps): Promise<StoredToken> {
  const reg = await getRegistration(deps.oidc, ref, 'pkce', {
    clientName: deps.clientName,
    now: new Date(deps.clock.now()),
    env: deps.env,
  });
  const verifier = makeCodeVerifier();
  const state = randomUUID();
  const deadline = deps.clock.now() + deps.timeoutMs;

  let settle!: { resolve: (code: string) => void; reject: (e: Error) => void };
  const gotCode = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/oauth/callback') {
      res.writeHead(404).end();
      return;
    }
    const reply = (status: number, message: string) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>stormtunnel</title><h1>${message}</h1><p>You can close this tab.</p>`);
    };
    const error = url.searchParams.get('error');
    if (error) {
      reply(400, 'Sign-in was not completed');
      settle.reject(
        new SignInError(
          `sign-in was not completed: ${error}${url.searchParams.get('error_description') ? ` (${url.searchParams.get('error_description')})` : ''}`,
        ),
      );
      return;
    }
    if (url.searchParams.get('state') !== state) {
      // Not ours (or forged): refuse and keep waiting for the real redirect.
      reply(400, 'This sign-in link does not belong to the running stormtunnel');
      deps.logger.warn('ignored a sign-in callback with a state that does not match');
      return;
    }
    const code = url.searchParams.get('code');
    if (!code) {
      reply(400, 'The sign-in redirect carried no code');
      settle.reject(new SignInError('the sign-in redirect carried no authorization code'));
      return;
    }
    reply(200, 'Signed in to stormtunnel');
    settle.resolve(code);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  try {
    const port = (server.address() as AddressInfo).port;
    const redirectUri = PKCE_REDIRECT_URI.replace('127.0.0.1', `127.0.0.1:${port}`);
    const scopes = registrationScopes(ref) ?? [];
    const authorize = new URL('/authorize', deps.oidcEndpoint);
    authorize.search = new URLSearchParams({
      response_type: 'code',
      client_id: reg.clientId,
      redirect_uri: redirectUri,
      state,
      code_challenge_method: 'S256',
      scopes: scopes.join(' '),
      code_challenge: codeChallenge(verifier),
    }).toString();
    await openOrPrint(
      deps,
      authorize.toString(),
      `Sign in to ${ref.name} in your browser${deps.noBrowser ? '; open' : '. If it does not open, visit'}`,
    );
    const code = await waitWithProgress(deps, 'Waiting for the sign-in in the browser', gotCode, deadline);
    const { CreateTokenCommand } = await import('@aws-sdk/client-sso-oidc');
    const out = await deps.oidc.send(
      new CreateTokenCommand({
        clientId: reg.clientId,
        clientSecret: reg.clientSecret,
        grantType: 'authorization_code',
        code,
        codeVerifier: verifier,
        redirectUri,
      }),
    );
    return tokenFrom(ref, reg, out, deps.clock.now());
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export async function signInWithDeviceCode(ref: SsoSessionRef, deps: SignInDeps): Promise<StoredToken> {
  const { StartDeviceAuthorizationCommand, CreateTokenCommand } = await import('@aws-sdk/client-sso-oidc');
  const start = async (ignoreCache: boolean) => {
    const reg = await getRegistration(deps.oidc, ref, 'device', {
      clientName: deps.clientName,
      now: new Date(deps.clock.now()),
      env: deps.env,
      ignoreCache,
    });
    const auth = await deps.oidc.send(
      new StartDeviceAuthorizationCommand({
        clientId: reg.clientId,
        clientSecret: reg.clientSecret,
        startUrl: ref.startUrl,
      }),
    );
    return { reg, auth };
  };
  // A cached registration the service no longer knows (revoked, or a restarted emulator): register anew, once.
  const { reg, auth } = await start(false).catch((err: unknown) => {
    if ((err as { name?: unknown }).name !== 'InvalidClientException') throw err;
    deps.logger.info('the cached client registration was refused; registering again');
    return start(true);
  });
  if (!auth.deviceCode || !auth.userCode || !auth.verificationUri) {
    throw new Error('StartDeviceAuthorization answered without deviceCode, userCode or verificationUri');
  }
  const deadline = Math.min(
    deps.clock.now() + deps.timeoutMs,
    deps.clock.now() + (auth.expiresIn ?? 600) * 1000,
  );
  await openOrPrint(
    deps,
    auth.verificationUriComplete ?? auth.verificationUri,
    `Sign in to ${ref.name}: confirm the code ${auth.userCode} at`,
  );
  let intervalMs = (auth.interval ?? 5) * 1000;
  const deviceCode = auth.deviceCode;
  // Polling stops when the wait ends for any reason (done, timed out, shutting down).
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  deps.signal.addEventListener('abort', onAbort, { once: true });
  const poll = (async () => {
    for (;;) {
      await deps.clock.sleep(intervalMs, stop.signal);
      try {
        const out = await deps.oidc.send(
          new CreateTokenCommand({
            clientId: reg.clientId,
            clientSecret: reg.clientSecret,
            grantType: 'urn:ietf:params:oauth:grant-type:device_code',
            deviceCode,
          }),
        );
        return tokenFrom(ref, reg, out, deps.clock.now());
      } catch (err) {
        const name = (err as { name?: string }).name;
        if (name === 'AuthorizationPendingException') continue;
        if (name === 'SlowDownException') {
          intervalMs += 5000;
          continue;
        }
        if (name === 'ExpiredTokenException')
          throw new SignInError(`the code ${auth.userCode} expired before it was confirmed`);
        if (name === 'AccessDeniedException') throw new SignInError('the sign-in was denied in the browser');
        throw err;
      }
    }
  })();
  try {
    return await waitWithProgress(deps, `Waiting for code ${auth.userCode} to be confirmed`, poll, deadline);
  } finally {
    stop.abort();
    deps.signal.removeEventListener('abort', onAbort);
    poll.catch(() => undefined);
  }
}
