// Issue 5 end to end: the sso plugin's PKCE and device-code sign-ins completed by a person in headless
// Chromium on the emulator's pages (the emulator approves nothing by itself), the AWS SDK's fromSSO using our
// token, and a token the SDK refreshed (token-providers fromSso, < 5 minutes left) used by us without a
// sign-in or a refresh of our own.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { fromSSO } from '@aws-sdk/credential-providers';
import { fromSso } from '@aws-sdk/token-providers';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { retry } from '../../plugins/retry/index.js';
import { sso } from '../../plugins/sso/index.js';
import { tokenCacheKey } from '../../src/aws/index.js';
import { DEFAULT_SETTINGS } from '../../src/config/defaults.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import type { SsoOptions } from '../../plugins/sso/index.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { testAwsHome, type TestAwsHome } from '../../src/testing/index.js';
import { testPrompt } from '../../src/testing/index.js';
import { captureLogger } from '../helpers/logger.js';
import { testIf } from '../helpers/system.js';
import {
  CHROMIUM,
  fillSignInForm,
  hasChromium,
  launchChromium,
  ssoConfig,
  uniqueSession,
  withTimeout,
  type Browser,
} from './helpers.js';

const base = suite('sign-in through a real browser');
const test = testIf(base, hasChromium, `${CHROMIUM} is not installed (Debian package chromium)`);

let emu: RunningEmulator;
let home: TestAwsHome;
let browser: Browser | undefined;
const session = uniqueSession('browser');

base.before(async () => {
  emu = await startEmulator({ port: 0, autoApprove: false });
  home = testAwsHome({ config: ssoConfig(emu.startUrl, session), emulatorEnv: emu.env() });
  if (hasChromium) browser = await launchChromium();
});
base.after(async () => {
  await browser?.close();
  await emu.close();
  home.cleanup();
});

interface Person {
  openUrl: (url: string) => Promise<void>;
  /** Everything the person saw, once they are done (rejects with what went wrong in the browser). */
  done(): Promise<Record<string, string>>;
  urls: string[];
}

/**
 * The person at the browser: `openUrl` opens the URL in Chromium and returns, as `open` does; the person
 * then signs in with the form and clicks Allow on whatever page the flow shows.
 */
function person(flow: 'pkce' | 'device'): Person {
  const urls: string[] = [];
  let acting: Promise<Record<string, string>> | undefined;
  const act = async (page: Page): Promise<Record<string, string>> => {
    const seen: Record<string, string> = {};
    try {
      await fillSignInForm(page);
      await page.waitForSelector('#allow');
      seen.clientName = (await page.textContent('#client-name')) ?? '';
      if (flow === 'device') {
        seen.userCode = (await page.textContent('#user-code')) ?? '';
        await page.click('#allow');
        await page.waitForSelector('#result');
      } else {
        // Allow sends the browser to stormtunnel's callback on 127.0.0.1.
        await Promise.all([page.waitForURL(/\/oauth\/callback\?/), page.click('#allow')]);
        seen.callback = page.url();
      }
      seen.h1 = (await page.textContent('h1')) ?? '';
      return seen;
    } finally {
      await page.close();
    }
  };
  return {
    urls,
    async openUrl(url) {
      if (!browser) throw new Error('no browser');
      urls.push(url);
      await browser.context.clearCookies(); // a new sign-in with the form each time
      const page = await browser.context.newPage();
      page.setDefaultTimeout(15_000);
      await page.goto(url);
      acting = act(page);
      acting.catch(() => undefined); // awaited by done()
    },
    done() {
      return acting ?? Promise.reject(new Error('the browser was never opened'));
    },
  };
}

/** The engine, and every line shown to the person (sign-in URLs and codes). */
async function engineWith(options: SsoOptions): Promise<{ engine: Engine; said: string[] }> {
  const prompt = testPrompt();
  const engine = await createEngine({
    plugins: [sso(options), retry({ baseDelay: '50ms', jitter: false })],
    settings: DEFAULT_SETTINGS,
    logger: captureLogger(),
    services: { prompt },
  });
  return { engine, said: prompt.said };
}

const ops = (name: string, grant?: string) =>
  emu.requests().filter((r) => r.operation === name && (grant === undefined || r.params.grantType === grant));

const cacheFile = () => join(home.cacheDir, `${tokenCacheKey({ ssoSessionName: session })}.json`);
const cachedAccessToken = () =>
  (JSON.parse(readFileSync(cacheFile(), 'utf8')) as { accessToken?: string }).accessToken;

const creds = (profile: string) => ({
  profile,
  region: 'us-east-1',
  purpose: { kind: 'library' as const },
  chain: [],
  allowSignIn: false,
});

test('PKCE: the person signs in and clicks Allow; the SDK fromSSO uses our token as it is', async () => {
  emu.admin.clearRequests();
  const who = person('pkce');
  const { engine } = await engineWith({ openUrl: who.openUrl });
  try {
    const result = await withTimeout(engine.signIn({ profile: 'dev' }), 60_000, 'PKCE sign-in');
    const seen = await who.done();
    assert.is(result.session, session);
    assert.ok(result.refreshable);
    assert.is(who.urls.length, 1, 'one browser tab');
    assert.match(who.urls[0]!, new RegExp(`^${emu.url}/authorize\\?`));
    assert.is(seen.clientName, `stormtunnel-${session}`);
    assert.match(seen.callback!, /^http:\/\/127\.0\.0\.1:\d+\/oauth\/callback\?code=/);
    assert.is(seen.h1, 'Signed in to stormtunnel');

    // What the emulator saw: the person's decision, one code exchange, nothing approved behind the scenes.
    assert.equal(
      ops('AuthorizeDecision').map((r) => r.params.decision),
      ['allow'],
    );
    assert.is(ops('CreateToken', 'authorization_code').filter((r) => r.status === 200).length, 1);
    assert.is(ops('StartDeviceAuthorization').length, 0);

    const ours = await engine.getSsoToken({ profile: 'dev' });
    assert.is(cachedAccessToken(), ours.accessToken, 'shared through the AWS CLI cache');

    // The AWS SDK's own SSO credential provider reads that cache: role credentials with our token.
    emu.admin.clearRequests();
    const sdkCreds = await fromSSO({ profile: 'dev' })();
    const id = await new STSClient({ region: 'us-east-1', credentials: sdkCreds }).send(
      new GetCallerIdentityCommand({}),
    );
    assert.is(id.Account, '111111111111');
    assert.match(id.Arn ?? '', /assumed-role\/AWSReservedSSO_AdministratorAccess/);
    assert.is(ops('GetRoleCredentials').filter((r) => r.status === 200).length, 1);
    assert.is(ops('CreateToken').length, 0, 'a token with an hour left is used as it is');
    assert.is(cachedAccessToken(), ours.accessToken);
  } finally {
    await engine.shutdown({ reason: 'command-done' });
  }
});

test('device code: the page shows the code we printed, Allow; a token the SDK refreshed is ours without a sign-in', async () => {
  emu.admin.clearRequests();
  // Tokens issued now have 2 minutes: less than the SDK's (and our) 5-minute refresh window.
  emu.admin.setSettings({ accessTokenSeconds: 120 });
  const who = person('device');
  const { engine, said: lines } = await engineWith({
    openUrl: who.openUrl,
    sessions: { [session]: { useDeviceCode: true } },
  });
  try {
    const result = await withTimeout(engine.signIn({ profile: 'dev' }), 60_000, 'device-code sign-in');
    const seen = await who.done();
    assert.is(result.session, session);
    assert.ok(result.refreshable);
    const printed = lines.map((l) => /confirm the code ([A-Z]{4}-[A-Z]{4}) at:/.exec(l)?.[1]).find(Boolean);
    assert.ok(printed, `the code is printed: ${lines.join(' | ')}`);
    assert.is(seen.userCode, printed, 'the page shows the code stormtunnel printed');
    assert.match(who.urls[0]!, new RegExp(`^${emu.url}/device\\?user_code=${printed}`));
    assert.is(seen.h1, 'Request approved');
    assert.equal(
      ops('DeviceDecision').map((r) => [r.params.decision, r.params.userCode]),
      [['allow', printed]],
    );
    assert.is(ops('StartDeviceAuthorization').length, 1);
    assert.is(ops('CreateToken', 'device_code').filter((r) => r.status === 200).length, 1);

    const signedIn = await engine.getSsoToken({ profile: 'dev' });
    assert.ok(signedIn.expiresAt.getTime() - Date.now() < 5 * 60_000, 'near expiry');
    assert.is(cachedAccessToken(), signedIn.accessToken);

    // The AWS SDK refreshes the near-expiry token in the shared cache (tokens are back to an hour).
    emu.admin.setSettings({ accessTokenSeconds: 3600 });
    emu.admin.clearRequests();
    const sdkToken = await fromSso({ profile: 'dev' })();
    assert.is(ops('CreateToken', 'refresh_token').filter((r) => r.status === 200).length, 1, 'SDK refreshed');
    assert.is.not(sdkToken.token, signedIn.accessToken);
    assert.is(cachedAccessToken(), sdkToken.token, 'the SDK wrote it to the cache');

    // We (still holding the old token in memory) use the SDK's token: no sign-in, no refresh of our own.
    const after = await engine.getSsoToken({ profile: 'dev' });
    assert.is(after.accessToken, sdkToken.token);
    assert.ok(after.expiresAt.getTime() - Date.now() > 50 * 60_000);
    const c = await engine.resolveCredentials(creds('dev'));
    assert.is(c.accountId, '111111111111');
    assert.equal(
      emu
        .requests()
        .filter((r) => r.service === 'sso-oidc' || r.service === 'sso')
        .map((r) => [r.operation, r.params.grantType ?? '', r.status]),
      [
        ['CreateToken', 'refresh_token', 200],
        ['GetRoleCredentials', '', 200],
      ],
    );
    assert.is(ops('StartDeviceAuthorization').length + ops('Authorize').length, 0);
    assert.is(who.urls.length, 1, 'the browser was opened once, for the sign-in');
  } finally {
    emu.admin.setSettings({ accessTokenSeconds: 3600 });
    await engine.shutdown({ reason: 'command-done' });
  }
});

base.run();
