// The assume-role plugin: credentials for role_arn profiles through STS AssumeRole. The source credentials
// come from the engine itself, so a chain can start from SSO, static keys, credential_process, environment
// variables or another role; hops and loops follow the AWS CLI's rules (src/aws resolveRoleChain).
import { z } from 'zod';
import {
  AwsConfigError,
  classifyProfile,
  loadSharedConfig,
  resolveRegion,
  resolveRoleChain,
  validateProfile,
  type RoleChainHop,
  UsageError,
  parsePluginOptions,
  type StormtunnelPlugin,
} from '../../src/plugin-kit/index.js';
import type { CredentialRequest, Credentials } from '../../src/plugin-kit/index.js';
import { MfaCodes } from './mfa.js';
import { RoleCache } from './role-cache.js';
import { defaultRoleSessionName, ROLE_SESSION_NAME_RE } from './session-name.js';
import { callAssumeRole } from './sts-call.js';
import type { AssumeRoleOptions } from './types.js';

export type { AssumeRoleOptions, AssumedRole } from './types.js';
export { MfaRejectedError } from './sts-call.js';
export { defaultRoleSessionName, sanitizeRoleSessionName } from './session-name.js';

/** Longer chains are a loop between plugins, not a configuration anyone writes. */
const MAX_CHAIN = 16;

const optionsSchema = z.strictObject({
  mfaCode: z.optional(
    z.custom<NonNullable<AssumeRoleOptions['mfaCode']>>(
      (v) => typeof v === 'function',
      'expected a function',
    ),
  ),
  roleSessionName: z.optional(
    z.string().regex(ROLE_SESSION_NAME_RE, '2-64 letters, digits or + = , . @ _ -'),
  ),
});

function hasStaticKeys(values: Record<string, string>): boolean {
  return Boolean(values.aws_access_key_id) && Boolean(values.aws_secret_access_key);
}

function usage(err: unknown): unknown {
  return err instanceof AwsConfigError ? new UsageError(err.message, { cause: err }) : err;
}

export function assumeRole(options: AssumeRoleOptions = {}): StormtunnelPlugin {
  const opts = parsePluginOptions('assume-role', optionsSchema, options);
  return {
    name: 'assume-role',
    apply(api) {
      const roles = new RoleCache(api.clock);
      const mfa = new MfaCodes(api, opts.mfaCode);
      const fallbackSessionName = opts.roleSessionName ?? defaultRoleSessionName();

      const resolve = async (req: CredentialRequest): Promise<Credentials | undefined> => {
        if (req.credentialSource) return undefined;
        const config = await loadSharedConfig({ env: process.env });
        const profile = config.profiles.get(req.profile);
        if (!profile || profile.values.role_arn === undefined) return undefined;
        // As a later hop of a chain, a profile with static keys gives its keys (the AWS CLI's rule).
        if (req.purpose.kind === 'source-profile' && hasStaticKeys(profile.values)) return undefined;
        const t = classifyProfile(req.profile, config);
        if (t.type !== 'assume-role' && !(t.type === 'incomplete' && t.intended === 'assume-role'))
          return undefined;
        if (req.chain.length >= MAX_CHAIN || req.chain.includes(req.profile)) {
          throw new UsageError(
            `role chain loop: ${[...req.chain, req.profile].join(' -> ')}; point one of them at a profile with credentials`,
          );
        }
        // Role ARN, duration, credential_source, loops (printed a -> b -> a) and the source profiles.
        const problem = validateProfile(config, req.profile, { fileLevel: false }).errors[0];
        if (problem) throw problem;
        const hops = resolveRoleChain(req.profile, config);
        const hop = hops[0];
        const next = hops[1];
        if (hop?.kind !== 'assume-role' || !next)
          throw new Error(`no role chain for profile "${req.profile}"`);
        const sessionName = hop.roleSessionName ?? fallbackSessionName;
        if (!ROLE_SESSION_NAME_RE.test(sessionName)) {
          throw new UsageError(
            `profile "${req.profile}" has role_session_name = ${sessionName}; use 2-64 letters, digits or + = , . @ _ -`,
          );
        }
        const region = req.region ?? resolveRegion(config, req.profile)?.region ?? 'us-east-1';
        const sourceRequest = (forceRefresh: boolean): CredentialRequest => ({
          profile: next.profile,
          region,
          purpose: { kind: 'source-profile', forProfile: req.profile },
          chain: [...req.chain, req.profile],
          ...(req.allowSignIn ? { allowSignIn: true } : {}),
          ...(next.kind === 'credential-source'
            ? {
                credentialSource: next.credentialSource as NonNullable<CredentialRequest['credentialSource']>,
              }
            : {}),
          ...(forceRefresh ? { forceRefresh: true } : {}),
        });
        // Keyed by what the config says, so an edited profile is assumed again rather than served stale.
        const key = JSON.stringify([req.profile, hop, next, sessionName]);
        return roles.get(key, Boolean(req.forceRefresh), async () => {
          let source = await api.resolveCredentials(sourceRequest(false));
          const code = hop.mfaSerial
            ? await mfa.codeFor({ profile: req.profile, mfaSerial: hop.mfaSerial, roleArn: hop.roleArn })
            : undefined;
          const credentials = await callAssumeRole(
            api,
            {
              profile: req.profile,
              region,
              roleArn: hop.roleArn,
              roleSessionName: sessionName,
              externalId: hop.externalId,
              durationSeconds: hop.durationSeconds,
              mfa: hop.mfaSerial && code ? { serial: hop.mfaSerial, code } : undefined,
            },
            {
              get: () => source,
              refresh: async () => {
                source = await api.resolveCredentials(sourceRequest(true));
              },
            },
          );
          api.logger.debug('assumed role', {
            profile: req.profile,
            roleArn: hop.roleArn,
            via: next.profile,
            expiresAt: credentials.expiration?.toISOString(),
          });
          return {
            credentials,
            info: {
              profile: req.profile,
              roleArn: hop.roleArn,
              chain: chainNames(hops),
              expiresAt: credentials.expiration ?? new Date(api.clock.now()),
            },
          };
        });
      };

      api.hooks.resolveCredentials.tapPromise(async (req) => {
        try {
          return await resolve(req);
        } catch (err) {
          throw usage(err);
        }
      });

      api.hooks.collectStatus.tap((report) => {
        for (const { info, fresh } of roles.list()) {
          // Stale entries are not failures: the next request assumes the role again.
          const expired = info.expiresAt.getTime() <= api.clock.now();
          report.entries.push({
            kind: 'profile',
            name: info.profile,
            state: fresh ? 'role assumed' : expired ? 'role expired' : 'role expiring',
            detail: `${info.roleArn} via ${info.chain.join(' -> ')}, ${expired ? 'expired at' : 'valid until'} ${info.expiresAt.toISOString()}${fresh ? '' : '; assumed again on next use'}`,
            ok: true,
          });
        }
        return report;
      });
    },
  };
}

function chainNames(hops: RoleChainHop[]): string[] {
  const names: string[] = [];
  for (const h of hops) if (names[names.length - 1] !== h.profile) names.push(h.profile);
  return names;
}
