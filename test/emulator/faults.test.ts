// Fault injection per operation, observed through the real SDK clients: throttling the SDK classifies as
// such (and retries after Retry-After), 5xx and connection resets it retries, and timeouts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { GetRoleCredentialsCommand, ListAccountsCommand } from '@aws-sdk/client-sso';
import { RegisterClientCommand } from '@aws-sdk/client-sso-oidc';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm';
import { SSOClient } from '@aws-sdk/client-sso';
import {
  SEED_STATIC_ACCESS_KEY_ID,
  SEED_STATIC_SECRET_ACCESS_KEY,
  startEmulator,
  type RunningEmulator,
} from '../../src/emulator/index.js';
import {
  adminFetch,
  deviceLogin,
  oidcClient,
  rejects,
  ssmClient,
  ssoClient,
  stsClient,
  REGION,
} from './helpers.js';

const STATIC = { accessKeyId: SEED_STATIC_ACCESS_KEY_ID, secretAccessKey: SEED_STATIC_SECRET_ACCESS_KEY };
const test = suite<{ emu: RunningEmulator; token: string }>('faults');

test.before(async (ctx) => {
  ctx.emu = await startEmulator({ port: 0 });
  ctx.token = (await deviceLogin(ctx.emu)).token.accessToken!;
});
test.after.each(({ emu }) => {
  emu.admin.clearFaults();
});
test.after(async (ctx) => {
  await ctx.emu.close();
});

const grc = (token: string) =>
  new GetRoleCredentialsCommand({
    accessToken: token,
    accountId: '111111111111',
    roleName: 'AdministratorAccess',
  });

test('throttle: 429 TooManyRequestsException with Retry-After, classified as throttling', async ({
  emu,
  token,
}) => {
  emu.admin.injectFault({ operation: 'GetRoleCredentials', kind: 'throttle', retryAfterSeconds: 2 });
  const err = await rejects(ssoClient(emu).send(grc(token)));
  assert.is(err.name, 'TooManyRequestsException');
  assert.is(err.$metadata.httpStatusCode, 429);
  // The raw answer carries Retry-After.
  emu.admin.injectFault({ operation: 'GetRoleCredentials', kind: 'throttle', retryAfterSeconds: 2 });
  const raw = await fetch(
    `${emu.url}/federation/credentials?account_id=111111111111&role_name=AdministratorAccess`,
    {
      headers: { 'x-amz-sso_bearer_token': token },
    },
  );
  await raw.body?.cancel();
  assert.is(raw.status, 429);
  assert.is(raw.headers.get('retry-after'), '2');
  assert.is(raw.headers.get('x-amzn-errortype'), 'TooManyRequestsException');
  const log = emu.requests().filter((e) => e.operation === 'GetRoleCredentials');
  assert.is(log.at(-1)?.fault, 'throttle');
  assert.is(log.at(-1)?.status, 429);
});

test('throttle then success: the SDK retries and the second attempt works', async ({ emu, token }) => {
  emu.admin.clearRequests();
  emu.admin.injectFault({ operation: 'GetRoleCredentials', kind: 'throttle', retryAfterSeconds: 0 });
  const r = await ssoClient(emu, 2).send(grc(token));
  assert.ok(r.roleCredentials?.accessKeyId);
  assert.is(r.$metadata.attempts, 2);
  const log = emu.requests().filter((e) => e.operation === 'GetRoleCredentials');
  assert.equal(
    log.map((e) => [e.status, e.fault]),
    [
      [429, 'throttle'],
      [200, undefined],
    ],
  );
});

test('5xx and reset are retried by the SDK; count limits how many requests fail', async ({ emu, token }) => {
  emu.admin.injectFault({ operation: 'ListAccounts', kind: '5xx', status: 503, count: 2 });
  const sso = new SSOClient({ region: REGION, endpoint: emu.url, maxAttempts: 3 });
  const r = await sso.send(new ListAccountsCommand({ accessToken: token }));
  assert.is(r.$metadata.attempts, 3);
  emu.admin.injectFault({ operation: 'ListAccounts', kind: 'reset' });
  const r2 = await sso.send(new ListAccountsCommand({ accessToken: token }));
  assert.is(r2.$metadata.attempts, 2);
  emu.admin.injectFault({ operation: 'ListAccounts', kind: 'reset' });
  const err = await rejects(ssoClient(emu, 1).send(new ListAccountsCommand({ accessToken: token })));
  assert.ok(
    ['ECONNRESET', 'EPIPE'].includes(err.code ?? '') || /socket hang up|ECONNRESET/.test(err.message),
    err.message,
  );
  const faults = emu
    .requests()
    .filter((e) => e.operation === 'ListAccounts')
    .map((e) => e.fault);
  assert.equal(faults, ['5xx', '5xx', undefined, 'reset', undefined, 'reset']);
});

test('timeout: the request is held until the client gives up', async ({ emu, token }) => {
  emu.admin.injectFault({ operation: 'ListAccounts', kind: 'timeout', holdSeconds: 30 });
  const sso = new SSOClient({
    region: REGION,
    endpoint: emu.url,
    maxAttempts: 1,
    requestHandler: { requestTimeout: 300 },
  });
  const err = await rejects(sso.send(new ListAccountsCommand({ accessToken: token })));
  assert.is(err.name, 'TimeoutError');
  // Logged once the client dropped the socket.
  for (let i = 0; i < 50 && !emu.requests().some((e) => e.fault === 'timeout'); i++)
    await new Promise((r) => setTimeout(r, 20));
  assert.ok(emu.requests().some((e) => e.operation === 'ListAccounts' && e.fault === 'timeout'));
});

test('throttle shapes per protocol: STS Throttling, SSM ThrottlingException, OIDC 429 ThrottlingException', async ({
  emu,
}) => {
  emu.admin.injectFault({ operation: 'GetCallerIdentity', kind: 'throttle' });
  let err = await rejects(stsClient(emu, STATIC).send(new GetCallerIdentityCommand({})));
  assert.is(err.name, 'Throttling');
  emu.admin.injectFault({ operation: 'DescribeInstanceInformation', kind: 'throttle' });
  err = await rejects(ssmClient(emu, STATIC).send(new DescribeInstanceInformationCommand({})));
  assert.is(err.name, 'ThrottlingException');
  emu.admin.injectFault({ operation: 'RegisterClient', kind: 'throttle' });
  err = await rejects(
    oidcClient(emu).send(new RegisterClientCommand({ clientName: 'x', clientType: 'public' })),
  );
  assert.is(err.name, 'ThrottlingException');
  assert.is(err.$metadata.httpStatusCode, 429);
  // ...and 5xx shapes the SDK retries.
  emu.admin.injectFault({ operation: 'DescribeInstanceInformation', kind: '5xx' });
  const ssm = new SSMClient({ region: REGION, endpoint: emu.url, credentials: STATIC, maxAttempts: 2 });
  const ok = await ssm.send(new DescribeInstanceInformationCommand({}));
  assert.is(ok.$metadata.attempts, 2);
});

test('faults through the HTTP admin API, wildcard operation, validation', async ({ emu }) => {
  let r = await adminFetch(emu, 'POST', 'faults', { operation: '*', kind: '5xx', count: 1 });
  assert.is(r.status, 200);
  assert.is(r.json.fault?.remaining, 1);
  const err = await rejects(stsClient(emu, STATIC).send(new GetCallerIdentityCommand({})));
  assert.is(err.name, 'InternalFailure');
  assert.is(err.$metadata.httpStatusCode, 500);
  r = await adminFetch(emu, 'GET', 'faults');
  assert.equal(r.json.faults, []);
  r = await adminFetch(emu, 'POST', 'faults', { operation: 'X', kind: 'explode' });
  assert.is(r.status, 400);
  r = await adminFetch(emu, 'POST', 'faults', { operation: 'X', kind: 'throttle', count: 0 });
  assert.is(r.status, 400);
});

test.run();
