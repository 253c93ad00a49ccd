import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromIni } from '@aws-sdk/credential-providers';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { assumeRole, sanitizeRoleSessionName } from '../../plugins/assume-role/index.js';
import { profileCredentials } from '../../plugins/profile-credentials/index.js';
import { retry } from '../../plugins/retry/index.js';
import { sso } from '../../plugins/sso/index.js';
import { DEFAULT_SETTINGS } from '../../src/config/defaults.js';
import { classifyError } from '../../src/engine/classify.js';
import { FakeClock } from '../../src/engine/clock.js';
import { rootCause, type PluginError } from '../../src/engine/errors.js';
import type { RecoveryFailedError } from '../../src/engine/recovery.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import type { StormtunnelPlugin } from '../../src/engine/plugin.js';
import type { Credentials, MfaRequest, Prompt } from '../../src/engine/types.js';
import {
  SEED_MFA_CODE,
  SEED_MFA_SERIAL,
  SEED_STATIC_ACCESS_KEY_ID,
  SEED_STATIC_SECRET_ACCESS_KEY,
  startEmulator,
  type RunningEmulator,
} from '../../src/emulator/index.js';
import { seedConfig } from '../helpers/seed-config.js';
import { testAwsHome, type TestAwsHome } from '../../src/testing/index.js';
import { captureLogger } from '../helpers/logger.js';

const ROLE = (name: string) => `arn:aws:iam::222222222222:role/${name}`;

function rolesConfig(home: string): string {
  return `
[profile deploy]
role_arn = ${ROLE('Deploy')}
source_profile = dev

[profile ops]
role_arn = ${ROLE('Ops')}
source_profile = deploy

[profile cross-account]
role_arn = ${ROLE('Deploy')}
source_profile = default

[profile partner]
role_arn = ${ROLE('Partner')}
source_profile = default
external_id = stormtunnel-external-id
duration_seconds = 7200

[profile partner-no-id]
role_arn = ${ROLE('Partner')}
source_profile = default

[profile breakglass]
role_arn = ${ROLE('BreakGlass')}
source_profile = default
mfa_serial = ${SEED_MFA_SERIAL}

[profile not-trusted]
role_arn = ${ROLE('Ops')}
source_profile = default

[profile readonly-deploy]
role_arn = ${ROLE('Deploy')}
source_profile = readonly

[profile loop-a]
role_arn = ${ROLE('Deploy')}
source_profile = loop-b

[profile loop-b]
role_arn = ${ROLE('Deploy')}
source_profile = loop-c

[profile loop-c]
role_arn = ${ROLE('Deploy')}
source_profile = loop-a

[profile self]
role_arn = ${ROLE('Deploy')}
source_profile = self
role_session_name = parity

[profile keys-first]
role_arn = ${ROLE('Deploy')}
source_profile = keyed
role_session_name = parity

[profile keyed]
role_arn = ${ROLE('Ops')}
source_profile = dev

[profile env-deploy]
role_arn = ${ROLE('Deploy')}
credential_source = Environment

[profile imds-deploy]
role_arn = ${ROLE('Deploy')}
credential_source = Ec2InstanceMetadata

[profile ecs-deploy]
role_arn = ${ROLE('Deploy')}
credential_source = EcsContainer

[profile proc]
credential_process = "${process.execPath}" "${join(home, 'print-creds.mjs')}"

[profile proc-deploy]
role_arn = ${ROLE('Deploy')}
source_profile = proc
`;
}

const STATIC_KEYS = `aws_access_key_id = ${SEED_STATIC_ACCESS_KEY_ID}
aws_secret_access_key = ${SEED_STATIC_SECRET_ACCESS_KEY}
`;

function noTerminal(): Prompt {
  return {
    interactive: false,
    text: () => Promise.reject(new Error('no terminal in tests')),
    confirm: () => Promise.reject(new Error('no terminal in tests')),
    say: () => undefined,
    progress: () => ({ update: () => {}, succeed: () => {}, fail: () => {}, stop: () => {} }),
  };
}

/** A plugin that answers the mfaCode hook and records what it was asked. */
function mfaAnswer(code: string | undefined, asked: MfaRequest[]): StormtunnelPlugin {
  return {
    name: 'mfa-answer',
    apply: (api) => api.hooks.mfaCode.tap((req) => (asked.push(req), code)),
  };
}

let emu: RunningEmulator;
let home: TestAwsHome;

/** A HOME with the seed SSO profiles, the role profiles above and the given credentials file. */
function homeFor(credentials: string): TestAwsHome {
  const h = testAwsHome({ config: '', credentials, emulatorEnv: emu.env() });
  writeFileSync(h.configFile, seedConfig(emu.startUrl) + rolesConfig(h.home));
  writeFileSync(
    join(h.home, 'print-creds.mjs'),
    `console.log(JSON.stringify({ Version: 1, AccessKeyId: ${JSON.stringify(SEED_STATIC_ACCESS_KEY_ID)}, SecretAccessKey: ${JSON.stringify(SEED_STATIC_SECRET_ACCESS_KEY)} }));\n`,
  );
  return h;
}

const ALL_KEYS = `[default]\n${STATIC_KEYS}\n[self]\n${STATIC_KEYS}\n[keyed]\n${STATIC_KEYS}`;
const logger = captureLogger();

async function engineWith(
  extra: StormtunnelPlugin[] = [],
  opts: { clock?: FakeClock } = {},
): Promise<Engine> {
  return createEngine({
    plugins: [
      ...extra,
      profileCredentials(),
      assumeRole(),
      sso({ sessions: { work: { useDeviceCode: true } } }),
      retry({ baseDelay: 1, maxDelay: 5 }),
    ],
    settings: DEFAULT_SETTINGS,
    logger,
    ...(opts.clock ? { clock: opts.clock } : {}),
    services: { prompt: noTerminal() },
  });
}

const req = (profile: string, extra: { forceRefresh?: boolean } = {}) => ({
  profile,
  region: 'us-east-1',
  purpose: { kind: 'library' as const },
  chain: [],
  ...extra,
});

async function whoAmI(
  c: Credentials | (() => Promise<Credentials>),
): Promise<{ account: string; arn: string }> {
  const sts = new STSClient({ region: 'us-east-1', credentials: c, maxAttempts: 1 });
  const out = await sts.send(new GetCallerIdentityCommand({}));
  sts.destroy();
  return { account: out.Account ?? '', arn: out.Arn ?? '' };
}

const assumeCalls = () => emu.requests().filter((r) => r.operation === 'AssumeRole');

async function failure(p: Promise<unknown>): Promise<Error & { exitCode?: number }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { exitCode?: number };
  }
  throw new Error('expected a failure');
}

const chains = suite('assume-role chains');

chains.before(async () => {
  emu = await startEmulator({ port: 0, autoApprove: true });
  home = homeFor(ALL_KEYS);
  // Sign in once; the sso plugin writes the AWS CLI cache that every later engine (and fromIni) reads.
  const engine = await engineWith();
  await engine.signIn({ profile: 'dev', noBrowser: true });
  await engine.shutdown({ reason: 'command-done' });
});

chains.after(async () => {
  await emu.close();
  home.cleanup();
});

chains('SSO -> Deploy -> Ops: three hops, each AssumeRole made with the previous hop', async () => {
  const engine = await engineWith();
  emu.admin.clearRequests();
  const c = await engine.resolveCredentials(req('ops'));
  assert.is(c.source, 'assume-role');
  assert.is(c.accountId, '222222222222');
  const who = await whoAmI(c);
  assert.is(who.account, '222222222222');
  assert.match(who.arn, /^arn:aws:sts::222222222222:assumed-role\/Ops\/stormtunnel-[\w+=,.@-]+$/);
  const calls = assumeCalls();
  assert.is(calls.length, 2);
  assert.is(calls[0]!.params.roleArn, ROLE('Deploy'));
  assert.match(String(calls[0]!.params.callerArn), /AWSReservedSSO_AdministratorAccess/);
  assert.is(calls[1]!.params.roleArn, ROLE('Ops'));
  assert.match(String(calls[1]!.params.callerArn), /assumed-role\/Deploy\//);
  // Cached: neither hop is assumed again.
  const again = await engine.resolveCredentials(req('ops'));
  assert.is(again.accessKeyId, c.accessKeyId);
  assert.is(assumeCalls().length, 2);
  await engine.shutdown({ reason: 'command-done' });
});

chains('two hops from SSO, and concurrent requests share one AssumeRole', async () => {
  const engine = await engineWith();
  emu.admin.clearRequests();
  const all = await Promise.all(Array.from({ length: 5 }, () => engine.resolveCredentials(req('deploy'))));
  assert.is(new Set(all.map((c) => c.accessKeyId)).size, 1);
  assert.is(assumeCalls().length, 1);
  assert.match((await whoAmI(all[0]!)).arn, /assumed-role\/Deploy\//);
  await engine.shutdown({ reason: 'command-done' });
});

chains(
  'static keys -> role: the seed document cross-account example (source_profile = default)',
  async () => {
    const engine = await engineWith();
    const who = await whoAmI(await engine.resolveCredentials(req('cross-account')));
    assert.match(who.arn, /^arn:aws:sts::222222222222:assumed-role\/Deploy\/stormtunnel-/);
    emu.admin.clearRequests();
    await engine.resolveCredentials(req('cross-account', { forceRefresh: true }));
    assert.is(assumeCalls().length, 1, 'forceRefresh assumes the role again');
    assert.is(assumeCalls()[0]!.params.callerArn, 'arn:aws:iam::111111111111:user/ci');
    await engine.shutdown({ reason: 'command-done' });
  },
);

chains(
  'ExternalId and DurationSeconds are sent; without ExternalId the denial says Contact AWS Administrator',
  async () => {
    const engine = await engineWith();
    emu.admin.clearRequests();
    const who = await whoAmI(await engine.resolveCredentials(req('partner')));
    assert.match(who.arn, /assumed-role\/Partner\//);
    assert.is(assumeCalls()[0]!.params.externalIdGiven, true);
    assert.is(assumeCalls()[0]!.params.durationSeconds, '7200');
    const err = await failure(engine.resolveCredentials(req('partner-no-id')));
    // The recovery loop's classification travels with the error (what `check` and the CLI print).
    const c = (rootCause(err) as RecoveryFailedError).classification;
    assert.is(classifyError(err).title, 'Contact AWS Administrator');
    assert.is(c.title, 'Contact AWS Administrator');
    assert.is(c.deniedAction, 'sts:AssumeRole');
    assert.match(
      err.message,
      /Contact AWS Administrator: sts:AssumeRole was denied for profile "partner-no-id"/,
    );
    assert.is(err.exitCode, 4);
    await engine.shutdown({ reason: 'command-done' });
  },
);

chains(
  'a denied AssumeRole (role not trusting the caller; caller denied sts:AssumeRole) is not retried',
  async () => {
    const engine = await engineWith();
    emu.admin.clearRequests();
    const err = await failure(engine.resolveCredentials(req('not-trusted')));
    assert.match(
      err.message,
      /Contact AWS Administrator: sts:AssumeRole was denied for profile "not-trusted"/,
    );
    assert.is(assumeCalls().length, 1, 'one call, no retries');
    const ro = await failure(engine.resolveCredentials(req('readonly-deploy')));
    assert.match(ro.message, /sts:AssumeRole was denied for profile "readonly-deploy"/);
    assert.is(ro.exitCode, 4);
    await engine.shutdown({ reason: 'command-done' });
  },
);

chains('a source_profile loop is refused with the chain printed, before any AWS call', async () => {
  const engine = await engineWith();
  emu.admin.clearRequests();
  const err = await failure(engine.resolveCredentials(req('loop-a')));
  assert.match(err.message, /source_profile loop: loop-a -> loop-b -> loop-c -> loop-a/);
  assert.match(err.message, /~\/\.aws\/config line \d+/);
  assert.is(err.exitCode, 2);
  assert.is(emu.requests().length, 0);
  await engine.shutdown({ reason: 'command-done' });
});

chains('self-reference with static keys, and static keys win over role_arn from the second hop', async () => {
  const engine = await engineWith();
  emu.admin.clearRequests();
  assert.match(
    (await whoAmI(await engine.resolveCredentials(req('self')))).arn,
    /assumed-role\/Deploy\/parity$/,
  );
  const keysFirst = await whoAmI(await engine.resolveCredentials(req('keys-first')));
  assert.match(keysFirst.arn, /assumed-role\/Deploy\/parity$/);
  // keyed's own role_arn (Ops, via SSO) is not used: one AssumeRole per profile, both from user ci.
  assert.equal(
    assumeCalls().map((r) => [r.params.roleArn, r.params.callerArn]),
    [
      [ROLE('Deploy'), 'arn:aws:iam::111111111111:user/ci'],
      [ROLE('Deploy'), 'arn:aws:iam::111111111111:user/ci'],
    ],
  );
  await engine.shutdown({ reason: 'command-done' });
});

chains('credential_process and credential_source = Environment start a chain', async () => {
  const engine = await engineWith();
  assert.match(
    (await whoAmI(await engine.resolveCredentials(req('proc-deploy')))).arn,
    /assumed-role\/Deploy\//,
  );
  const missing = await failure(engine.resolveCredentials(req('env-deploy')));
  assert.match(
    missing.message,
    /profile "env-deploy" has credential_source = Environment but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set/,
  );
  assert.is(missing.exitCode, 2);
  process.env.AWS_ACCESS_KEY_ID = SEED_STATIC_ACCESS_KEY_ID;
  process.env.AWS_SECRET_ACCESS_KEY = SEED_STATIC_SECRET_ACCESS_KEY;
  try {
    const who = await whoAmI(await engine.resolveCredentials(req('env-deploy')));
    assert.match(who.arn, /assumed-role\/Deploy\//);
  } finally {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
  }
  await engine.shutdown({ reason: 'command-done' });
});

chains('instance and container metadata sources fail at once with a clear error, not a hang', async () => {
  const engine = await engineWith();
  // The emulator env disables IMDS, as on a workstation.
  const disabled = await failure(engine.resolveCredentials(req('imds-deploy')));
  assert.match(
    disabled.message,
    /credential_source = Ec2InstanceMetadata, but instance metadata is disabled here/,
  );
  assert.is(disabled.exitCode, 2);
  // An IMDS endpoint that refuses connections (a closed port on 127.0.0.1).
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as { port: number }).port;
  await new Promise<void>((r) => closed.close(() => r()));
  process.env.AWS_EC2_METADATA_DISABLED = 'false';
  process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = `http://127.0.0.1:${port}`;
  try {
    const refused = await failure(engine.resolveCredentials(req('imds-deploy')));
    assert.match(
      refused.message,
      /EC2 instance metadata service \(IMDS\) is not reachable from this machine/,
    );
    assert.match(refused.message, /^profile "imds-deploy" has credential_source = Ec2InstanceMetadata/);
    assert.is((refused as PluginError).plugin, 'profile-credentials');
  } finally {
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    delete process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT;
  }
  const ecs = await failure(engine.resolveCredentials(req('ecs-deploy')));
  assert.match(
    ecs.message,
    /credential_source = EcsContainer, but the ECS container credentials endpoint is not reachable/,
  );
  await engine.shutdown({ reason: 'command-done' });
});

chains.run();

const mfa = suite('assume-role MFA');

mfa.before(async () => {
  emu = await startEmulator({ port: 0, autoApprove: true });
  home = homeFor(`[default]\n${STATIC_KEYS}`);
});

mfa.after(async () => {
  await emu.close();
  home.cleanup();
});

mfa('a good code from the mfaCode hook: asked once, sent with the serial, never logged', async () => {
  const asked: MfaRequest[] = [];
  logger.records.length = 0;
  const engine = await engineWith([mfaAnswer(SEED_MFA_CODE, asked)]);
  emu.admin.clearRequests();
  const [a, b] = await Promise.all([
    engine.resolveCredentials(req('breakglass')),
    engine.resolveCredentials(req('breakglass')),
  ]);
  assert.is(a.accessKeyId, b.accessKeyId);
  assert.match((await whoAmI(a)).arn, /assumed-role\/BreakGlass\//);
  await engine.resolveCredentials(req('breakglass'));
  assert.equal(asked, [{ profile: 'breakglass', mfaSerial: SEED_MFA_SERIAL, roleArn: ROLE('BreakGlass') }]);
  assert.is(assumeCalls().length, 1);
  assert.is(assumeCalls()[0]!.params.serialNumber, SEED_MFA_SERIAL);
  assert.is(assumeCalls()[0]!.params.tokenCodeGiven, true);
  assert.not.ok(JSON.stringify(logger.records).includes(SEED_MFA_CODE), 'the code is never logged');
  await engine.shutdown({ reason: 'command-done' });
});

mfa('a wrong code is a clear input error (exit 2) without the code in it', async () => {
  const engine = await engineWith([mfaAnswer('654321', [])]);
  const err = await failure(engine.resolveCredentials(req('breakglass')));
  assert.match(
    err.message,
    /the MFA code for profile "breakglass" \(mfa_serial arn:aws:iam::111111111111:mfa\/ci\) was rejected by AWS/,
  );
  assert.not.match(err.message, /654321/);
  assert.is(err.exitCode, 2);
  const short = await engineWith([mfaAnswer('12', [])]);
  const bad = await failure(short.resolveCredentials(req('breakglass')));
  assert.match(bad.message, /the MFA code from the mfaCode hook for profile "breakglass" .* is not 6 digits/);
  await engine.shutdown({ reason: 'command-done' });
  await short.shutdown({ reason: 'command-done' });
});

mfa('no hook answer, no option and no terminal: the clear error, no AWS call', async () => {
  const engine = await engineWith([mfaAnswer(undefined, [])]);
  emu.admin.clearRequests();
  const err = await failure(engine.resolveCredentials(req('breakglass')));
  assert.match(
    err.message,
    /profile "breakglass" needs an MFA code \(mfa_serial arn:aws:iam::111111111111:mfa\/ci\) but no terminal is available; run in a terminal or provide a code through a plugin/,
  );
  assert.is(err.exitCode, 2);
  assert.is(assumeCalls().length, 0);
  await engine.shutdown({ reason: 'command-done' });
});

mfa(
  'the plugin option answers after the hook; the terminal prompt is asked with a hidden answer',
  async () => {
    const fromOption: MfaRequest[] = [];
    const viaOption = await createEngine({
      plugins: [
        profileCredentials(),
        assumeRole({
          mfaCode: async (r) => (fromOption.push(r), SEED_MFA_CODE),
          roleSessionName: 'from-option',
        }),
      ],
      settings: DEFAULT_SETTINGS,
      logger,
      services: { prompt: noTerminal() },
    });
    assert.match(
      (await whoAmI(await viaOption.resolveCredentials(req('breakglass')))).arn,
      /BreakGlass\/from-option$/,
    );
    assert.is(fromOption.length, 1);
    const questions: { q: string; secret: boolean }[] = [];
    const terminal: Prompt = {
      ...noTerminal(),
      interactive: true,
      text: async (q, o) => (questions.push({ q, secret: Boolean(o?.secret) }), ` ${SEED_MFA_CODE}\n`),
    };
    const viaPrompt = await createEngine({
      plugins: [profileCredentials(), assumeRole()],
      settings: DEFAULT_SETTINGS,
      logger,
      services: { prompt: terminal },
    });
    await viaPrompt.resolveCredentials(req('breakglass'));
    await viaPrompt.resolveCredentials(req('breakglass'));
    assert.equal(questions, [{ q: `MFA code for ${SEED_MFA_SERIAL}`, secret: true }]);
    await viaOption.shutdown({ reason: 'command-done' });
    await viaPrompt.shutdown({ reason: 'command-done' });
  },
);

mfa.run();

const expiry = suite('assume-role expiry');

expiry('assumed credentials are reused until 5 minutes before they expire, then assumed again', async () => {
  const clock = new FakeClock(Date.now());
  emu = await startEmulator({ port: 0, now: () => clock.now() });
  home = homeFor(`[default]\n${STATIC_KEYS}`);
  try {
    const engine = await engineWith([], { clock });
    const first = await engine.resolveCredentials(req('cross-account'));
    await clock.advance(54 * 60_000);
    assert.is((await engine.resolveCredentials(req('cross-account'))).accessKeyId, first.accessKeyId);
    assert.is(assumeCalls().length, 1);
    await clock.advance(2 * 60_000);
    const second = await engine.resolveCredentials(req('cross-account'));
    assert.is.not(second.accessKeyId, first.accessKeyId);
    assert.is(assumeCalls().length, 2);
    const status = await engine.collectStatus({ profiles: [], live: false });
    const entry = status.entries.find((e) => e.name === 'cross-account');
    assert.ok(entry);
    assert.match(
      entry.detail ?? '',
      new RegExp(`${ROLE('Deploy')} via cross-account -> default, valid until`),
    );
    await engine.shutdown({ reason: 'command-done' });
  } finally {
    await emu.close();
    home.cleanup();
  }
});

expiry('role session names are sanitised to what STS accepts', () => {
  assert.is(sanitizeRoleSessionName('stormtunnel-jean dupont/é'), 'stormtunnel-jean-dupont--');
  assert.is(sanitizeRoleSessionName(`stormtunnel-${'x'.repeat(80)}`).length, 64);
});

expiry.run();

const parity = suite('parity with the AWS SDK fromIni');

parity.before(async () => {
  emu = await startEmulator({ port: 0, autoApprove: true });
  home = homeFor(ALL_KEYS);
  const engine = await engineWith();
  await engine.signIn({ profile: 'dev', noBrowser: true });
  await engine.shutdown({ reason: 'command-done' });
});

parity.after(async () => {
  await emu.close();
  home.cleanup();
});

parity(
  'same final identity as fromIni for SSO, static, ExternalId, MFA and static-first chains',
  async () => {
    const engine = await engineWith([mfaAnswer(SEED_MFA_CODE, [])]);
    // Session names differ (fromIni's default is aws-sdk-js-<time>), so compare up to the session name.
    const role = (arn: string) => arn.replace(/\/[^/]+$/, '');
    for (const profile of ['deploy', 'ops', 'cross-account', 'partner', 'breakglass', 'self', 'keys-first']) {
      const ours = await whoAmI(await engine.resolveCredentials(req(profile)));
      const sdk = await whoAmI(
        fromIni({
          profile,
          mfaCodeProvider: async () => SEED_MFA_CODE,
          clientConfig: { region: 'us-east-1' },
        }),
      );
      assert.is(ours.account, sdk.account, profile);
      assert.is(role(ours.arn), role(sdk.arn), profile);
      if (profile === 'self' || profile === 'keys-first') assert.is(ours.arn, sdk.arn, profile);
    }
    await engine.shutdown({ reason: 'command-done' });
  },
);

parity.run();
