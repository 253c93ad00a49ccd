// Endpoint URL for a service, with the SDK's precedence (@smithy/core getEndpointFromConfig):
// ignore flag -> AWS_ENDPOINT_URL_<SERVICE> -> AWS_ENDPOINT_URL -> [services X] `<service>.endpoint_url`
// -> profile `endpoint_url`. Client settings prefer the config file over the credentials file.
import type { EndpointServiceId, Env, ResolvedEndpoint, SharedConfig } from './types.js';

/** The SDK `serviceId` of each client we use. */
export const SERVICE_IDS: Readonly<Record<EndpointServiceId, string>> = {
  'sso-oidc': 'SSO OIDC',
  sso: 'SSO',
  sts: 'STS',
  ssm: 'SSM',
};

function envVarFor(service: EndpointServiceId): string {
  return ['AWS_ENDPOINT_URL', ...SERVICE_IDS[service].split(' ').map((w) => w.toUpperCase())].join('_');
}

function servicesKeyFor(service: EndpointServiceId): string {
  return `${SERVICE_IDS[service]
    .split(' ')
    .map((w) => w.toLowerCase())
    .join('_')}.endpoint_url`;
}

function parseBool(value: string | undefined): boolean | undefined {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

/** Client-setting view of a profile: config-file values win over credentials-file values. */
function clientSettings(config: SharedConfig, profileName: string): Record<string, string> {
  const p = config.profiles.get(profileName);
  return p ? { ...p.credentialsValues, ...p.configValues } : {};
}

export function ignoresConfiguredEndpoints(
  config: SharedConfig,
  profileName: string,
  env: Env = config.env,
): boolean {
  // Like the SDK, an env value other than true/false falls through to the profile setting.
  const fromEnv = parseBool(env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS);
  if (fromEnv !== undefined) return fromEnv;
  return parseBool(clientSettings(config, profileName).ignore_configured_endpoint_urls) ?? false;
}

export function resolveEndpointUrl(
  config: SharedConfig,
  service: EndpointServiceId,
  profileName: string = config.selectedProfile,
): ResolvedEndpoint | undefined {
  const env = config.env;
  if (ignoresConfiguredEndpoints(config, profileName, env)) return undefined;
  const specific = envVarFor(service);
  const specificUrl = env[specific];
  if (specificUrl) return { url: specificUrl, source: { kind: 'env', variable: specific } };
  if (env.AWS_ENDPOINT_URL)
    return { url: env.AWS_ENDPOINT_URL, source: { kind: 'env', variable: 'AWS_ENDPOINT_URL' } };
  const settings = clientSettings(config, profileName);
  const servicesName = settings.services;
  if (servicesName !== undefined) {
    const section = config.services.get(servicesName);
    // The SDK stops here (no profile endpoint_url either) when the section is missing; validate reports it.
    if (!section) return undefined;
    const key = servicesKeyFor(service);
    const url = section.values[key];
    if (url) return { url, source: { kind: 'services-section', section: servicesName, key } };
  }
  const url = settings.endpoint_url;
  if (url) return { url, source: { kind: 'profile', profile: profileName } };
  return undefined;
}
