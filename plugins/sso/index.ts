// The sso plugin: sign-in to IAM Identity Center (PKCE or device code), one token per SSO session shared
// with the AWS CLI and kept in the token store, silent refresh before expiry, and role credentials.
import { z } from 'zod';
import {
  classifyProfile,
  duration,
  parsePluginOptions,
  type StormtunnelPlugin,
} from '../../src/plugin-kit/index.js';
import { startMonitor, type TokenMonitor } from './monitor.js';
import { RoleCredentials } from './role-credentials.js';
import { allSessions, readAwsConfig, sessionByName, sessionForProfile } from './session-ref.js';
import { SsoTokenLifecycle } from './token-lifecycle.js';
import { sessionStatus } from './status.js';
import type { SsoOptions, SsoSessionRef } from './types.js';

export type { SsoOptions, SsoSessionOptions, SsoSessionRef } from './types.js';
export { SignInRequiredError } from './token-lifecycle.js';
export { SignInError } from './sign-in.js';

const optionsSchema = z.strictObject({
  sessions: z.optional(z.record(z.string(), z.strictObject({ useDeviceCode: z.optional(z.boolean()) }))),
  clientName: z.optional(
    z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" or "-", at most 64'),
  ),
  openUrl: z.optional(
    z.custom<(url: string) => Promise<void>>((v) => typeof v === 'function', 'expected a function'),
  ),
  signInTimeout: z.optional(duration({ min: 1000, max: 3_600_000 })),
});

async function openInBrowser(url: string): Promise<void> {
  const { default: open } = await import('open');
  await open(url);
}

export function sso(options: SsoOptions = {}): StormtunnelPlugin {
  const opts = parsePluginOptions('sso', optionsSchema, options);
  return {
    name: 'sso',
    apply(api) {
      const env = process.env;
      const sessions = new SsoTokenLifecycle(
        api,
        { ...opts, signInTimeoutMs: opts.signInTimeout ?? 10 * 60_000 },
        env,
        opts.openUrl ?? openInBrowser,
      );
      const roles = new RoleCredentials(api, sessions);
      const ssoOpts: SsoOptions = opts;

      const refFor = async (req: {
        profile?: string;
        ssoSession?: string;
      }): Promise<SsoSessionRef | undefined> => {
        const config = await readAwsConfig(env);
        if (req.ssoSession) return sessionByName(config, req.ssoSession, ssoOpts);
        return sessionForProfile(config, req.profile ?? config.selectedProfile, ssoOpts);
      };

      api.hooks.resolveCredentials.tapPromise(async (req) => {
        const config = await readAwsConfig(env);
        if (!config.profiles.has(req.profile)) return undefined;
        const p = classifyProfile(req.profile, config);
        if (p.type !== 'sso') return undefined;
        const ref = sessionForProfile(config, req.profile, ssoOpts)!;
        return roles.get(ref, p.accountId, p.roleName, {
          profile: req.profile,
          allowSignIn: Boolean(req.allowSignIn),
          ...(req.forceRefresh ? { forceRefresh: true } : {}),
        });
      });

      api.hooks.getSsoToken.tapPromise(async (req) => {
        const ref = await refFor(req);
        if (!ref) return undefined;
        const t = await sessions.validToken(ref, {
          allowSignIn: Boolean(req.allowSignIn),
          ...(req.profile ? { profile: req.profile } : {}),
        });
        return {
          session: ref.name,
          accessToken: t.accessToken,
          region: ref.region,
          startUrl: ref.startUrl,
          expiresAt: t.expiresAt,
        };
      });

      api.hooks.signIn.tapPromise(async (req) => {
        const ref = await refFor(req);
        if (!ref) return undefined;
        const store = await api.services.tokenStore
          .describe()
          .catch(() => ({ available: false, detail: 'unreachable' }));
        if (!store.available) api.services.prompt.say(`Note: ${store.detail}`);
        const t = await sessions.signIn(ref, {
          force: true,
          ...(req.noBrowser ? { noBrowser: true } : {}),
          ...(req.useDeviceCode ? { useDeviceCode: true } : {}),
        });
        return { session: ref.name, expiresAt: t.expiresAt, refreshable: sessions.refreshable(t) };
      });

      api.hooks.signOut.tapPromise(async (req) => {
        const config = await readAwsConfig(env);
        const refs = req.all
          ? allSessions(config, ssoOpts)
          : [
              req.session
                ? sessionByName(config, req.session, ssoOpts)
                : sessionForProfile(config, req.profile ?? config.selectedProfile, ssoOpts),
            ].filter((r): r is SsoSessionRef => r !== undefined);
        for (const ref of refs) {
          await sessions.signOut(ref);
          roles.forget(ref.name);
        }
      });

      api.hooks.collectStatus.tapPromise(async (report) => {
        const config = await readAwsConfig(env);
        for (const ref of allSessions(config, ssoOpts)) {
          const t = await sessions.read(ref).catch(() => undefined);
          report.entries.push(sessionStatus(ref, t, api.clock.now(), api.settings.earlyRefreshThresholdMs));
        }
        return report;
      });

      let monitor: TokenMonitor | undefined;
      api.hooks.onStart.tap((ctx) => {
        if (ctx.longRunning) monitor = startMonitor(api, sessions);
      });
      // After a sleep the token may be near expiry or renewed elsewhere: check now, not at the next tick.
      api.hooks.onWake.tapPromise(async () => {
        await monitor?.checkNow();
      });
    },
  };
}
