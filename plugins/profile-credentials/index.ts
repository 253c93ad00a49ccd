// The profile-credentials plugin: credentials that need no STS or SSO call. Static and temporary keys,
// credential_process (run without a shell, cached until 5 minutes before Expiration), and the
// credential_source of assume-role profiles (environment variables, instance or container metadata).
// Every other profile type (sso, role_arn, ...) is left to other plugins (undefined).
import { z } from 'zod';
import {
  classifyProfile,
  loadSharedConfig,
  resolveLocalCredentials,
  type AwsCredentials,
  duration,
  parsePluginOptions,
  type StormtunnelPlugin,
} from '../../src/plugin-kit/index.js';
import type { CredentialRequest, Credentials } from '../../src/plugin-kit/index.js';
import { CredentialCache } from './cache.js';
import { environmentCredentials } from './environment.js';
import { asUsageError } from './errors.js';
import { metadataCredentials } from './metadata.js';
import type { ProfileCredentialsOptions } from './types.js';

export type { ProfileCredentialsOptions } from './types.js';
export { CredentialCache, EARLY_REFRESH_MS } from './cache.js';

const optionsSchema = z.strictObject({
  processTimeout: z.optional(duration({ min: 1000, max: 600_000 })),
  metadataTimeout: z.optional(duration({ min: 100, max: 60_000 })),
});

function hasStaticKeys(values: Record<string, string>): boolean {
  return Boolean(values.aws_access_key_id) && Boolean(values.aws_secret_access_key);
}

function staticCredentials(c: AwsCredentials): Credentials {
  return {
    accessKeyId: c.accessKeyId,
    secretAccessKey: c.secretAccessKey,
    ...(c.sessionToken !== undefined ? { sessionToken: c.sessionToken } : {}),
    ...(c.accountId !== undefined ? { accountId: c.accountId } : {}),
    source: 'static',
  };
}

export function profileCredentials(options: ProfileCredentialsOptions = {}): StormtunnelPlugin {
  const opts = parsePluginOptions('profile-credentials', optionsSchema, options);
  const processTimeoutMs = opts.processTimeout ?? 60_000;
  const metadataTimeoutMs = opts.metadataTimeout ?? 2000;
  return {
    name: 'profile-credentials',
    apply(api) {
      const processes = new CredentialCache(api.clock);
      const metadata = new CredentialCache(api.clock);

      const resolve = async (req: CredentialRequest): Promise<Credentials | undefined> => {
        const env = process.env;
        if (req.credentialSource === 'Environment') {
          return environmentCredentials(env, req.profile, api.clock.now());
        }
        if (req.credentialSource) {
          const source = req.credentialSource;
          return metadata.get(source, Boolean(req.forceRefresh), () =>
            metadataCredentials(source, req.profile, metadataTimeoutMs, env),
          );
        }
        const config = await loadSharedConfig({ env });
        const profile = config.profiles.get(req.profile);
        if (!profile) return undefined;
        const t = classifyProfile(req.profile, config);
        if (t.type === 'static' || t.type === 'temporary') {
          const c = await resolveLocalCredentials(config, req.profile);
          return staticCredentials(c);
        }
        // From the second hop of a role chain on, static keys win over role_arn (the AWS CLI's rule).
        if (req.purpose.kind === 'source-profile' && hasStaticKeys(profile.values)) {
          const v = profile.values;
          return staticCredentials({
            accessKeyId: v.aws_access_key_id!,
            secretAccessKey: v.aws_secret_access_key!,
            ...(v.aws_session_token ? { sessionToken: v.aws_session_token } : {}),
            ...(v.aws_account_id ? { accountId: v.aws_account_id } : {}),
          });
        }
        if (t.type === 'credential-process') {
          // The command is part of the key: an edited config runs the new command, not the cached one.
          return processes.get(`${req.profile}\n${t.command}`, Boolean(req.forceRefresh), async () => {
            api.logger.debug('running credential_process', { profile: req.profile });
            const c = await resolveLocalCredentials(config, req.profile, {
              env,
              timeoutMs: processTimeoutMs,
            });
            return {
              accessKeyId: c.accessKeyId,
              secretAccessKey: c.secretAccessKey,
              ...(c.sessionToken !== undefined ? { sessionToken: c.sessionToken } : {}),
              ...(c.expiration !== undefined ? { expiration: c.expiration } : {}),
              ...(c.accountId !== undefined ? { accountId: c.accountId } : {}),
              source: 'credential-process',
            };
          });
        }
        return undefined;
      };

      api.hooks.resolveCredentials.tapPromise(async (req) => {
        try {
          return await resolve(req);
        } catch (err) {
          throw asUsageError(err);
        }
      });
    },
  };
}
