// Our endpoint resolution vs the SDK's own (`client.config.serviceConfiguredEndpoint()`, which reads
// process.env and the shared files) for each client we use, across env/config combinations.
import { SSMClient } from '@aws-sdk/client-ssm';
import { SSOClient } from '@aws-sdk/client-sso';
import { SSOOIDCClient } from '@aws-sdk/client-sso-oidc';
import { STSClient } from '@aws-sdk/client-sts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadSharedConfig, resolveEndpointUrl, type EndpointServiceId } from '../../src/aws/index.js';

const dir = mkdtempSync(join(tmpdir(), 'stormtunnel-endpoints-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG = `
[profile plain]
region = us-east-1

[profile ep]
region = us-east-1
endpoint_url = http://127.0.0.1:1000

[profile svc]
region = us-east-1
endpoint_url = http://127.0.0.1:2000
services = local

[profile svc-missing]
region = us-east-1
endpoint_url = http://127.0.0.1:3000
services = nope

[profile ignore]
region = us-east-1
endpoint_url = http://127.0.0.1:4000
ignore_configured_endpoint_urls = true

[services local]
sso_oidc =
  endpoint_url = http://127.0.0.1:2001
ssm =
  endpoint_url = http://127.0.0.1:2002
`;
const CREDENTIALS = `
[ep]
endpoint_url = http://127.0.0.1:9999
`;

type Configured = { serviceConfiguredEndpoint?: () => Promise<string | undefined> };
const clients: Record<EndpointServiceId, () => { config: object }> = {
  'sso-oidc': () => new SSOOIDCClient({ region: 'us-east-1' }),
  sso: () => new SSOClient({ region: 'us-east-1' }),
  sts: () => new STSClient({ region: 'us-east-1' }),
  ssm: () => new SSMClient({ region: 'us-east-1' }),
};

const ENV_KEYS = [
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_PROFILE',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_SSO_OIDC',
  'AWS_ENDPOINT_URL_SSO',
  'AWS_ENDPOINT_URL_STS',
  'AWS_ENDPOINT_URL_SSM',
  'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
];

let n = 0;
async function compare(
  profile: string,
  extraEnv: Record<string, string>,
  expect: Partial<Record<EndpointServiceId, string | undefined>>,
) {
  // Fresh paths each time: the SDK caches file reads by path.
  const cfg = join(dir, `config-${n}`);
  const cred = join(dir, `credentials-${n++}`);
  writeFileSync(cfg, CONFIG);
  writeFileSync(cred, CREDENTIALS);
  const env = {
    HOME: dir,
    AWS_CONFIG_FILE: cfg,
    AWS_SHARED_CREDENTIALS_FILE: cred,
    AWS_PROFILE: profile,
    ...extraEnv,
  };
  const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  for (const k of ENV_KEYS) delete process.env[k];
  Object.assign(process.env, env);
  try {
    const config = await loadSharedConfig({ env });
    for (const service of Object.keys(clients) as EndpointServiceId[]) {
      const ours = resolveEndpointUrl(config, service)?.url;
      const clientConfig = clients[service]().config as Configured;
      assert.type(
        clientConfig.serviceConfiguredEndpoint,
        'function',
        'this SDK version exposes serviceConfiguredEndpoint',
      );
      const sdk = await clientConfig.serviceConfiguredEndpoint?.();
      assert.is(ours, sdk, `${profile} ${service} ${JSON.stringify(extraEnv)}: SDK says ${sdk}`);
      if (service in expect) assert.is(ours, expect[service], `${profile} ${service} expected`);
    }
  } finally {
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

test('nothing configured', () => compare('plain', {}, { ssm: undefined, 'sso-oidc': undefined }));
test('profile endpoint_url (config file wins over the credentials file)', () =>
  compare('ep', {}, { ssm: 'http://127.0.0.1:1000', sts: 'http://127.0.0.1:1000' }));
test('services section per service, then the profile endpoint_url', () =>
  compare(
    'svc',
    {},
    { 'sso-oidc': 'http://127.0.0.1:2001', ssm: 'http://127.0.0.1:2002', sts: 'http://127.0.0.1:2000' },
  ));
test('missing services section: no configured endpoint at all', () =>
  compare('svc-missing', {}, { ssm: undefined }));
test('ignore_configured_endpoint_urls in the profile', () => compare('ignore', {}, { ssm: undefined }));
test('AWS_ENDPOINT_URL beats the files', () =>
  compare('svc', { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }, { ssm: 'http://127.0.0.1:5000' }));
test('AWS_ENDPOINT_URL_<SERVICE> beats AWS_ENDPOINT_URL', () =>
  compare(
    'ep',
    {
      AWS_ENDPOINT_URL: 'http://127.0.0.1:5000',
      AWS_ENDPOINT_URL_SSO_OIDC: 'http://127.0.0.1:6000',
      AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:7000',
    },
    { 'sso-oidc': 'http://127.0.0.1:6000', sts: 'http://127.0.0.1:7000', sso: 'http://127.0.0.1:5000' },
  ));
test('AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true ignores env and files', () =>
  compare(
    'ep',
    { AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true', AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' },
    { ssm: undefined },
  ));
test('AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=false overrides the profile setting', () =>
  compare('ignore', { AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'false' }, { ssm: 'http://127.0.0.1:4000' }));
test('an invalid AWS_IGNORE_CONFIGURED_ENDPOINT_URLS falls through to the profile', () =>
  compare('ignore', { AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'yes' }, { ssm: undefined }));

test.run();
