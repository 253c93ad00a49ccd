// STS against the emulator with the real SDK: SigV4 checks (unknown key, bad secret, expired, token
// mismatch), GetCallerIdentity, and AssumeRole with trust, ExternalId, MFA, duration limits and chaining.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import {
  SEED_MFA_CODE,
  SEED_MFA_SERIAL,
  SEED_STATIC_ACCESS_KEY_ID,
  SEED_STATIC_SECRET_ACCESS_KEY,
  startEmulator,
  totp,
  type RunningEmulator,
} from '../../src/emulator/index.js';
import { deviceLogin, rejects, roleCredentials, stsClient, type Creds } from './helpers.js';

const STATIC: Creds = {
  accessKeyId: SEED_STATIC_ACCESS_KEY_ID,
  secretAccessKey: SEED_STATIC_SECRET_ACCESS_KEY,
};
let now = Date.UTC(2026, 10, 21, 12, 0, 0);
const test = suite<{ emu: RunningEmulator; admin: Creds; readOnly: Creds }>('sts');

function creds(r: {
  Credentials?: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string };
}): Creds {
  const c = r.Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
}

test.before(async (ctx) => {
  ctx.emu = await startEmulator({ port: 0, now: () => now });
  const { token } = await deviceLogin(ctx.emu);
  ctx.admin = await roleCredentials(ctx.emu, token.accessToken!, '111111111111', 'AdministratorAccess');
  ctx.readOnly = await roleCredentials(ctx.emu, token.accessToken!, '111111111111', 'ReadOnly');
});
test.after(async (ctx) => {
  await ctx.emu.close();
});

test('GetCallerIdentity with the static IAM user key', async ({ emu }) => {
  const id = await stsClient(emu, STATIC).send(new GetCallerIdentityCommand({}));
  assert.is(id.Arn, 'arn:aws:iam::111111111111:user/ci');
  assert.is(id.Account, '111111111111');
  assert.match(id.UserId ?? '', /^AIDA/);
  const entry = emu.requests().find((e) => e.operation === 'GetCallerIdentity');
  assert.is(entry?.service, 'sts');
  assert.is(entry?.params.accessKeyId, SEED_STATIC_ACCESS_KEY_ID);
});

test('SigV4 failures: unknown key, wrong secret, wrong session token, expired credentials', async ({
  emu,
  admin,
}) => {
  let err = await rejects(
    stsClient(emu, { accessKeyId: 'AKIANOTISSUED0000000', secretAccessKey: 'x'.repeat(40) }).send(
      new GetCallerIdentityCommand({}),
    ),
  );
  assert.is(err.name, 'InvalidClientTokenId');
  assert.is(err.$metadata.httpStatusCode, 403);
  err = await rejects(
    stsClient(emu, { ...STATIC, secretAccessKey: 'wrong'.repeat(8) }).send(new GetCallerIdentityCommand({})),
  );
  assert.is(err.name, 'SignatureDoesNotMatch');
  err = await rejects(
    stsClient(emu, { ...admin, sessionToken: 'forged' }).send(new GetCallerIdentityCommand({})),
  );
  assert.is(err.name, 'InvalidClientTokenId');
  const { token } = await deviceLogin(emu);
  const shortLived = await roleCredentials(emu, token.accessToken!, '222222222222', 'Developer');
  now += 3600_000;
  err = await rejects(stsClient(emu, shortLived).send(new GetCallerIdentityCommand({})));
  assert.is(err.name, 'ExpiredToken');
  assert.match(err.message, /expired/);
  now -= 3600_000;
});

test('AssumeRole from an SSO role (trust by wildcard) and role chaining', async ({ emu, admin }) => {
  const sts = stsClient(emu, admin);
  const r = await sts.send(
    new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::222222222222:role/Deploy', RoleSessionName: 'deploy-1' }),
  );
  assert.is(r.AssumedRoleUser?.Arn, 'arn:aws:sts::222222222222:assumed-role/Deploy/deploy-1');
  assert.is(r.Credentials?.Expiration?.getTime(), Math.floor(now / 1000) * 1000 + 3600_000);
  const deploy = creds(r);
  const id = await stsClient(emu, deploy).send(new GetCallerIdentityCommand({}));
  assert.is(id.Arn, 'arn:aws:sts::222222222222:assumed-role/Deploy/deploy-1');
  const ops = await stsClient(emu, deploy).send(
    new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::222222222222:role/Ops', RoleSessionName: 'ops' }),
  );
  assert.is(ops.AssumedRoleUser?.Arn, 'arn:aws:sts::222222222222:assumed-role/Ops/ops');
  // Ops trusts only Deploy.
  const err = await rejects(
    sts.send(
      new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::222222222222:role/Ops', RoleSessionName: 'ops' }),
    ),
  );
  assert.is(err.name, 'AccessDenied');
  assert.is(err.$metadata.httpStatusCode, 403);
  assert.match(
    err.message,
    /is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role\/Ops/,
  );
});

test('AssumeRole denied by the caller role deny list and for unknown roles', async ({
  emu,
  readOnly,
  admin,
}) => {
  let err = await rejects(
    stsClient(emu, readOnly).send(
      new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::222222222222:role/Deploy', RoleSessionName: 'x1' }),
    ),
  );
  assert.is(err.name, 'AccessDenied');
  err = await rejects(
    stsClient(emu, admin).send(
      new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::222222222222:role/Missing', RoleSessionName: 'x1' }),
    ),
  );
  assert.is(err.name, 'AccessDenied');
});

test('ExternalId: missing or wrong -> AccessDenied, right -> credentials', async ({ emu }) => {
  const sts = stsClient(emu, STATIC);
  const arn = 'arn:aws:iam::222222222222:role/Partner';
  let err = await rejects(sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'p' + 'x' })));
  assert.is(err.name, 'AccessDenied');
  err = await rejects(
    sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'px', ExternalId: 'wrong' })),
  );
  assert.is(err.name, 'AccessDenied');
  const ok = await sts.send(
    new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'px', ExternalId: 'stormtunnel-external-id' }),
  );
  assert.ok(ok.Credentials?.AccessKeyId);
  const entry = emu
    .requests()
    .filter((e) => e.operation === 'AssumeRole')
    .at(-1);
  assert.is(entry?.params.externalIdGiven, true);
  assert.not.ok(JSON.stringify(entry).includes('stormtunnel-external-id'));
});

test('MFA: missing serial, wrong code -> AccessDenied; valid code -> long session', async ({ emu }) => {
  const sts = stsClient(emu, STATIC);
  const arn = 'arn:aws:iam::222222222222:role/BreakGlass';
  let err = await rejects(sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'bg' })));
  assert.is(err.name, 'AccessDenied');
  err = await rejects(
    sts.send(
      new AssumeRoleCommand({
        RoleArn: arn,
        RoleSessionName: 'bg',
        SerialNumber: SEED_MFA_SERIAL,
        TokenCode: '000000',
      }),
    ),
  );
  assert.is(err.name, 'AccessDenied');
  assert.match(err.message, /MultiFactorAuthentication failed/);
  assert.is(emu.admin.mfaCode(SEED_MFA_SERIAL), SEED_MFA_CODE);
  const ok = await sts.send(
    new AssumeRoleCommand({
      RoleArn: arn,
      RoleSessionName: 'bg',
      SerialNumber: SEED_MFA_SERIAL,
      TokenCode: SEED_MFA_CODE,
      DurationSeconds: 43200,
    }),
  );
  assert.is(ok.Credentials?.Expiration?.getTime(), Math.floor(now / 1000) * 1000 + 43200_000);
});

test('DurationSeconds limits: < 900, > MaxSessionDuration, > 1 h when chaining', async ({ emu, admin }) => {
  const sts = stsClient(emu, STATIC);
  let err = await rejects(
    sts.send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::222222222222:role/Deploy',
        RoleSessionName: 'dd',
        DurationSeconds: 600,
      }),
    ),
  );
  assert.is(err.name, 'ValidationError');
  err = await rejects(
    sts.send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::222222222222:role/Deploy',
        RoleSessionName: 'dd',
        DurationSeconds: 7200,
      }),
    ),
  );
  assert.is(err.name, 'ValidationError');
  assert.match(err.message, /MaxSessionDuration/, err.message);
  err = await rejects(
    stsClient(emu, admin).send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::222222222222:role/Partner',
        RoleSessionName: 'dd',
        ExternalId: 'stormtunnel-external-id',
        DurationSeconds: 7200,
      }),
    ),
  );
  assert.is(err.name, 'ValidationError');
  assert.match(err.message, /role chaining/);
  // Same duration from a user (not chained) is within Partner's 2 h maximum.
  const ok = await sts.send(
    new AssumeRoleCommand({
      RoleArn: 'arn:aws:iam::222222222222:role/Partner',
      RoleSessionName: 'dd',
      ExternalId: 'stormtunnel-external-id',
      DurationSeconds: 7200,
    }),
  );
  assert.ok(ok.Credentials);
});

test('TOTP MFA devices from state follow the emulator clock', async () => {
  const t0 = Date.UTC(2026, 0, 1);
  let clock = t0;
  const emu = await startEmulator({
    port: 0,
    now: () => clock,
    state: {
      mfaDevices: [{ serial: 'arn:aws:iam::111111111111:mfa/ci', totpSecret: '12345678901234567890' }],
    },
  });
  try {
    // RFC 6238 test vector (SHA-1, T = 59 s): 94287082 -> last 6 digits.
    assert.is(totp('12345678901234567890', 59_000), '287082');
    const code = emu.admin.mfaCode('arn:aws:iam::111111111111:mfa/ci');
    assert.is(code, totp('12345678901234567890', t0));
    clock += 90_000;
    const sts = stsClient(emu, STATIC);
    const arn = 'arn:aws:iam::222222222222:role/BreakGlass';
    const err = await rejects(
      sts.send(
        new AssumeRoleCommand({
          RoleArn: arn,
          RoleSessionName: 'bg',
          SerialNumber: 'arn:aws:iam::111111111111:mfa/ci',
          TokenCode: code,
        }),
      ),
    );
    assert.is(err.name, 'AccessDenied');
    const fresh = emu.admin.mfaCode('arn:aws:iam::111111111111:mfa/ci');
    const ok = await sts.send(
      new AssumeRoleCommand({
        RoleArn: arn,
        RoleSessionName: 'bg',
        SerialNumber: 'arn:aws:iam::111111111111:mfa/ci',
        TokenCode: fresh,
      }),
    );
    assert.ok(ok.Credentials);
  } finally {
    await emu.close();
  }
});

test('request log never holds secret keys or session tokens', async ({ emu, admin }) => {
  const log = JSON.stringify(emu.requests());
  assert.not.ok(log.includes(SEED_STATIC_SECRET_ACCESS_KEY));
  assert.not.ok(log.includes(admin.secretAccessKey));
  assert.not.ok(log.includes(admin.sessionToken!));
});

test.run();
