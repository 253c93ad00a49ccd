// The notify plugin: dedupe, the terminal copy, and the click path through node-notifier's callback
// interface (a fake backend driven by node-notifier's own callback decorator), then real Notify calls on
// the session bus from node-notifier and notify-send, recorded by a small notification service.
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_SETTINGS } from '../../src/config/defaults.js';
import { createEngine } from '../../src/engine/engine.js';
import { PluginOptionsError, type PluginApi } from '../../src/engine/plugin.js';
import type { ReauthNotice, Settings } from '../../src/engine/types.js';
import {
  notify,
  permissionDeniedNotification,
  type DesktopNotification,
  type DesktopNotifier,
  type NotificationCallback,
  type NotifierBackend,
} from '../../plugins/notify/index.js';
import { captureLogger } from '../helpers/logger.js';
import { startNotificationRecorder } from '../helpers/notification-recorder.js';
import { commandExists, testIf } from '../helpers/system.js';

type Decorate = (
  emitter: object,
  options: object,
  fn: NotificationCallback,
  mapper: (data: string) => string | false,
) => (err: Error | null, data: unknown) => void;
// node-notifier's own normaliser of what terminal-notifier / SnoreToast answer ("contentsClicked", "activate").
const { actionJackerDecorator } = createRequire(import.meta.url)('node-notifier/lib/utils.js') as {
  actionJackerDecorator: Decorate;
};

/**
 * Records what would be shown; `answer` is the raw platform response, run through node-notifier's decorator
 * (which, like the real notifiers, also emits 'click' on the notifier).
 */
class FakeBackend extends EventEmitter implements NotifierBackend {
  readonly shown: DesktopNotification[] = [];
  private readonly callbacks: Array<(err: Error | null, data: unknown) => void> = [];
  constructor(
    readonly reportsClicks: boolean,
    private readonly failWith?: Error,
  ) {
    super();
  }
  notify(n: DesktopNotification, callback: NotificationCallback): void {
    this.shown.push(n);
    const cb = actionJackerDecorator(this, n, callback, (d) => (d === 'activate' ? 'click' : false));
    if (this.failWith) cb(this.failWith, undefined);
    else this.callbacks.push(cb);
  }
  /** What the platform answers for the i-th notification (e.g. a click), as node-notifier receives it. */
  answer(i: number, raw: unknown) {
    const cb = this.callbacks[i];
    if (!cb) throw new Error(`no notification #${i}`);
    cb(null, raw);
  }
}

/** An engine with the notify plugin and a plugin that raises hooks the way the sso and tunnel plugins will. */
async function setup(pluginOptions: Parameters<typeof notify>[0], settings: Partial<Settings> = {}) {
  const logger = captureLogger();
  let api!: PluginApi;
  const engine = await createEngine({
    plugins: [notify(pluginOptions), { name: 'raiser', apply: (a) => void (api = a) }],
    settings: { ...DEFAULT_SETTINGS, ...settings },
    logger,
  });
  const signIns: string[] = [];
  const reauth = (session: string, profile?: string): ReauthNotice => ({
    session,
    ...(profile && { profile }),
    reason: 'the refresh token was revoked',
    signIn: async () => {
      signIns.push(session);
    },
  });
  const desktop = engine.services.notifier as DesktopNotifier;
  return { engine, logger, api, reauth, signIns, desktop };
}

const warnings = (logger: ReturnType<typeof captureLogger>) =>
  logger.records.filter((r) => r.level === 'warn').map((r) => r.msg);

// ---------------------------------------------------------------------------------------------------------
const unit = suite('notify plugin (callback interface)');

unit(
  'one notification per session and reason until the token changes; every one also in the log',
  async () => {
    const backend = new FakeBackend(true);
    const { api, reauth, logger } = await setup({ notifier: backend });
    await api.emit.reauthRequired(reauth('work'));
    await api.emit.reauthRequired(reauth('work'));
    await api.emit.reauthRequired(reauth('play'));
    assert.equal(
      backend.shown.map((n) => [n.title, n.message, n.wait, n.appName]),
      [
        ['SSO Authentication Required', 'Sign-in for work expired: click to sign in', true, 'stormtunnel'],
        ['SSO Authentication Required', 'Sign-in for play expired: click to sign in', true, 'stormtunnel'],
      ],
    );
    assert.equal(warnings(logger), [
      'SSO Authentication Required: Sign-in for work expired: click to sign in',
      'SSO Authentication Required: Sign-in for play expired: click to sign in',
    ]);
    await api.emit.tokenChanged({ session: 'work', expiresAt: new Date(), how: 'sign-in' });
    await api.emit.reauthRequired(reauth('work'));
    await api.emit.reauthRequired(reauth('play'));
    assert.is(backend.shown.length, 3);
  },
);

for (const [platform, raw] of [
  ['macOS Notification Center', { activationType: 'contentsClicked' }],
  ['Windows toast', 'activate'],
] as const) {
  unit(`a click (${platform}) starts the sign-in for that session, once`, async () => {
    const backend = new FakeBackend(true);
    const { api, reauth, signIns, desktop } = await setup({ notifier: backend });
    await api.emit.reauthRequired(reauth('work'));
    await api.emit.reauthRequired(reauth('play'));
    backend.answer(1, raw);
    assert.equal(signIns, ['play']);
    backend.answer(1, raw);
    assert.equal(signIns, ['play'], 'a second click while signing in does not start another sign-in');
    backend.answer(0, 'timeout');
    await desktop.idle();
    assert.equal(signIns, ['play'], 'a timeout is not a click');
  });
}

unit('a failing sign-in from a click is logged, and a later click may try again', async () => {
  const backend = new FakeBackend(true);
  const { api, logger, desktop } = await setup({ notifier: backend });
  let calls = 0;
  const notice: ReauthNotice = {
    session: 'work',
    reason: 'expired',
    signIn: async () => {
      calls++;
      throw new Error('browser did not open');
    },
  };
  await api.emit.reauthRequired(notice);
  backend.answer(0, 'activate');
  await desktop.idle();
  await new Promise((r) => setImmediate(r));
  assert.is(calls, 1);
  assert.ok(logger.records.some((r) => r.level === 'error' && r.msg === 'sign-in to work failed'));
  backend.answer(0, 'activate');
  assert.is(calls, 2);
});

unit('no click after shutdown', async () => {
  const backend = new FakeBackend(true);
  const { engine, api, reauth, signIns, desktop } = await setup({ notifier: backend });
  await api.emit.reauthRequired(reauth('work'));
  await engine.shutdown({ reason: 'signal' });
  backend.answer(0, 'activate');
  await desktop.idle();
  assert.equal(signIns, []);
});

unit('where clicks are not reported (notify-send) the message says what to run', async () => {
  const backend = new FakeBackend(false);
  const { api, reauth } = await setup({ notifier: backend });
  await api.emit.reauthRequired(reauth('work'));
  await api.emit.reauthRequired(reauth('https://my-org.awsapps.com/start', 'legacy'));
  assert.equal(
    backend.shown.map((n) => [n.message, n.wait]),
    [
      ['Sign-in for work expired: run `stormtunnel login --sso-session work`', false],
      [
        'Sign-in for https://my-org.awsapps.com/start expired: run `stormtunnel login --profile legacy`',
        false,
      ],
    ],
  );
});

unit('a tunnel that failed is reported once until it is ready again', async () => {
  const backend = new FakeBackend(false);
  const { api } = await setup({ notifier: backend });
  const state = (s: 'failed' | 'ready' | 'reconnecting') =>
    api.emit.tunnelState({ tunnel: 'db', state: s, previous: undefined, detail: 'target offline' });
  await state('failed');
  await state('reconnecting');
  await state('failed');
  assert.equal(
    backend.shown.map((n) => [n.title, n.message]),
    [['Tunnel db is down', 'It could not recover: target offline']],
  );
  await state('ready');
  await state('failed');
  assert.is(backend.shown.length, 2);
});

unit('other plugins notify through the service (permission denied), deduped the same way', async () => {
  const backend = new FakeBackend(false);
  const { api } = await setup({ notifier: backend });
  await api.services.notifier.notify(permissionDeniedNotification('prod', 'start a session on i-0abc'));
  await api.services.notifier.notify(permissionDeniedNotification('prod', 'start a session on i-0abc'));
  assert.equal(
    backend.shown.map((n) => n.title),
    ['Contact AWS Administrator'],
  );
});

unit('no notification service: the message is in the log, one warning about it, nothing throws', async () => {
  const backend = new FakeBackend(false, new Error('Command failed: notify-send: ServiceUnknown'));
  const { api, reauth, logger, desktop } = await setup({ notifier: backend });
  await api.emit.reauthRequired(reauth('work'));
  await api.emit.reauthRequired(reauth('play'));
  await desktop.idle();
  assert.equal(warnings(logger), [
    'SSO Authentication Required: Sign-in for work expired: run `stormtunnel login --sso-session work`',
    'desktop notifications are not available here (Command failed: notify-send: ServiceUnknown); messages go to the terminal and the log',
    'SSO Authentication Required: Sign-in for play expired: run `stormtunnel login --sso-session play`',
  ]);
});

unit('nothing secret-looking reaches the backend (notify-send gets it in argv)', async () => {
  const backend = new FakeBackend(false);
  const { api } = await setup({ notifier: backend });
  const leaked = 'aoaAbcDEF0123456789ghijKLMNOPqrstuvwx';
  await api.services.notifier.notify({ key: 'k', title: 'Oops', message: `token ${leaked}` });
  assert.is(backend.shown[0]?.message, 'token [redacted]');
});

unit(
  'quiet, or settings.notifications off: no desktop notifier, the terminal still gets the message',
  async () => {
    for (const [opts, settings] of [
      [{ quiet: true }, {}],
      [{}, { notifications: false }],
    ] as const) {
      const backend = new FakeBackend(true);
      const { engine, api, reauth, logger } = await setup({ ...opts, notifier: backend }, settings);
      assert.equal(engine.describePlugins()[0]?.provides, []);
      await api.emit.reauthRequired(reauth('work'));
      await api.emit.reauthRequired(reauth('work'));
      assert.is(backend.shown.length, 0);
      assert.equal(warnings(logger), [
        'SSO Authentication Required: Sign-in for work expired: run `stormtunnel login --sso-session work`',
      ]);
    }
  },
);

unit('bad options fail when the config loads', () => {
  assert.throws(
    () => notify({ quiet: 'yes' } as never),
    (e: unknown) => e instanceof PluginOptionsError,
  );
  assert.throws(
    () => notify({ notifier: {} } as never),
    (e: unknown) => e instanceof PluginOptionsError,
  );
});

// ---------------------------------------------------------------------------------------------------------
// Real notifications: node-notifier -> notify-send -> org.freedesktop.Notifications on the private bus.
const bus = suite('notify on the session bus');
const busReady =
  process.platform === 'linux' && process.env.STORMTUNNEL_TEST_DBUS === '1' && commandExists('notify-send');
const withBus = testIf(
  bus,
  busReady,
  'notify-send (libnotify-bin) and the private D-Bus session of scripts/run-tests.mjs',
);

withBus('re-auth twice is ONE Notify call; after a new token, the next re-auth is another', async () => {
  const recorder = await startNotificationRecorder();
  try {
    const { api, reauth, desktop } = await setup({});
    await api.emit.reauthRequired(reauth('work'));
    await api.emit.reauthRequired(reauth('work'));
    await desktop.idle();
    await recorder.waitFor(1);
    assert.is(recorder.calls.length, 1);
    const [call] = recorder.calls;
    assert.is(call?.summary, 'SSO Authentication Required');
    assert.is(call?.body, 'Sign-in for work expired: run `stormtunnel login --sso-session work`');
    assert.is(call?.appName, 'stormtunnel');

    await api.emit.tokenChanged({ session: 'work', expiresAt: new Date(), how: 'sign-in' });
    await api.emit.reauthRequired(reauth('work'));
    await desktop.idle();
    await recorder.waitFor(2);
    assert.is(recorder.calls.length, 2);
    assert.is(recorder.calls[1]?.summary, 'SSO Authentication Required');
  } finally {
    await recorder.close();
  }
});

withBus('without a notification service on the bus the message still reaches the log', async () => {
  const { api, reauth, logger, desktop } = await setup({});
  await api.emit.reauthRequired(reauth('work'));
  await desktop.idle();
  const lines = warnings(logger);
  assert.is(lines.length, 2);
  assert.is(
    lines[0],
    'SSO Authentication Required: Sign-in for work expired: run `stormtunnel login --sso-session work`',
  );
  assert.match(
    lines[1]!,
    /^desktop notifications are not available here \(.*org\.freedesktop\.Notifications.*\); messages go to the terminal and the log$/,
  );
});

unit.run();
bus.run();
