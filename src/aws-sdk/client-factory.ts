// Builds AWS SDK v3 clients. The SDK is imported lazily so that `stormtunnel --help` stays fast.
// SDK retries are off (maxAttempts 1): the retry plugin decides every retry, so the two layers never
// multiply attempts (5 of ours x 3 of the SDK's would be 15 calls).
// Every request has a deadline (the SDK has none by default: a silent endpoint would hang the command
// forever): 5 s to connect, 20 s for the answer, so 5 attempts with backoff fit the 120 s recovery budget.
// A timeout is a network failure (TimeoutError, ETIMEDOUT) that the retry plugin retries.
import type { AwsClientFactory, AwsClientOptions, AwsServiceId } from '../engine/types.js';

export const CONNECT_TIMEOUT_MS = 5_000;
export const REQUEST_TIMEOUT_MS = 20_000;

/** STORMTUNNEL_AWS_TIMEOUT_MS overrides the answer deadline (tests, slow links); the connect one follows it down. */
function timeouts(env: NodeJS.ProcessEnv): { connectionTimeout: number; requestTimeout: number } {
  const raw = env.STORMTUNNEL_AWS_TIMEOUT_MS;
  const ms = raw && /^\d+$/.test(raw) && Number(raw) > 0 ? Number(raw) : REQUEST_TIMEOUT_MS;
  return { connectionTimeout: Math.min(CONNECT_TIMEOUT_MS, ms), requestTimeout: ms };
}

const ENV_SUFFIX: Record<AwsServiceId, string> = {
  sso: 'SSO',
  'sso-oidc': 'SSO_OIDC',
  sts: 'STS',
  ssm: 'SSM',
  ec2: 'EC2',
  ecs: 'ECS',
  rds: 'RDS',
};

export function createAwsClientFactory(env: NodeJS.ProcessEnv = process.env): AwsClientFactory {
  const base = (o: AwsClientOptions, service: AwsServiceId) => {
    const endpoint = endpointFromEnv(service, env);
    return {
      region: o.region,
      maxAttempts: 1,
      requestHandler: { ...timeouts(env), throwOnRequestTimeout: true },
      ...(endpoint ? { endpoint } : {}),
      ...(o.credentials ? { credentials: o.credentials } : {}),
      ...(o.profile ? { profile: o.profile } : {}),
    };
  };
  return {
    endpointFor: (service) => endpointFromEnv(service, env),
    async sso(o) {
      const { SSOClient } = await import('@aws-sdk/client-sso');
      return new SSOClient(base(o, 'sso'));
    },
    async ssoOidc(o) {
      const { SSOOIDCClient } = await import('@aws-sdk/client-sso-oidc');
      return new SSOOIDCClient(base(o, 'sso-oidc'));
    },
    async sts(o) {
      const { STSClient } = await import('@aws-sdk/client-sts');
      return new STSClient(base(o, 'sts'));
    },
    async ssm(o) {
      const { SSMClient } = await import('@aws-sdk/client-ssm');
      return new SSMClient(base(o, 'ssm'));
    },
    async ec2(o) {
      const { EC2Client } = await import('@aws-sdk/client-ec2');
      return new EC2Client(base(o, 'ec2'));
    },
    async ecs(o) {
      const { ECSClient } = await import('@aws-sdk/client-ecs');
      return new ECSClient(base(o, 'ecs'));
    },
    async rds(o) {
      const { RDSClient } = await import('@aws-sdk/client-rds');
      return new RDSClient(base(o, 'rds'));
    },
  };
}

/** AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL, unless configured endpoints are ignored. */
export function endpointFromEnv(service: AwsServiceId, env: NodeJS.ProcessEnv): string | undefined {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true') return undefined;
  return env[`AWS_ENDPOINT_URL_${ENV_SUFFIX[service]}`] || env.AWS_ENDPOINT_URL || undefined;
}
