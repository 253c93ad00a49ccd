// SSO OIDC against the emulator with the real SDK client: registration, device code, refresh rotation,
// PKCE authorization code, and every error the SDK maps.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CreateTokenCommand,
  RegisterClientCommand,
  StartDeviceAuthorizationCommand,
} from '@aws-sdk/client-sso-oidc';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import {
  authorizeUrl,
  callbackServer,
  oidcClient,
  pkcePair,
  registerDeviceClient,
  registerPkce,
  rejects,
} from './helpers.js';

const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code';
let now = Date.UTC(2026, 10, 21, 12, 0, 0);
const test = suite<{ emu: RunningEmulator }>('sso-oidc');

test.before(async (ctx) => {
  ctx.emu = await startEmulator({ port: 0, now: () => now });
});
test.after(async (ctx) => {
  await ctx.emu.close();
});

test('RegisterClient returns a public client with secret and expiry', async ({ emu }) => {
  const r = await oidcClient(emu).send(
    new RegisterClientCommand({ clientName: 'reg', clientType: 'public', scopes: ['sso:account:access'] }),
  );
  assert.ok(r.clientId && r.clientSecret);
  assert.is(r.clientIdIssuedAt, Math.floor(now / 1000));
  assert.is(r.clientSecretExpiresAt, Math.floor(now / 1000) + 90 * 86400);
  const log = emu.requests().filter((e) => e.operation === 'RegisterClient');
  assert.equal(log.at(-1)?.params.clientName, 'reg');
});

test('RegisterClient errors: client type, scope, redirect URI, missing issuerUrl', async ({ emu }) => {
  const oidc = oidcClient(emu);
  let err = await rejects(
    oidc.send(new RegisterClientCommand({ clientName: 'x', clientType: 'confidential' })),
  );
  assert.is(err.name, 'InvalidClientMetadataException');
  assert.is(err.error, 'invalid_client_metadata');
  err = await rejects(
    oidc.send(new RegisterClientCommand({ clientName: 'x', clientType: 'public', scopes: ['admin:all'] })),
  );
  assert.is(err.name, 'InvalidScopeException');
  err = await rejects(
    oidc.send(
      new RegisterClientCommand({
        clientName: 'x',
        clientType: 'public',
        grantTypes: ['authorization_code'],
        redirectUris: ['http://evil.example.com/cb'],
        issuerUrl: emu.startUrl,
      }),
    ),
  );
  assert.is(err.name, 'InvalidRedirectUriException');
  err = await rejects(
    oidc.send(
      new RegisterClientCommand({
        clientName: 'x',
        clientType: 'public',
        grantTypes: ['authorization_code'],
        redirectUris: ['http://127.0.0.1/oauth/callback'],
      }),
    ),
  );
  assert.is(err.name, 'InvalidRequestException');
  assert.is(err.$metadata.httpStatusCode, 400);
});

test('device code: pending, slow down, approve, token once', async ({ emu }) => {
  const oidc = oidcClient(emu);
  const reg = await registerDeviceClient(emu);
  const auth = await oidc.send(new StartDeviceAuthorizationCommand({ ...reg, startUrl: emu.startUrl }));
  assert.match(auth.userCode ?? '', /^[A-Z]{4}-[A-Z]{4}$/);
  assert.is(auth.verificationUri, `${emu.url}/device`);
  assert.is(auth.verificationUriComplete, `${emu.url}/device?user_code=${auth.userCode}`);
  assert.is(auth.expiresIn, 600);
  assert.is(auth.interval, 1);
  const poll = () =>
    oidc.send(new CreateTokenCommand({ ...reg, grantType: DEVICE, deviceCode: auth.deviceCode }));
  let err = await rejects(poll());
  assert.is(err.name, 'AuthorizationPendingException');
  assert.is(err.error, 'authorization_pending');
  err = await rejects(poll());
  assert.is(err.name, 'SlowDownException');
  now += 1000;
  err = await rejects(poll());
  assert.is(err.name, 'AuthorizationPendingException');
  assert.equal(
    emu.admin.listDeviceAuthorizations().find((d) => d.userCode === auth.userCode)?.status,
    'pending',
  );
  emu.admin.approveDevice(auth.userCode);
  const tok = await poll();
  assert.ok(tok.accessToken?.startsWith('aoa'));
  assert.ok(tok.refreshToken?.startsWith('aor'));
  assert.is(tok.tokenType, 'Bearer');
  assert.is(tok.expiresIn, 3600);
  err = await rejects(poll());
  assert.is(err.name, 'InvalidGrantException');
});

test('device code: denied -> AccessDeniedException; expired -> ExpiredTokenException', async ({ emu }) => {
  const oidc = oidcClient(emu);
  const reg = await registerDeviceClient(emu);
  const a1 = await oidc.send(new StartDeviceAuthorizationCommand({ ...reg, startUrl: emu.startUrl }));
  emu.admin.denyDevice(a1.userCode);
  const err = await rejects(
    oidc.send(new CreateTokenCommand({ ...reg, grantType: DEVICE, deviceCode: a1.deviceCode })),
  );
  assert.is(err.name, 'AccessDeniedException');
  assert.is(err.error, 'access_denied');
  const a2 = await oidc.send(new StartDeviceAuthorizationCommand({ ...reg, startUrl: emu.startUrl }));
  now += 601_000;
  const err2 = await rejects(
    oidc.send(new CreateTokenCommand({ ...reg, grantType: DEVICE, deviceCode: a2.deviceCode })),
  );
  assert.is(err2.name, 'ExpiredTokenException');
});

test('client errors: bad secret, wrong start URL, unsupported and unauthorized grants', async ({ emu }) => {
  const oidc = oidcClient(emu);
  const reg = await registerDeviceClient(emu);
  let err = await rejects(
    oidc.send(new StartDeviceAuthorizationCommand({ ...reg, clientSecret: 'nope', startUrl: emu.startUrl })),
  );
  assert.is(err.name, 'InvalidClientException');
  assert.is(err.$metadata.httpStatusCode, 401);
  err = await rejects(
    oidc.send(new StartDeviceAuthorizationCommand({ ...reg, startUrl: 'https://d-000.awsapps.com/start' })),
  );
  assert.is(err.name, 'InvalidRequestException');
  err = await rejects(oidc.send(new CreateTokenCommand({ ...reg, grantType: 'password' })));
  assert.is(err.name, 'UnsupportedGrantTypeException');
  err = await rejects(
    oidc.send(
      new CreateTokenCommand({
        ...reg,
        grantType: 'authorization_code',
        code: 'x',
        redirectUri: 'http://127.0.0.1/cb',
        codeVerifier: 'v',
      }),
    ),
  );
  assert.is(err.name, 'UnauthorizedClientException');
  err = await rejects(
    oidc.send(new CreateTokenCommand({ ...reg, grantType: DEVICE, deviceCode: 'unknown' })),
  );
  assert.is(err.name, 'InvalidGrantException');
  now += 91 * 86400 * 1000;
  err = await rejects(oidc.send(new StartDeviceAuthorizationCommand({ ...reg, startUrl: emu.startUrl })));
  assert.is(err.name, 'InvalidClientException');
  assert.match(err.error_description ?? '', /expired/);
});

test('refresh tokens rotate; the old one, revoked ones and expired ones fail', async ({ emu }) => {
  const oidc = oidcClient(emu);
  emu.admin.setAutoApprove(true);
  const reg = await registerDeviceClient(emu);
  const auth = await oidc.send(new StartDeviceAuthorizationCommand({ ...reg, startUrl: emu.startUrl }));
  emu.admin.setAutoApprove(false);
  const t1 = await oidc.send(
    new CreateTokenCommand({ ...reg, grantType: DEVICE, deviceCode: auth.deviceCode }),
  );
  const refresh = (rt?: string) =>
    oidc.send(new CreateTokenCommand({ ...reg, grantType: 'refresh_token', refreshToken: rt }));
  const t2 = await refresh(t1.refreshToken);
  assert.ok(t2.accessToken && t2.accessToken !== t1.accessToken);
  assert.ok(t2.refreshToken && t2.refreshToken !== t1.refreshToken);
  let err = await rejects(refresh(t1.refreshToken));
  assert.is(err.name, 'InvalidGrantException');
  const t3 = await refresh(t2.refreshToken);
  // Lifetimes settable down to seconds; the session (8 h) bounds the refresh token.
  now += 8 * 3600 * 1000;
  err = await rejects(refresh(t3.refreshToken));
  assert.is(err.name, 'InvalidGrantException');
  assert.match(err.error_description ?? '', /expired/);

  const auth2 = await oidc.send(new StartDeviceAuthorizationCommand({ ...reg, startUrl: emu.startUrl }));
  emu.admin.approveDevice(auth2.userCode);
  const t4 = await oidc.send(
    new CreateTokenCommand({ ...reg, grantType: DEVICE, deviceCode: auth2.deviceCode }),
  );
  assert.is(emu.admin.revokeTokens({ refreshToken: t4.refreshToken }).revoked, 1);
  err = await rejects(refresh(t4.refreshToken));
  assert.is(err.name, 'InvalidGrantException');
  assert.match(err.error_description ?? '', /revoked/);
});

test('registrations without scopes get legacy tokens: no refresh token, 8 h access token', async ({
  emu,
}) => {
  const oidc = oidcClient(emu);
  const reg = await registerDeviceClient(emu, null);
  const auth = await oidc.send(new StartDeviceAuthorizationCommand({ ...reg, startUrl: emu.startUrl }));
  emu.admin.approveDevice(auth.userCode);
  const t = await oidc.send(
    new CreateTokenCommand({ ...reg, grantType: DEVICE, deviceCode: auth.deviceCode }),
  );
  assert.ok(t.refreshToken === undefined, 'no refresh token expected');
  assert.is(t.expiresIn, 8 * 3600);
});

test('PKCE: admin approval follows the redirect to the loopback callback; code single use, verifier checked', async ({
  emu,
}) => {
  const oidc = oidcClient(emu);
  const reg = await registerPkce(emu);
  const cb = await callbackServer();
  try {
    const { verifier, challenge } = pkcePair();
    // The browser's first hop: a redirect to the consent page (no sign-in yet).
    const r = await fetch(authorizeUrl(emu, reg.clientId, cb.url, challenge), { redirect: 'manual' });
    assert.is(r.status, 303);
    assert.match(r.headers.get('location') ?? '', /^\/authorize\/consent\?id=/);
    const [pending] = emu.admin.listAuthorizations().filter((a) => a.status === 'pending');
    assert.ok(pending);
    const [res] = await emu.admin.approveAuthorization({ id: pending.id });
    assert.is(res?.callbackStatus, 200);
    const hit = cb.hits[0];
    assert.ok(hit);
    assert.is(hit.get('state'), 'state-123');
    const code = hit.get('code') ?? '';
    const create = (v: string, c = code, redirectUri = cb.url) =>
      oidc.send(
        new CreateTokenCommand({
          ...reg,
          grantType: 'authorization_code',
          code: c,
          codeVerifier: v,
          redirectUri,
        }),
      );
    let err = await rejects(create(verifier, code, 'http://127.0.0.1:1/oauth/callback'));
    assert.is(err.name, 'InvalidGrantException');
    // A failed attempt burns the code, like the real service.
    err = await rejects(create(verifier));
    assert.is(err.name, 'InvalidGrantException');

    await fetch(authorizeUrl(emu, reg.clientId, cb.url, challenge), { redirect: 'manual' });
    await emu.admin.approveAuthorization();
    const code2 = cb.hits[1]?.get('code') ?? '';
    err = await rejects(create(pkcePair().verifier, code2));
    assert.is(err.name, 'InvalidGrantException');
    assert.match(err.error_description ?? '', /verifier/);

    await fetch(authorizeUrl(emu, reg.clientId, cb.url, challenge), { redirect: 'manual' });
    await emu.admin.approveAuthorization();
    const code3 = cb.hits[2]?.get('code') ?? '';
    const tok = await create(verifier, code3);
    assert.ok(tok.accessToken && tok.refreshToken);
    const refresh = (rt?: string) =>
      oidc.send(new CreateTokenCommand({ ...reg, grantType: 'refresh_token', refreshToken: rt }));
    const refreshed = await refresh(tok.refreshToken);
    assert.ok(refreshed.accessToken);
    // Replaying a code revokes what it produced (RFC 6749 10.5).
    err = await rejects(create(verifier, code3));
    assert.is(err.name, 'InvalidGrantException');
    err = await rejects(refresh(refreshed.refreshToken));
    assert.is(err.name, 'InvalidGrantException');
  } finally {
    await cb.close();
  }
});

test('PKCE: deny redirects with error=access_denied; bad requests redirect with OAuth errors', async ({
  emu,
}) => {
  const reg = await registerPkce(emu);
  const { challenge } = pkcePair();
  const cb = 'http://127.0.0.1:45678/oauth/callback';
  await fetch(authorizeUrl(emu, reg.clientId, cb, challenge), { redirect: 'manual' });
  const [res] = await emu.admin.denyAuthorization({ follow: false });
  const denied = new URL(res?.redirectUrl ?? '');
  assert.is(denied.searchParams.get('error'), 'access_denied');
  assert.is(denied.searchParams.get('state'), 'state-123');

  let r = await fetch(authorizeUrl(emu, reg.clientId, cb, challenge, { code_challenge_method: 'plain' }), {
    redirect: 'manual',
  });
  assert.is(new URL(r.headers.get('location') ?? '').searchParams.get('error'), 'invalid_request');
  r = await fetch(authorizeUrl(emu, reg.clientId, 'http://127.0.0.1:45678/other', challenge), {
    redirect: 'manual',
  });
  assert.is(r.status, 400);
  r = await fetch(authorizeUrl(emu, 'unknown-client', cb, challenge), { redirect: 'manual' });
  assert.is(r.status, 400);

  // Auto-approve answers /authorize with the code directly.
  emu.admin.setAutoApprove(true);
  r = await fetch(authorizeUrl(emu, reg.clientId, cb, challenge), { redirect: 'manual' });
  emu.admin.setAutoApprove(false);
  const loc = new URL(r.headers.get('location') ?? '');
  assert.is(loc.port, '45678');
  assert.ok(loc.searchParams.get('code'));
});

test('request log carries key parameters and never secrets', async ({ emu }) => {
  const log = JSON.stringify(emu.requests());
  assert.not.match(log, /aoa[A-Za-z0-9_-]{20}/);
  assert.not.match(log, /aor[A-Za-z0-9_-]{20}/);
  assert.not.match(log, /eyJraWQi/);
  const grants = emu
    .requests()
    .filter((e) => e.operation === 'CreateToken')
    .map((e) => e.params.grantType);
  assert.ok(
    grants.includes('device_code') &&
      grants.includes('refresh_token') &&
      grants.includes('authorization_code'),
  );
});

test.run();
