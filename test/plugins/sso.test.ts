import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fromSSO } from '@aws-sdk/credential-providers';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sso } from '../../plugins/sso/index.js';
import { retry } from '../../plugins/retry/index.js';
import { tokenCacheKey } from '../../src/aws/index.js';
import { DEFAULT_SETTINGS } from '../../src/config/defaults.js';
import { FakeClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import type { StormtunnelPlugin } from '../../src/engine/plugin.js';
import type { ExpiryNotice, ReauthNotice, Settings, TokenEvent } from '../../src/engine/types.js';
import { startEmulator } from '../../src/emulator/index.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { seedConfig } from '../helpers/seed-config.js';
import { testAwsHome, type TestAwsHome } from '../../src/testing/index.js';
import { advanceUntil } from '../helpers/fake-time.js';
import { waitFor } from '../helpers/wait.js';
import { captureLogger } from '../helpers/logger.js';
import { testPrompt } from '../../src/testing/index.js';

interface Ctx {
  emu: RunningEmulator;
  home: TestAwsHome;
}

async function setup(
  opts: { clock?: FakeClock; emulatorState?: Record<string, unknown>; autoApprove?: boolean } = {},
): Promise<Ctx> {
  const emu = await startEmulator({
    port: 0,
    autoApprove: opts.autoApprove ?? true,
    ...(opts.clock ? { now: () => opts.clock!.now() } : {}),
    ...(opts.emulatorState ? { state: opts.emulatorState } : {}),
  });
  const home = testAwsHome({ config: seedConfig(emu.startUrl), emulatorEnv: emu.env() });
  return { emu, home };
}

async function engineFor(
  plugins: StormtunnelPlugin[],
  extra: { clock?: FakeClock; settings?: Partial<Settings> } = {},
) {
  const logger = captureLogger();
  const prompt = testPrompt();
  const engine = await createEngine({
    plugins,
    settings: { ...DEFAULT_SETTINGS, ...extra.settings },
    logger,
    ...(extra.clock ? { clock: extra.clock } : {}),
    services: { prompt },
  });
  return { engine, logger, said: prompt.said };
}

const creds = (profile: string, allowSignIn = false) => ({
  profile,
  region: 'us-east-1',
  purpose: { kind: 'library' as const },
  chain: [],
  allowSignIn,
});

const grants = (emu: RunningEmulator, grant: string) =>
  emu
    .requests()
    .filter(
      (r) => r.operation === 'CreateToken' && String(r.params.grantType).includes(grant) && r.status === 200,
    );

const flows = suite('sign-in flows');
let ctx: Ctx;
flows.before.each(async () => {
  ctx = await setup();
});
flows.after.each(async () => {
  await ctx.emu.close();
  ctx.home.cleanup();
});

flows('device code sign-in writes the AWS CLI cache (0600) that the SDK fromSSO uses', async () => {
  const { engine, said } = await engineFor([sso({ sessions: { work: { useDeviceCode: true } } })]);
  const result = await engine.signIn({ profile: 'dev', noBrowser: true });
  assert.is(result.session, 'work');
  assert.ok(result.refreshable);
  assert.ok(
    said.some((l) => /confirm the code [A-Z]{4}-[A-Z]{4} at:/.test(l)),
    'prints the code and URL',
  );
  const file = join(ctx.home.cacheDir, `${tokenCacheKey({ ssoSessionName: 'work' })}.json`);
  assert.is(statSync(file).mode & 0o777, 0o600);
  const cached = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  assert.is(cached.startUrl, ctx.emu.startUrl);
  assert.ok(typeof cached.refreshToken === 'string');
  // The AWS SDK reads our cache and gets role credentials with it.
  const sdkCreds = await fromSSO({ profile: 'dev' })();
  const who = await new STSClient({ region: 'us-east-1', credentials: sdkCreds }).send(
    new GetCallerIdentityCommand({}),
  );
  assert.is(who.Account, '111111111111');
  assert.match(who.Arn ?? '', /assumed-role\/AWSReservedSSO_AdministratorAccess/);
  await engine.shutdown({ reason: 'command-done' });
});

flows(
  'PKCE sign-in: callback on 127.0.0.1 with state checked, code exchanged with the verifier',
  async () => {
    ctx.emu.admin.setAutoApprove(false);
    const opened: string[] = [];
    const openUrl = async (url: string) => {
      opened.push(url);
      // What the browser and the person do: load the authorize page, then approve; the emulator follows
      // the redirect to our callback.
      await (await fetch(url)).text();
      setTimeout(() => void ctx.emu.admin.approveAuthorization({ follow: true }), 50);
    };
    const { engine } = await engineFor([sso({ openUrl })]);
    const result = await engine.signIn({ profile: 'dev' });
    assert.is(result.session, 'work');
    const u = new URL(opened[0]!);
    assert.is(u.origin + u.pathname, `${ctx.emu.url}/authorize`);
    assert.is(u.searchParams.get('code_challenge_method'), 'S256');
    assert.match(u.searchParams.get('redirect_uri')!, /^http:\/\/127\.0\.0\.1:\d+\/oauth\/callback$/);
    assert.is(u.searchParams.get('scopes'), 'sso:account:access');
    assert.is(grants(ctx.emu, 'authorization_code').length, 1);
    await engine.shutdown({ reason: 'command-done' });
  },
);

flows('a denied PKCE sign-in fails with the product message, not a hang', async () => {
  ctx.emu.admin.setAutoApprove(false);
  const openUrl = async (url: string) => {
    await (await fetch(url)).text();
    setTimeout(() => void ctx.emu.admin.denyAuthorization({ follow: true }), 50);
  };
  const { engine } = await engineFor([sso({ openUrl })]);
  try {
    await engine.signIn({ profile: 'dev' });
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /sign-in was not completed: access_denied/);
  }
  await engine.shutdown({ reason: 'command-done' });
});

flows('registration is reused for the same flow and not across flows', async () => {
  const { engine } = await engineFor([sso({ sessions: { work: { useDeviceCode: true } } })]);
  await engine.signIn({ profile: 'dev', noBrowser: true });
  await engine.signIn({ profile: 'dev', noBrowser: true, useDeviceCode: true });
  const registrations = () => ctx.emu.requests().filter((r) => r.operation === 'RegisterClient').length;
  assert.is(registrations(), 1, 'second device sign-in reuses the registration');
  // With auto-approve, loading the authorize page redirects straight to our callback, as after a click.
  const { engine: pkce } = await engineFor([sso({ openUrl: async (url) => void (await fetch(url)).text() })]);
  await pkce.signIn({ profile: 'dev', noBrowser: false });
  assert.is(registrations(), 2, 'PKCE needs its own registration');
  await engine.shutdown({ reason: 'command-done' });
  await pkce.shutdown({ reason: 'command-done' });
});

flows(
  'role credentials: resolved for an SSO profile, cached, and every profile of a session shares one sign-in',
  async () => {
    const { engine } = await engineFor([sso({ sessions: { work: { useDeviceCode: true } } })]);
    try {
      await engine.resolveCredentials(creds('dev'));
      assert.unreachable('no sign-in yet and none allowed');
    } catch (err) {
      assert.match(
        (err as Error).message,
        /SSO Authentication Required: not signed in for SSO session "work"/,
      );
    }
    const a = await engine.resolveCredentials(creds('dev', true));
    const b = await engine.resolveCredentials(creds('dev'));
    assert.is(a.accessKeyId, b.accessKeyId, 'cached');
    const ro = await engine.resolveCredentials(creds('readonly'));
    assert.is.not(ro.accessKeyId, a.accessKeyId);
    assert.is(
      ctx.emu.requests().filter((r) => r.operation === 'StartDeviceAuthorization').length,
      1,
      'one sign-in for both',
    );
    assert.is(ctx.emu.requests().filter((r) => r.operation === 'GetRoleCredentials').length, 2);
    await engine.shutdown({ reason: 'command-done' });
  },
);

flows(
  'a token the AWS CLI (or SDK) wrote is used by us; legacy sessions are keyed by start URL',
  async () => {
    // First sign in through one engine, then a second engine (another "tool") reads the shared cache.
    const { engine: first } = await engineFor([sso({ sessions: { work: { useDeviceCode: true } } })]);
    await first.signIn({ profile: 'legacy', noBrowser: true });
    const files = readdirSync(ctx.home.cacheDir);
    assert.ok(files.includes(`${tokenCacheKey({ startUrl: ctx.emu.startUrl })}.json`));
    const { engine: second } = await engineFor([sso()]);
    const c = await second.resolveCredentials(creds('legacy'));
    assert.is(c.accountId, '222222222222');
    assert.is(ctx.emu.requests().filter((r) => r.operation === 'StartDeviceAuthorization').length, 1);
    const report = await second.collectStatus({ profiles: [], live: false });
    const legacy = report.entries.find((e) => e.name.includes('(legacy)'));
    assert.ok(legacy);
    assert.match(legacy.detail ?? '', /cannot refresh: legacy profiles/);
    await first.shutdown({ reason: 'command-done' });
    await second.shutdown({ reason: 'command-done' });
  },
);

flows('logout calls SSO Logout, removes the token from the cache and drops role credentials', async () => {
  const { engine } = await engineFor([sso({ sessions: { work: { useDeviceCode: true } } })]);
  await engine.resolveCredentials(creds('dev', true));
  await engine.signOut({ profile: 'dev' });
  assert.is(ctx.emu.requests().filter((r) => r.operation === 'Logout').length, 1);
  assert.not.ok(readdirSync(ctx.home.cacheDir).includes(`${tokenCacheKey({ ssoSessionName: 'work' })}.json`));
  try {
    await engine.resolveCredentials(creds('dev'));
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /SSO Authentication Required/);
  }
  await engine.shutdown({ reason: 'command-done' });
});

flows('a cached registration the service no longer knows is replaced (device flow)', async () => {
  const { engine } = await engineFor([sso({ sessions: { work: { useDeviceCode: true } } })]);
  await engine.signIn({ profile: 'dev', noBrowser: true });
  await ctx.emu.admin.reset(); // forgets every client registration, like a restarted emulator
  ctx.emu.admin.setAutoApprove(true);
  const again = await engine.signIn({ profile: 'dev', noBrowser: true });
  assert.is(again.session, 'work');
  assert.is(ctx.emu.requests().filter((r) => r.operation === 'RegisterClient' && r.status === 200).length, 1);
  await engine.shutdown({ reason: 'command-done' });
});

flows('a stored token for another start URL is not used for the session', async () => {
  const { MemoryTokenStore } = await import('../../src/engine/default-services.js');
  const store = new MemoryTokenStore();
  await store.set({
    session: 'work',
    startUrl: 'https://other-org.awsapps.com/start',
    region: 'us-east-1',
    accessToken: 'token-of-another-org',
    expiresAt: new Date(Date.now() + 3_600_000),
  });
  const engine = await createEngine({
    plugins: [sso()],
    settings: DEFAULT_SETTINGS,
    logger: captureLogger(),
    services: { tokenStore: store, prompt: testPrompt() },
  });
  try {
    await engine.resolveCredentials(creds('dev'));
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /not signed in for SSO session "work"/);
  }
  assert.is(
    ctx.emu.requests().filter((r) => r.operation === 'GetRoleCredentials').length,
    0,
    'the wrong token is never sent',
  );
  await engine.shutdown({ reason: 'command-done' });
});

flows.run();

const refresh = suite('refresh in fake time');

refresh(
  '1-minute tokens over 30 minutes: refreshed at the threshold, onTokenExpiring fires, no request fails',
  async () => {
    const clock = new FakeClock(Date.now());
    const c = await setup({ clock, emulatorState: { settings: { accessTokenSeconds: 60 } } });
    try {
      const expiring: ExpiryNotice[] = [];
      const changed: TokenEvent[] = [];
      const watcher: StormtunnelPlugin = {
        name: 'watcher',
        apply(api) {
          api.hooks.onTokenExpiring.tap((n) => void expiring.push(n));
          api.hooks.onTokenChanged.tap((e) => void changed.push(e));
        },
      };
      const { engine } = await engineFor(
        [sso({ sessions: { work: { useDeviceCode: true } } }), retry(), watcher],
        {
          clock,
          settings: { earlyRefreshThresholdMs: 20_000, refreshCheckIntervalMs: 10_000 },
        },
      );
      await advanceUntil(clock, engine.signIn({ profile: 'dev', noBrowser: true }));
      await engine.start({ longRunning: true });
      let failures = 0;
      for (let t = 0; t < 30 * 60; t += 10) {
        await clock.advance(10_000);
        await advanceUntil(clock, engine.resolveCredentials(creds('dev')), 10).catch(() => failures++);
        await advanceUntil(clock, engine.getSsoToken({ profile: 'dev' }), 10).catch(() => failures++);
      }
      assert.is(failures, 0);
      // A refresh the last check started may still be waiting for its answer: let it land before counting.
      await advanceUntil(clock, new Promise((r) => setTimeout(r, 200)), 0);
      const refreshes = grants(c.emu, 'refresh_token').length;
      // A 60 s token refreshed 20 s before expiry, checked every 10 s: one refresh every 40-50 s.
      assert.ok(refreshes >= 36 && refreshes <= 46, `refreshes: ${refreshes}`);
      assert.ok(expiring.length >= refreshes, `onTokenExpiring fired ${expiring.length} times`);
      assert.ok(expiring.every((n) => n.remainingMs <= 20_000 && n.refreshable));
      assert.is(changed.filter((e) => e.how === 'refresh').length, refreshes);
      await engine.shutdown({ reason: 'command-done' });
    } finally {
      await c.emu.close();
      c.home.cleanup();
    }
  },
);

refresh('a revoked refresh token leads to re-authentication with the right message', async () => {
  const clock = new FakeClock(Date.now());
  const c = await setup({ clock, emulatorState: { settings: { accessTokenSeconds: 60 } } });
  try {
    const reauth: ReauthNotice[] = [];
    const watcher: StormtunnelPlugin = {
      name: 'watcher',
      apply: (api) => api.hooks.onReauthRequired.tap((n) => void reauth.push(n)),
    };
    const { engine, logger } = await engineFor(
      [sso({ sessions: { work: { useDeviceCode: true } } }), retry(), watcher],
      {
        clock,
        settings: { earlyRefreshThresholdMs: 20_000, refreshCheckIntervalMs: 10_000 },
      },
    );
    await advanceUntil(clock, engine.signIn({ profile: 'dev', noBrowser: true }));
    await engine.start({ longRunning: true });
    c.emu.admin.revokeTokens({ all: true });
    // Past the 60 s token's expiry. A check whose refresh is still waiting for the emulator's answer makes
    // the ticks after it skip (one pass at a time), so the raise is awaited, not assumed after each tick.
    for (let i = 0; i < 7; i++) await clock.advance(10_000);
    await waitFor(() => reauth.length > 0, 30_000, 're-authentication raised');
    // Later checks neither ask again with the refused refresh token nor raise again.
    for (let i = 0; i < 5; i++) await clock.advance(10_000);
    const refreshAsks = c.emu
      .requests()
      .filter((r) => r.operation === 'CreateToken' && String(r.params.grantType).includes('refresh_token'));
    assert.is(refreshAsks.length, 1, 'the refused refresh token is not sent again');
    assert.is.not(refreshAsks[0]!.status, 200);
    assert.is(reauth.length, 1, 'raised once, not on every check');
    assert.is(reauth[0]!.session, 'work');
    assert.match(reauth[0]!.reason, /could not be refreshed/);
    try {
      await advanceUntil(clock, engine.resolveCredentials(creds('dev')));
      assert.unreachable();
    } catch (err) {
      if (!/^SSO Authentication Required/.test((err as Error).message)) throw err;
      assert.is((err as { exitCode: number }).exitCode, 3);
    }
    assert.ok(logger.records.some((r) => /silent refresh of work failed/.test(r.msg)));
    await engine.shutdown({ reason: 'command-done' });
  } finally {
    await c.emu.close();
    c.home.cleanup();
  }
});

refresh.run();
