import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { profileCredentials } from '../../plugins/profile-credentials/index.js';
import { DEFAULT_SETTINGS } from '../../src/config/defaults.js';
import { createEngine, NoCredentialsError, type Engine } from '../../src/engine/engine.js';
import { rootCause } from '../../src/engine/errors.js';
import type { CredentialRequest, Credentials } from '../../src/engine/types.js';
import {
  SEED_STATIC_ACCESS_KEY_ID,
  SEED_STATIC_SECRET_ACCESS_KEY,
  startEmulator,
  type RunningEmulator,
} from '../../src/emulator/index.js';
import { seedConfig } from '../helpers/seed-config.js';
import { testAwsHome, type TestAwsHome } from '../../src/testing/index.js';
import { captureLogger } from '../helpers/logger.js';

// Prints credentials as credential_process JSON and counts its runs; the mode says what to print.
const SCRIPT = `
import { appendFileSync } from 'node:fs';
const [counter, mode] = process.argv.slice(2);
appendFileSync(counter, mode + '\\n');
const keys = { Version: 1, AccessKeyId: ${JSON.stringify(SEED_STATIC_ACCESS_KEY_ID)}, SecretAccessKey: ${JSON.stringify(SEED_STATIC_SECRET_ACCESS_KEY)} };
if (mode === 'fail') { console.log(JSON.stringify(keys)); console.error('token service unavailable'); process.exit(3); }
if (mode === 'garbage') { console.log('not json ' + keys.SecretAccessKey); process.exit(0); }
const minutes = { hour: 60, soon: 4 }[mode];
console.log(JSON.stringify(minutes ? { ...keys, Expiration: new Date(Date.now() + minutes * 60000).toISOString() } : keys));
`;

let emu: RunningEmulator;
let home: TestAwsHome;
let counter: string;
const logger = captureLogger();

function proc(name: string, mode: string): string {
  return `[profile ${name}]\ncredential_process = "${process.execPath}" "${join(home.home, 'creds.mjs')}" "${counter}" ${mode}\n\n`;
}

const runs = (mode: string) =>
  readFileSync(counter, 'utf8')
    .split('\n')
    .filter((l) => l === mode).length;

test.before(async () => {
  emu = await startEmulator({ port: 0 });
  home = testAwsHome({
    config: '',
    credentials: `[default]\naws_access_key_id = ${SEED_STATIC_ACCESS_KEY_ID}\naws_secret_access_key = ${SEED_STATIC_SECRET_ACCESS_KEY}\n`,
    emulatorEnv: emu.env(),
  });
  counter = join(home.home, 'runs.txt');
  writeFileSync(counter, '');
  writeFileSync(join(home.home, 'creds.mjs'), SCRIPT);
  writeFileSync(
    home.configFile,
    seedConfig(emu.startUrl) +
      proc('hour', 'hour') +
      proc('soon', 'soon') +
      proc('forever', 'forever') +
      proc('fail', 'fail') +
      proc('garbage', 'garbage') +
      `[profile role]\nrole_arn = arn:aws:iam::222222222222:role/Deploy\nsource_profile = default\n`,
  );
});

test.after(async () => {
  await emu.close();
  home.cleanup();
});

async function engine(): Promise<Engine> {
  return createEngine({ plugins: [profileCredentials()], settings: DEFAULT_SETTINGS, logger });
}

const req = (profile: string, extra: Partial<CredentialRequest> = {}): CredentialRequest => ({
  profile,
  region: 'us-east-1',
  purpose: { kind: 'library' },
  chain: [],
  ...extra,
});

async function arnOf(c: Credentials): Promise<string> {
  const sts = new STSClient({ region: 'us-east-1', credentials: c, maxAttempts: 1 });
  const out = await sts.send(new GetCallerIdentityCommand({}));
  sts.destroy();
  return out.Arn ?? '';
}

async function failure(p: Promise<unknown>): Promise<Error & { exitCode?: number }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { exitCode?: number };
  }
  throw new Error('expected a failure');
}

test('static keys from the credentials file are accepted by AWS', async () => {
  const e = await engine();
  const c = await e.resolveCredentials(req('default'));
  assert.is(c.source, 'static');
  assert.is(c.accessKeyId, SEED_STATIC_ACCESS_KEY_ID);
  assert.is(await arnOf(c), 'arn:aws:iam::111111111111:user/ci');
  await e.shutdown({ reason: 'command-done' });
});

test('temporary keys (aws_session_token) are passed with their token', async () => {
  const sts = new STSClient({
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: SEED_STATIC_ACCESS_KEY_ID, secretAccessKey: SEED_STATIC_SECRET_ACCESS_KEY },
  });
  const out = await sts.send(
    new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::222222222222:role/Deploy', RoleSessionName: 'temp' }),
  );
  sts.destroy();
  const t = out.Credentials!;
  writeFileSync(
    home.credentialsFile,
    readFileSync(home.credentialsFile, 'utf8') +
      `\n[temp]\naws_access_key_id = ${t.AccessKeyId}\naws_secret_access_key = ${t.SecretAccessKey}\naws_session_token = ${t.SessionToken}\n`,
  );
  const e = await engine();
  const c = await e.resolveCredentials(req('temp'));
  assert.is(c.sessionToken, t.SessionToken);
  assert.is(await arnOf(c), 'arn:aws:sts::222222222222:assumed-role/Deploy/temp');
  await e.shutdown({ reason: 'command-done' });
});

test('credential_process: cached until 5 minutes before Expiration, one run for concurrent requests', async () => {
  const e = await engine();
  const all = await Promise.all([1, 2, 3].map(() => e.resolveCredentials(req('hour'))));
  assert.is(all[0]!.source, 'credential-process');
  assert.ok(all[0]!.expiration && all[0]!.expiration.getTime() > Date.now() + 50 * 60_000);
  assert.is(await arnOf(all[0]!), 'arn:aws:iam::111111111111:user/ci');
  await e.resolveCredentials(req('hour'));
  assert.is(runs('hour'), 1);
  await e.resolveCredentials(req('hour', { forceRefresh: true }));
  assert.is(runs('hour'), 2, 'forceRefresh runs it again');
  // Expiring in 4 minutes: inside the 5-minute margin, so never reused.
  await e.resolveCredentials(req('soon'));
  await e.resolveCredentials(req('soon'));
  assert.is(runs('soon'), 2);
  // No Expiration: long-term keys, kept for the life of the process.
  await e.resolveCredentials(req('forever'));
  await e.resolveCredentials(req('forever'));
  assert.is(runs('forever'), 1);
  await e.shutdown({ reason: 'command-done' });
});

test('a failing credential_process: one line with its exit code and stderr, exit 2, no secrets', async () => {
  const e = await engine();
  const err = await failure(e.resolveCredentials(req('fail')));
  assert.match(
    err.message,
    /~\/\.aws\/config line \d+: profile "fail" credential_process exited with code 3: token service unavailable/,
  );
  assert.is(err.exitCode, 2);
  assert.not.ok(err.message.includes(SEED_STATIC_SECRET_ACCESS_KEY));
  const garbage = await failure(e.resolveCredentials(req('garbage')));
  assert.match(garbage.message, /profile "garbage" credential_process printed something that is not JSON/);
  assert.not.ok(garbage.message.includes(SEED_STATIC_SECRET_ACCESS_KEY), 'stdout is never echoed');
  assert.not.ok(JSON.stringify(logger.records).includes(SEED_STATIC_SECRET_ACCESS_KEY), 'never logged');
  await e.shutdown({ reason: 'command-done' });
});

test('environment variables when a credential source asks for them', async () => {
  const e = await engine();
  const missing = await failure(e.resolveCredentials(req('role', { credentialSource: 'Environment' })));
  assert.match(missing.message, /profile "role" has credential_source = Environment but AWS_ACCESS_KEY_ID/);
  process.env.AWS_ACCESS_KEY_ID = SEED_STATIC_ACCESS_KEY_ID;
  process.env.AWS_SECRET_ACCESS_KEY = SEED_STATIC_SECRET_ACCESS_KEY;
  process.env.AWS_CREDENTIAL_EXPIRATION = new Date(Date.now() + 3_600_000).toISOString();
  try {
    const c = await e.resolveCredentials(req('role', { credentialSource: 'Environment' }));
    assert.is(c.source, 'environment');
    assert.ok(c.expiration);
    assert.is(await arnOf(c), 'arn:aws:iam::111111111111:user/ci');
  } finally {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    delete process.env.AWS_CREDENTIAL_EXPIRATION;
  }
  await e.shutdown({ reason: 'command-done' });
});

test('sso, role_arn and unknown profiles are left to other plugins (undefined)', async () => {
  const e = await engine();
  for (const profile of ['dev', 'role', 'nope']) {
    const err = await failure(e.resolveCredentials(req(profile)));
    assert.instance(rootCause(err), NoCredentialsError, profile);
  }
  // A role profile with static keys is a source from the second hop on (the AWS CLI's rule).
  writeFileSync(
    home.credentialsFile,
    readFileSync(home.credentialsFile, 'utf8') +
      `\n[role]\naws_access_key_id = ${SEED_STATIC_ACCESS_KEY_ID}\naws_secret_access_key = ${SEED_STATIC_SECRET_ACCESS_KEY}\n`,
  );
  await failure(e.resolveCredentials(req('role')));
  const asSource = await e.resolveCredentials(
    req('role', { purpose: { kind: 'source-profile', forProfile: 'other' }, chain: ['other'] }),
  );
  assert.is(asSource.accessKeyId, SEED_STATIC_ACCESS_KEY_ID);
  await e.shutdown({ reason: 'command-done' });
});

test.run();
