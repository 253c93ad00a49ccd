import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AwsConfigError,
  assertProfileUsable,
  classifyProfile,
  describeProfiles,
  loadSharedConfig,
  resolveRoleChain,
  sharedConfigFromText,
  splitCommandLine,
  validateConfig,
} from '../../src/aws/index.js';

const home = mkdtempSync(join(tmpdir(), 'stormtunnel-profiles-'));
test.after(() => rmSync(home, { recursive: true, force: true }));

const CONFIG = `
[default]
region = us-east-1

[sso-session acme]
sso_start_url = https://acme.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access, codewhisperer:completions

[profile dev]
sso_session = acme
sso_account_id = 111111111111
sso_role_name = Developer
region = eu-west-1

[profile admin]
role_arn = arn:aws:iam::222222222222:role/path/Admin
source_profile = dev
external_id = ext
mfa_serial = arn:aws:iam::111111111111:mfa/me
duration_seconds = 7200

[profile deep]
role_arn = arn:aws:iam::333333333333:role/Deep
source_profile = admin

[profile proc]
credential_process = /usr/bin/get-creds --profile "x y"
`;

test('loadSharedConfig: default paths under HOME, missing files are empty, env selection', async () => {
  mkdirSync(join(home, '.aws'), { recursive: true });
  writeFileSync(join(home, '.aws', 'config'), CONFIG);
  const config = await loadSharedConfig({ env: { HOME: home, AWS_PROFILE: 'dev' } });
  assert.is(config.configFile.path, join(home, '.aws', 'config'));
  assert.is(config.credentialsFile.exists, false);
  assert.is(config.selectedProfile, 'dev');
  assert.is(config.selectedProfileSource, 'AWS_PROFILE');
  assert.is(config.region, 'eu-west-1');
  assert.is(config.regionSource, 'profile');
  const env2 = await loadSharedConfig({ env: { HOME: home, AWS_DEFAULT_REGION: 'ap-south-1' } });
  assert.is(env2.selectedProfile, 'default');
  assert.equal([env2.region, env2.regionSource], ['ap-south-1', 'AWS_DEFAULT_REGION']);
  const env3 = await loadSharedConfig({
    env: { HOME: home, AWS_DEFAULT_REGION: 'ap-south-1', AWS_REGION: 'sa-east-1' },
  });
  assert.equal([env3.region, env3.regionSource], ['sa-east-1', 'AWS_REGION']);
  // AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE with ~/ expansion.
  writeFileSync(join(home, 'alt-config'), '[profile alt]\nregion = us-west-1\n');
  writeFileSync(
    join(home, 'alt-creds'),
    '[alt]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s\n',
  );
  const alt = await loadSharedConfig({
    env: {
      HOME: home,
      AWS_CONFIG_FILE: '~/alt-config',
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'alt-creds'),
      AWS_PROFILE: 'alt',
    },
  });
  assert.is(alt.configFile.path, join(home, 'alt-config'));
  assert.is(classifyProfile('alt', alt).type, 'static');
  assert.is(alt.region, 'us-west-1');
});

test('an unreadable file is an error naming it', async () => {
  mkdirSync(join(home, 'a-folder'), { recursive: true });
  const e = await loadSharedConfig({ env: { HOME: home }, configFile: join(home, 'a-folder') }).catch(
    (x: unknown) => x,
  );
  assert.instance(e, AwsConfigError);
  assert.is((e as AwsConfigError).file, join(home, 'a-folder'));
  assert.match((e as Error).message, /^~\/a-folder: cannot read the config file: it is a folder/);
});

test('classifyProfile gives every variant its data', () => {
  const config = sharedConfigFromText({ config: CONFIG, env: { HOME: home } });
  const dev = classifyProfile('dev', config);
  assert.equal(dev, {
    name: 'dev',
    region: 'eu-west-1',
    type: 'sso',
    variant: 'session',
    startUrl: 'https://acme.awsapps.com/start',
    ssoRegion: 'us-east-1',
    accountId: '111111111111',
    roleName: 'Developer',
    ssoSession: 'acme',
    registrationScopes: ['sso:account:access', 'codewhisperer:completions'],
  });
  const admin = classifyProfile('admin', config);
  assert.equal(admin, {
    name: 'admin',
    region: undefined,
    type: 'assume-role',
    roleArn: 'arn:aws:iam::222222222222:role/path/Admin',
    source: { profile: 'dev' },
    externalId: 'ext',
    mfaSerial: 'arn:aws:iam::111111111111:mfa/me',
    roleSessionName: undefined,
    durationSeconds: 7200,
  });
  assert.is(classifyProfile('default', config).type, 'incomplete');
  assert.equal(classifyProfile('proc', config), {
    name: 'proc',
    region: undefined,
    type: 'credential-process',
    command: '/usr/bin/get-creds --profile "x y"',
  });
  assert.throws(() => classifyProfile('nope', config), /profile "nope" is not defined/);
});

test('resolveRoleChain lists hops to the SSO source', () => {
  const config = sharedConfigFromText({ config: CONFIG, env: { HOME: home } });
  const hops = resolveRoleChain('deep', config);
  assert.equal(
    hops.map((h) => [h.kind, h.profile]),
    [
      ['assume-role', 'deep'],
      ['assume-role', 'admin'],
      ['source', 'dev'],
    ],
  );
  assert.equal(hops[2], { kind: 'source', profile: 'dev', credentialType: 'sso' });
});

test('from the second hop static keys win over role_arn', () => {
  const config = sharedConfigFromText({
    config: '[profile top]\nrole_arn = arn:aws:iam::123456789012:role/T\nsource_profile = mid\n',
    credentials:
      '[mid]\naws_access_key_id = AKIA1\naws_secret_access_key = s\nrole_arn = arn:aws:iam::123456789012:role/M\nsource_profile = nowhere\n',
    env: { HOME: home },
  });
  assert.equal(
    resolveRoleChain('top', config).map((h) => h.kind),
    ['assume-role', 'source'],
  );
  // At the first hop role_arn wins (and the missing source is an error).
  assert.throws(() => resolveRoleChain('mid', config), /there is no profile "nowhere"/);
});

test('describeProfiles rows for profiles --json', () => {
  const config = sharedConfigFromText({ config: CONFIG, env: { HOME: home } });
  const rows = describeProfiles(config);
  assert.equal(
    rows.map((r) => r.name),
    ['default', 'dev', 'admin', 'deep', 'proc'],
  );
  const deep = rows.find((r) => r.name === 'deep');
  assert.equal(deep, {
    name: 'deep',
    type: 'assume-role',
    region: undefined,
    roleArn: 'arn:aws:iam::333333333333:role/Deep',
    accountId: '333333333333',
    roleName: 'Deep',
    chain: ['deep', 'admin', 'dev'],
    ssoSession: 'acme',
    startUrl: 'https://acme.awsapps.com/start',
    errors: [],
    warnings: [],
  });
  const dev = rows.find((r) => r.name === 'dev');
  assert.equal([dev?.accountId, dev?.roleName, dev?.ssoSession], ['111111111111', 'Developer', 'acme']);
  assert.match(rows[0]?.warnings[0] ?? '', /no credential settings/);
  JSON.stringify(rows);
});

test('describeProfiles puts errors and warnings on the right row', () => {
  const config = sharedConfigFromText({
    config:
      '[profile a]\nsso_session = s\nsso_account_id = 111122223333\nRegion = us-east-1\n[sso-session s]\nsso_start_url = https://s.awsapps.com/start\nsso_region = us-east-1\n[profile b]\nregion = us-east-1 # home\n',
    env: { HOME: home },
  });
  const [a, b] = describeProfiles(config);
  assert.equal(a?.errors, [
    '~/.aws/config line 3: profile "a" has sso_account_id but no sso_role_name; add sso_role_name = <role>',
  ]);
  // The AWS CLI lower-cases keys: Region is region.
  assert.is(a?.region, 'us-east-1');
  assert.equal(b?.errors, []);
  assert.ok(b?.warnings.some((w) => w.startsWith('line 9: "region": the AWS CLI keeps the text after #')));
});

test('assertProfileUsable throws one-line AwsConfigError with file, line, key and profile', () => {
  const config = sharedConfigFromText({
    config:
      '[profile a]\nrole_arn = arn:aws:iam::123456789012:role/A\nsource_profile = b\n[profile b]\nrole_arn = arn:aws:iam::123456789012:role/B\nsource_profile = a\n[profile empty-ish]\nregion = us-east-1\n',
    env: { HOME: home },
  });
  try {
    assertProfileUsable(config, 'a');
    assert.unreachable();
  } catch (e) {
    assert.instance(e, AwsConfigError);
    const err = e as AwsConfigError;
    assert.is(err.line, 6);
    assert.is(err.key, 'source_profile');
    assert.is(err.profile, 'b');
    assert.is(
      err.message,
      '~/.aws/config line 6: source_profile loop: a -> b -> a; point one of them at a profile with credentials',
    );
  }
  assert.throws(() => assertProfileUsable(config, 'empty-ish'), /no credential settings/);
  assert.throws(() => assertProfileUsable(config, 'missing'), /profile "missing" is not defined/);
});

test('AWS_PROFILE naming a missing profile is the undefined-profile error; AWS_DEFAULT_PROFILE only warns', () => {
  const bad = sharedConfigFromText({
    config: '[default]\nregion = x-y-1\n',
    env: { HOME: home, AWS_PROFILE: 'ghost' },
  });
  assert.ok(validateConfig(bad).errors.some((e) => /profile "ghost" is not defined/.test(e.message)));
  const legacy = sharedConfigFromText({
    config: '[default]\nregion = us-east-1\n',
    env: { HOME: home, AWS_DEFAULT_PROFILE: 'other' },
  });
  assert.ok(legacy.diagnostics.some((d) => /AWS_DEFAULT_PROFILE=other/.test(d.message)));
});

test('splitCommandLine follows POSIX shell quoting without running a shell', () => {
  assert.equal(splitCommandLine(`/bin/tool --a "x y" 'q "r"' s\\ t "e\\"f"`), [
    '/bin/tool',
    '--a',
    'x y',
    'q "r"',
    's t',
    'e"f',
  ]);
  assert.equal(splitCommandLine('a "" b'), ['a', '', 'b']);
  assert.throws(() => splitCommandLine('a "b'), /unterminated/);
});

test.run();
