// The notify plugin: desktop notifications for re-authentication, failed tunnels and whatever other plugins
// report through `api.services.notifier`; one per session and reason until the state changes.
import { z } from 'zod';
import { parsePluginOptions, type StormtunnelPlugin } from '../../src/plugin-kit/index.js';
import type { ReauthNotice } from '../../src/plugin-kit/index.js';
import { nodeNotifierBackend } from './backend.js';
import { notificationKeys, reauthNotification, tunnelDownNotification } from './messages.js';
import { DesktopNotificationService } from './notifier.js';
import type { NotifierBackend, NotifyOptions } from './types.js';

export type * from './types.js';
export { DesktopNotificationService } from './notifier.js';
export { nodeNotifierBackend } from './backend.js';
export {
  notificationKeys,
  permissionDeniedNotification,
  reauthNotification,
  signInCommand,
  tokenRefreshFailedNotification,
  tunnelDownNotification,
} from './messages.js';

const NAME = 'notify';

const optionsSchema = z
  .object({
    quiet: z.boolean().optional(),
    notifier: z
      .custom<NotifierBackend>(
        (v) =>
          typeof v === 'object' && v !== null && typeof (v as { notify?: unknown }).notify === 'function',
        { message: 'expected a NotifierBackend (an object with notify(notification, callback))' },
      )
      .optional(),
    appName: z.string().min(1).optional(),
  })
  .strict();

export function notify(options?: NotifyOptions): StormtunnelPlugin {
  const opts = parsePluginOptions(NAME, optionsSchema, options);
  return {
    name: NAME,
    apply(api) {
      // Quiet or notifications off: the engine's log notifier takes the same messages to the terminal.
      const desktop =
        api.settings.notifications && !opts.quiet
          ? new DesktopNotificationService(
              opts.notifier ?? nodeNotifierBackend(),
              api.logger,
              opts.appName ?? 'stormtunnel',
              api.signal,
            )
          : undefined;
      if (desktop) api.provide('notifier', desktop);

      const signingIn = new Set<string>();
      const signInFromClick = (notice: ReauthNotice) => {
        if (signingIn.has(notice.session) || api.signal.aborted) return;
        signingIn.add(notice.session);
        api.logger.info(`signing in to ${notice.session} (notification clicked)`);
        void notice
          .signIn()
          .catch((err: unknown) => api.logger.error(`sign-in to ${notice.session} failed`, { err }))
          .finally(() => signingIn.delete(notice.session));
      };

      api.hooks.onReauthRequired.tapPromise(async (notice) => {
        const clickable = desktop?.reportsClicks ?? false;
        await api.services.notifier.notify(
          reauthNotification(
            notice.session,
            notice.profile,
            clickable,
            () => signInFromClick(notice),
            notice.neverSignedIn === true,
          ),
        );
      });

      // A new token is a state change: the next expiry or refresh failure is news again.
      api.hooks.onTokenChanged.tap((event) => {
        api.services.notifier.clear(notificationKeys.reauth(event.session));
        api.services.notifier.clear(notificationKeys.tokenRefreshFailed(event.session));
      });

      api.hooks.onTunnelState.tapPromise(async (change) => {
        if (change.state === 'failed') {
          await api.services.notifier.notify(tunnelDownNotification(change.tunnel, change.detail));
        } else if (change.state === 'ready' || change.state === 'stopped') {
          api.services.notifier.clear(notificationKeys.tunnelDown(change.tunnel));
        }
      });
    },
  };
}
