// The device verification and authorize pages driven by headless Debian Chromium (playwright-core):
// sign in, Allow / Deny, and the OAuth redirect back to a loopback callback.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { CreateTokenCommand, StartDeviceAuthorizationCommand } from '@aws-sdk/client-sso-oidc';
import {
  SEED_PASSWORD,
  SEED_USERNAME,
  startEmulator,
  type RunningEmulator,
} from '../../src/emulator/index.js';
import { CHROMIUM, hasChromium, launchChromium, type Browser } from '../helpers/chromium.js';
import { testIf } from '../helpers/system.js';
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

let emu: RunningEmulator;
let browser: Browser | undefined;
const base = suite('pages in chromium');
const test = testIf(base, hasChromium, `${CHROMIUM} is not installed`);

base.before(async () => {
  emu = await startEmulator({ port: 0 });
  if (!hasChromium) return;
  browser = await launchChromium();
});
base.after(async () => {
  await browser?.close();
  await emu.close();
});

/** A new page with an empty cookie jar, so each test signs in. */
async function withPage<T>(fn: (page: Page) => Promise<T>): Promise<T> {
  if (!browser) throw new Error('no browser');
  await browser.context.clearCookies();
  const page = await browser.context.newPage();
  try {
    page.setDefaultTimeout(10_000);
    return await fn(page);
  } finally {
    await page.close();
  }
}

async function signIn(page: Page, password = SEED_PASSWORD) {
  await page.fill('#username', SEED_USERNAME);
  await page.fill('#password', password);
  await Promise.all([page.waitForLoadState('load'), page.click('#signin')]);
}

test('device page: wrong password is refused, sign in, code shown, Allow -> CreateToken succeeds', async () => {
  const oidc = oidcClient(emu);
  const reg = await registerDeviceClient(emu);
  const auth = await oidc.send(new StartDeviceAuthorizationCommand({ ...reg, startUrl: emu.startUrl }));
  await withPage(async (page) => {
    await page.goto(auth.verificationUriComplete!);
    await signIn(page, 'wrong-password');
    assert.match((await page.textContent('#error')) ?? '', /Invalid username or password/);
    await signIn(page);
    assert.is(await page.textContent('#user-code'), auth.userCode);
    assert.is(await page.textContent('#client-name'), 'stormtunnel-test');
    await page.click('#allow');
    await page.waitForSelector('#result');
    assert.is(await page.textContent('h1'), 'Request approved');
  });
  const tok = await oidc.send(
    new CreateTokenCommand({ ...reg, grantType: DEVICE, deviceCode: auth.deviceCode }),
  );
  assert.ok(tok.accessToken && tok.refreshToken);
  const approved = emu.requests().find((e) => e.operation === 'DeviceDecision');
  assert.is(approved?.params.decision, 'allow');
  assert.is(approved?.params.userCode, auth.userCode);
});

test('device page: code typed by hand, Deny -> AccessDeniedException', async () => {
  const oidc = oidcClient(emu);
  const reg = await registerDeviceClient(emu);
  const auth = await oidc.send(new StartDeviceAuthorizationCommand({ ...reg, startUrl: emu.startUrl }));
  await withPage(async (page) => {
    await page.goto(auth.verificationUri!);
    await signIn(page);
    await page.fill('#user-code-input', auth.userCode!.toLowerCase());
    await Promise.all([page.waitForLoadState('load'), page.click('#next')]);
    assert.is(await page.textContent('#user-code'), auth.userCode);
    await page.click('#deny');
    await page.waitForSelector('#result');
    assert.is(await page.textContent('h1'), 'Request denied');
  });
  const err = await rejects(
    oidc.send(new CreateTokenCommand({ ...reg, grantType: DEVICE, deviceCode: auth.deviceCode })),
  );
  assert.is(err.name, 'AccessDeniedException');
});

test('authorize page: sign in, Allow -> browser lands on the callback with code and state; token via PKCE', async () => {
  const reg = await registerPkce(emu, 'pkce-browser');
  const cb = await callbackServer();
  try {
    const { verifier, challenge } = pkcePair();
    const state = crypto.randomUUID();
    await withPage(async (page) => {
      await page.goto(authorizeUrl(emu, reg.clientId, cb.url, challenge, { state }));
      await signIn(page);
      assert.is(await page.textContent('#client-name'), 'pkce-browser');
      await Promise.all([page.waitForURL(/\/oauth\/callback\?/), page.click('#allow')]);
      assert.is(await page.textContent('#done'), 'Login complete');
    });
    const hit = cb.hits.at(-1);
    assert.is(hit?.get('state'), state);
    const tok = await oidcClient(emu).send(
      new CreateTokenCommand({
        ...reg,
        grantType: 'authorization_code',
        code: hit?.get('code') ?? '',
        codeVerifier: verifier,
        redirectUri: cb.url,
      }),
    );
    assert.ok(tok.accessToken && tok.refreshToken);
  } finally {
    await cb.close();
  }
});

test('authorize page: Deny -> callback gets error=access_denied', async () => {
  const reg = await registerPkce(emu, 'pkce-browser');
  const cb = await callbackServer();
  try {
    const { challenge } = pkcePair();
    await withPage(async (page) => {
      await page.goto(authorizeUrl(emu, reg.clientId, cb.url, challenge, { state: 's-deny' }));
      await signIn(page);
      await Promise.all([page.waitForURL(/\/oauth\/callback\?/), page.click('#deny')]);
    });
    const hit = cb.hits.at(-1);
    assert.is(hit?.get('error'), 'access_denied');
    assert.is(hit?.get('state'), 's-deny');
    assert.is(hit?.get('code'), null);
  } finally {
    await cb.close();
  }
});

test('authorize page: an admin approval while the page is open moves the browser to the callback', async () => {
  const reg = await registerPkce(emu, 'pkce-browser');
  const cb = await callbackServer();
  try {
    const { challenge } = pkcePair();
    await withPage(async (page) => {
      await page.goto(authorizeUrl(emu, reg.clientId, cb.url, challenge, { state: 's-admin' }));
      await signIn(page);
      await page.waitForSelector('#allow');
      const pending = emu.admin.listAuthorizations().filter((a) => a.status === 'pending');
      assert.is(pending.length, 1);
      await emu.admin.approveAuthorization({ id: pending[0]!.id, follow: false });
      await page.waitForURL(/\/oauth\/callback\?/);
    });
    assert.is(cb.hits.at(-1)?.get('state'), 's-admin');
    assert.ok(cb.hits.at(-1)?.get('code'));
  } finally {
    await cb.close();
  }
});

test('start page lists the accounts after sign-in', async () => {
  await withPage(async (page) => {
    await page.goto(emu.startUrl);
    await signIn(page);
    assert.is(await page.textContent('#signed-in-user'), SEED_USERNAME);
    assert.match((await page.textContent('#accounts')) ?? '', /sandbox \(111111111111\)/);
  });
});

base.run();
