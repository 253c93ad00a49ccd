import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testIf } from '../helpers/system.js';
import {
  AwsConfigError,
  checkRegistration,
  findRegistration,
  legacyRegistrationCacheName,
  pythonJsonDumpsSorted,
  readRegistration,
  registrationCacheKey,
  registrationCachePath,
  writeRegistration,
} from '../../src/aws/index.js';

const cacheDir = mkdtempSync(join(tmpdir(), 'stormtunnel-reg-'));
test.after(() => rmSync(cacheDir, { recursive: true, force: true }));
const opts = { cacheDir };

test('Python json.dumps(sort_keys=True) replica (goldens from CPython 3.11)', () => {
  assert.is(
    pythonJsonDumpsSorted({
      tool: 'botocore',
      startUrl: 'https://my-org.awsapps.com/start',
      region: 'us-east-1',
      scopes: ['sso:account:access'],
      session_name: 'my-sso',
    }),
    '{"region": "us-east-1", "scopes": ["sso:account:access"], "session_name": "my-sso", "startUrl": "https://my-org.awsapps.com/start", "tool": "botocore"}',
  );
  assert.is(
    pythonJsonDumpsSorted({
      tool: 'botocore',
      startUrl: 'https://d-123.awsapps.com/start#/',
      region: 'eu-west-1',
      scopes: null,
      session_name: 'café "x"\\\n😀',
    }),
    '{"region": "eu-west-1", "scopes": null, "session_name": "caf\\u00e9 \\"x\\"\\\\\\n\\ud83d\\ude00", "startUrl": "https://d-123.awsapps.com/start#/", "tool": "botocore"}',
  );
});

test('registration cache key (golden computed with hashlib.sha1 over the JSON above)', () => {
  assert.is(
    registrationCacheKey({
      startUrl: 'https://my-org.awsapps.com/start',
      region: 'us-east-1',
      scopes: ['sso:account:access'],
      sessionName: 'my-sso',
    }),
    '19f1d250a5c239d09c992e412e777d484650b152',
  );
  assert.is(
    registrationCacheKey({
      startUrl: 'https://d-123.awsapps.com/start#/',
      region: 'eu-west-1',
      scopes: undefined,
      sessionName: 'café "x"\\\n😀',
    }),
    '85c134f3e6b7b268618969e0e0c9022bad4186be',
  );
});

const hasPython = spawnSync('python3', ['-c', 'import json, hashlib'], { stdio: 'ignore' }).status === 0;
// Missing locally: skipped; with CI=true: a failure (test/helpers/system.ts).
const pyTest = testIf(test, hasPython, 'python3 (the registration cache key is checked against CPython)');
pyTest('live check against CPython for awkward inputs', () => {
  const inputs = [
    {
      startUrl: 'https://a.awsapps.com/start',
      region: 'us-east-1',
      scopes: ['sso:account:access', 'codewhisperer:completions'],
      sessionName: 'x y',
    },
    {
      startUrl: 'https://ü.example/start?q=1&r=2',
      region: 'ap-southeast-2',
      scopes: [],
      sessionName: undefined,
    },
    {
      startUrl: 'https://a.awsapps.com/start',
      region: 'us-east-1',
      scopes: ['\u0001\u007f\u2028'],
      sessionName: '\t"\\/',
    },
  ];
  for (const i of inputs) {
    const py = spawnSync(
      'python3',
      [
        '-c',
        'import json,hashlib,sys; a=json.loads(sys.argv[1]); print(hashlib.sha1(json.dumps(a, sort_keys=True).encode("utf-8")).hexdigest())',
        JSON.stringify({
          tool: 'botocore',
          startUrl: i.startUrl,
          region: i.region,
          scopes: i.scopes,
          session_name: i.sessionName ?? null,
        }),
      ],
      { encoding: 'utf8' },
    );
    assert.is(py.status, 0, py.stderr);
    assert.is(registrationCacheKey(i), py.stdout.trim());
  }
});

const later = (ms: number) => new Date(Math.floor((Date.now() + ms) / 1000) * 1000);

test('write/read round trip in botocore format, 0600, unknown fields kept', async () => {
  const name = registrationCacheKey({
    startUrl: 'https://r.awsapps.com/start',
    region: 'us-east-1',
    scopes: ['sso:account:access'],
    sessionName: 's',
  });
  const path = registrationCachePath(name, opts);
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(
    path,
    '{"clientId": "old", "clientSecret": "old", "expiresAt": "2030-01-01T00:00:00Z", "vendor": 1}',
  );
  const reg = {
    clientId: 'cid',
    clientSecret: 'csec',
    expiresAt: later(86400_000),
    scopes: ['sso:account:access'],
    grantTypes: ['authorization_code', 'refresh_token'],
    extra: {},
  };
  await writeRegistration(name, reg, opts);
  assert.is(statSync(path).mode & 0o777, 0o600);
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  assert.match(String(raw.expiresAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.is(raw.vendor, 1);
  assert.equal(await readRegistration(name, opts), { ...reg, extra: { vendor: 1 } });
});

test('expired 15 minutes early; device and PKCE registrations are not interchangeable', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  const base = { clientId: 'c', clientSecret: 's', extra: {} };
  assert.equal(checkRegistration({ ...base, expiresAt: new Date('2030-01-01T00:14:59Z') }, 'device', now), {
    usable: false,
    reason: 'expired',
  });
  assert.equal(checkRegistration({ ...base, expiresAt: new Date('2030-01-01T00:15:01Z') }, 'device', now), {
    usable: true,
  });
  const future = new Date('2030-06-01T00:00:00Z');
  const pkce = { ...base, expiresAt: future, grantTypes: ['authorization_code', 'refresh_token'] };
  const device = {
    ...base,
    expiresAt: future,
    grantTypes: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
  };
  const old = { ...base, expiresAt: future };
  assert.equal(checkRegistration(pkce, 'pkce', now), { usable: true });
  assert.equal(checkRegistration(pkce, 'device', now), { usable: false, reason: 'wrong-flow' });
  assert.equal(checkRegistration(device, 'pkce', now), { usable: false, reason: 'wrong-flow' });
  assert.equal(checkRegistration(device, 'device', now), { usable: true });
  assert.equal(checkRegistration(old, 'device', now), { usable: true });
  assert.equal(checkRegistration(old, 'pkce', now), { usable: false, reason: 'wrong-flow' });
});

test('findRegistration: hashed name first, older botocore-client-id-<region> only for legacy scope-less logins', async () => {
  mkdirSync(cacheDir, { recursive: true });
  const legacyPath = registrationCachePath(legacyRegistrationCacheName('eu-west-2'), opts);
  assert.match(legacyPath, /botocore-client-id-eu-west-2\.json$/);
  writeFileSync(
    legacyPath,
    JSON.stringify({
      clientId: 'legacy-c',
      clientSecret: 'legacy-s',
      expiresAt: later(86400_000).toISOString().replace('.000', ''),
    }),
  );
  const legacyInput = {
    startUrl: 'https://l.awsapps.com/start',
    region: 'eu-west-2',
    scopes: undefined,
    sessionName: undefined,
    flow: 'device' as const,
  };
  assert.is((await findRegistration(legacyInput, opts))?.registration.clientId, 'legacy-c');
  assert.is(
    await findRegistration({ ...legacyInput, sessionName: 'sess', scopes: ['sso:account:access'] }, opts),
    undefined,
  );
  assert.is(await findRegistration({ ...legacyInput, flow: 'pkce' }, opts), undefined);
  const name = registrationCacheKey({ ...legacyInput, sessionName: 'sess', scopes: ['sso:account:access'] });
  await writeRegistration(
    name,
    {
      clientId: 'new-c',
      clientSecret: 'new-s',
      expiresAt: later(86400_000),
      grantTypes: ['authorization_code', 'refresh_token'],
      extra: {},
    },
    opts,
  );
  assert.is(
    (
      await findRegistration(
        { ...legacyInput, sessionName: 'sess', scopes: ['sso:account:access'], flow: 'pkce' },
        opts,
      )
    )?.name,
    name,
  );
});

test('a corrupt registration is reported and kept', async () => {
  const name = registrationCacheKey({
    startUrl: 'https://c.awsapps.com/start',
    region: 'us-east-1',
    scopes: undefined,
    sessionName: 'c',
  });
  const path = registrationCachePath(name, opts);
  writeFileSync(path, '{"clientSecret": "TOPSECRET"');
  const e = await readRegistration(name, opts).catch((x: unknown) => x);
  assert.instance(e, AwsConfigError);
  assert.not.match(String((e as Error).message), /TOPSECRET/);
  assert.is(readFileSync(path, 'utf8'), '{"clientSecret": "TOPSECRET"');
});

test.run();
