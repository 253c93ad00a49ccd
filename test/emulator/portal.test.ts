// SSO portal against the emulator with the real SDK: listing with pagination, role credentials, Logout,
// 401 for unknown/expired/revoked tokens, and the SDK's own fromSSO provider reading a token cache.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  GetRoleCredentialsCommand,
  ListAccountRolesCommand,
  ListAccountsCommand,
  LogoutCommand,
  paginateListAccountRoles,
} from '@aws-sdk/client-sso';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { fromSSO } from '@aws-sdk/credential-providers';
import { startEmulator, ssoRoleArn, type RunningEmulator } from '../../src/emulator/index.js';
import { deviceLogin, rejects, ssoClient, stsClient } from './helpers.js';

let now = Date.UTC(2026, 10, 21, 12, 0, 0);
const test = suite<{ emu: RunningEmulator; token: string }>('sso-portal');

test.before(async (ctx) => {
  ctx.emu = await startEmulator({ port: 0, now: () => now });
  ctx.token = (await deviceLogin(ctx.emu)).token.accessToken!;
});
test.after(async (ctx) => {
  await ctx.emu.close();
});

test('ListAccounts pages with max_result / next_token', async ({ emu, token }) => {
  const sso = ssoClient(emu);
  const p1 = await sso.send(new ListAccountsCommand({ accessToken: token, maxResults: 1 }));
  assert.equal(p1.accountList, [
    { accountId: '111111111111', accountName: 'sandbox', emailAddress: 'sandbox@example.com' },
  ]);
  assert.ok(p1.nextToken);
  const p2 = await sso.send(
    new ListAccountsCommand({ accessToken: token, maxResults: 1, nextToken: p1.nextToken }),
  );
  assert.is(p2.accountList?.[0]?.accountId, '222222222222');
  assert.is(p2.nextToken, undefined);
  const err = await rejects(sso.send(new ListAccountsCommand({ accessToken: token, nextToken: 'garbage' })));
  assert.is(err.name, 'InvalidRequestException');
});

test('ListAccountRoles with the SDK paginator', async ({ emu, token }) => {
  const roles: string[] = [];
  for await (const page of paginateListAccountRoles(
    { client: ssoClient(emu), pageSize: 2 },
    { accessToken: token, accountId: '222222222222' },
  )) {
    roles.push(...(page.roleList ?? []).map((r) => r.roleName ?? ''));
  }
  assert.equal(roles, ['Developer', 'ReadOnly', 'Billing']);
  const log = emu.requests().filter((e) => e.operation === 'ListAccountRoles');
  assert.is(log.length, 2);
  assert.is(log[0]?.params.accountId, '222222222222');
});

test('GetRoleCredentials: credentials STS accepts; unassigned role -> ForbiddenException', async ({
  emu,
  token,
}) => {
  const sso = ssoClient(emu);
  const r = await sso.send(
    new GetRoleCredentialsCommand({
      accessToken: token,
      accountId: '111111111111',
      roleName: 'AdministratorAccess',
    }),
  );
  const c = r.roleCredentials!;
  assert.match(c.accessKeyId ?? '', /^ASIA[A-Z0-9]{16}$/);
  assert.is(c.expiration, now + 3600_000);
  const id = await stsClient(emu, {
    accessKeyId: c.accessKeyId!,
    secretAccessKey: c.secretAccessKey!,
    sessionToken: c.sessionToken!,
  }).send(new GetCallerIdentityCommand({}));
  assert.is(id.Account, '111111111111');
  const roleResource = ssoRoleArn('111111111111', 'AdministratorAccess').split('/').pop();
  assert.is(id.Arn, `arn:aws:sts::111111111111:assumed-role/${roleResource}/dev`);
  const err = await rejects(
    sso.send(
      new GetRoleCredentialsCommand({ accessToken: token, accountId: '111111111111', roleName: 'Nope' }),
    ),
  );
  assert.is(err.name, 'ForbiddenException');
  assert.is(err.$metadata.httpStatusCode, 403);
  const entry = emu.requests().find((e) => e.operation === 'GetRoleCredentials' && e.status === 200);
  assert.equal(entry?.params, {
    accountId: '111111111111',
    roleName: 'AdministratorAccess',
    username: 'dev',
  });
});

test('401 UnauthorizedException for unknown, expired and logged-out tokens', async ({ emu }) => {
  const sso = ssoClient(emu);
  let err = await rejects(sso.send(new ListAccountsCommand({ accessToken: 'aoa-unknown' })));
  assert.is(err.name, 'UnauthorizedException');
  assert.is(err.$metadata.httpStatusCode, 401);

  const { token } = await deviceLogin(emu);
  await sso.send(new ListAccountsCommand({ accessToken: token.accessToken }));
  now += 3600_000;
  err = await rejects(sso.send(new ListAccountsCommand({ accessToken: token.accessToken })));
  assert.is(err.name, 'UnauthorizedException');

  const second = await deviceLogin(emu);
  await sso.send(new LogoutCommand({ accessToken: second.token.accessToken }));
  err = await rejects(
    sso.send(
      new GetRoleCredentialsCommand({
        accessToken: second.token.accessToken,
        accountId: '111111111111',
        roleName: 'ReadOnly',
      }),
    ),
  );
  assert.is(err.name, 'UnauthorizedException');
  err = await rejects(sso.send(new LogoutCommand({ accessToken: second.token.accessToken })));
  assert.is(err.name, 'UnauthorizedException');

  const third = await deviceLogin(emu);
  emu.admin.revokeTokens({ username: 'dev' });
  err = await rejects(
    sso.send(
      new ListAccountRolesCommand({ accessToken: third.token.accessToken, accountId: '111111111111' }),
    ),
  );
  assert.is(err.name, 'UnauthorizedException');
});

test("the SDK's fromSSO provider reads our token cache shape and gets credentials", async ({ emu }) => {
  const home = mkdtempSync(join(tmpdir(), 'emu-sso-'));
  try {
    const { reg, token } = await deviceLogin(emu);
    mkdirSync(join(home, '.aws', 'sso', 'cache'), { recursive: true });
    const configFile = join(home, '.aws', 'config');
    writeFileSync(
      configFile,
      `[profile emu]\nsso_session = emu\nsso_account_id = 222222222222\nsso_role_name = Developer\nregion = us-east-1\n\n` +
        `[sso-session emu]\nsso_start_url = ${emu.startUrl}\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n`,
    );
    const file = createHash('sha1').update('emu').digest('hex') + '.json';
    // The emulator clock is ahead of real time by now; fromSSO checks expiry against real time.
    writeFileSync(
      join(home, '.aws', 'sso', 'cache', file),
      JSON.stringify({
        startUrl: emu.startUrl,
        region: 'us-east-1',
        accessToken: token.accessToken,
        expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        clientId: reg.clientId,
        clientSecret: reg.clientSecret,
        registrationExpiresAt: new Date(Date.now() + 86400_000).toISOString(),
        refreshToken: token.refreshToken,
      }),
    );
    const saved = {
      HOME: process.env.HOME,
      ep: process.env.AWS_ENDPOINT_URL_SSO,
      cfg: process.env.AWS_CONFIG_FILE,
    };
    process.env.HOME = home;
    process.env.AWS_CONFIG_FILE = configFile;
    process.env.AWS_ENDPOINT_URL_SSO = emu.url;
    try {
      const creds = await fromSSO({ profile: 'emu', configFilepath: configFile, ignoreCache: true })();
      assert.match(creds.accessKeyId, /^ASIA/);
      const id = await stsClient(emu, creds).send(new GetCallerIdentityCommand({}));
      assert.is(id.Account, '222222222222');
    } finally {
      for (const [k, v] of [
        ['HOME', saved.HOME],
        ['AWS_ENDPOINT_URL_SSO', saved.ep],
        ['AWS_CONFIG_FILE', saved.cfg],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test.run();
