// The OIDC client registration, shared with the AWS CLI through its registration cache and reused while it
// is valid (15 minutes of margin) and made for the same flow (device and PKCE registrations differ).
import { findRegistration, registrationCacheKey, writeRegistration } from '../../src/plugin-kit/index.js';
import type { ClientRegistration } from '../../src/plugin-kit/index.js';
import type { SSOOIDCClient } from '@aws-sdk/client-sso-oidc';
import { registrationScopes } from './session-ref.js';
import type { SsoSessionRef } from './types.js';

export const PKCE_REDIRECT_URI = 'http://127.0.0.1/oauth/callback';

export async function getRegistration(
  oidc: SSOOIDCClient,
  ref: SsoSessionRef,
  flow: 'device' | 'pkce',
  opts: { clientName: string; now: Date; env: NodeJS.ProcessEnv; ignoreCache?: boolean },
): Promise<ClientRegistration> {
  const keyInput = {
    startUrl: ref.startUrl,
    region: ref.region,
    scopes: ref.configuredScopes,
    sessionName: ref.legacy ? undefined : ref.name,
  };
  const found = opts.ignoreCache
    ? undefined
    : await findRegistration({ ...keyInput, flow, now: opts.now }, { env: opts.env });
  if (found) return found.registration;

  const { RegisterClientCommand } = await import('@aws-sdk/client-sso-oidc');
  const scopes = registrationScopes(ref);
  const out = await oidc.send(
    new RegisterClientCommand({
      clientName: `${opts.clientName}-${ref.legacy ? 'legacy' : ref.name}`.slice(0, 128),
      clientType: 'public',
      ...(scopes ? { scopes } : {}),
      ...(flow === 'pkce'
        ? {
            grantTypes: ['authorization_code', 'refresh_token'],
            redirectUris: [PKCE_REDIRECT_URI],
            issuerUrl: ref.startUrl,
          }
        : {}),
    }),
  );
  if (!out.clientId || !out.clientSecret || !out.clientSecretExpiresAt) {
    throw new Error('RegisterClient answered without clientId, clientSecret or clientSecretExpiresAt');
  }
  const reg: ClientRegistration = {
    clientId: out.clientId,
    clientSecret: out.clientSecret,
    expiresAt: new Date(out.clientSecretExpiresAt * 1000),
    ...(scopes ? { scopes } : {}),
    ...(flow === 'pkce' ? { grantTypes: ['authorization_code', 'refresh_token'] } : {}),
    extra: {},
  };
  await writeRegistration(registrationCacheKey(keyInput), reg, { env: opts.env });
  return reg;
}
