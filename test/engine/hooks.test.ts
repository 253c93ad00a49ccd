import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_SETTINGS } from '../../src/config/defaults.js';
import { FakeClock } from '../../src/engine/clock.js';
import {
  ConnectionVetoedError,
  createEngine,
  NoCredentialsError,
  type EngineOptions,
} from '../../src/engine/engine.js';
import { PluginError, StormtunnelError } from '../../src/engine/errors.js';
import type { StormtunnelPlugin } from '../../src/engine/plugin.js';
import type { ConnectDraft, Credentials } from '../../src/engine/types.js';
import { captureLogger } from '../helpers/logger.js';

const creds = (id: string): Credentials => ({ accessKeyId: id, secretAccessKey: 'secret', source: id });
const request = { profile: 'dev', region: 'us-east-1', purpose: { kind: 'library' as const }, chain: [] };

function engineWith(plugins: StormtunnelPlugin[], extra: Partial<EngineOptions> = {}) {
  const logger = captureLogger();
  return createEngine({ plugins, settings: DEFAULT_SETTINGS, logger, ...extra }).then((engine) => ({
    engine,
    logger,
  }));
}

function draft(): ConnectDraft {
  return {
    tunnel: 'db',
    profile: 'dev',
    region: 'us-east-1',
    target: 'i-0123456789abcdef0',
    remotePort: 5432,
    remoteHost: undefined,
    localPort: 15432,
    bindAddress: '127.0.0.1',
    documentName: 'AWS-StartPortForwardingSession',
    credentials: creds('given'),
    annotations: {},
  };
}

const resolve = suite('resolveCredentials');

resolve('the first plugin that returns credentials wins; later ones do not run', async () => {
  const calls: string[] = [];
  const plugin = (name: string, answer: Credentials | undefined): StormtunnelPlugin => ({
    name,
    apply(api) {
      api.hooks.resolveCredentials.tapPromise(async () => {
        calls.push(name);
        return answer;
      });
    },
  });
  const { engine } = await engineWith([
    plugin('a', undefined),
    plugin('b', creds('b')),
    plugin('c', creds('c')),
  ]);
  const got = await engine.resolveCredentials(request);
  assert.is(got.accessKeyId, 'b');
  assert.equal(calls, ['a', 'b']);
});

resolve('stage moves a tap ahead of config order', async () => {
  const early: StormtunnelPlugin = {
    name: 'early',
    apply: (api) => api.hooks.resolveCredentials.tap(() => creds('early'), { stage: -10 }),
  };
  const normal: StormtunnelPlugin = {
    name: 'normal',
    apply: (api) => api.hooks.resolveCredentials.tap(() => creds('normal')),
  };
  const { engine } = await engineWith([normal, early]);
  assert.is((await engine.resolveCredentials(request)).accessKeyId, 'early');
});

resolve('no answer from any plugin is a NoCredentialsError naming the profile', async () => {
  const { engine } = await engineWith([
    { name: 'none', apply: (api) => api.hooks.resolveCredentials.tap(() => undefined) },
  ]);
  try {
    await engine.resolveCredentials(request);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, NoCredentialsError);
    assert.match((err as Error).message, /profile "dev"/);
  }
});

resolve(
  'a tap returning null is reported as a plugin bug instead of silently stopping the chain',
  async () => {
    const buggy = {
      name: 'buggy',
      apply: (api) => api.hooks.resolveCredentials.tap(() => null as unknown as undefined),
    } satisfies StormtunnelPlugin;
    const after: StormtunnelPlugin = {
      name: 'after',
      apply: (api) => api.hooks.resolveCredentials.tap(() => creds('after')),
    };
    const { engine } = await engineWith([buggy, after]);
    try {
      await engine.resolveCredentials(request);
      assert.unreachable();
    } catch (err) {
      assert.instance(err, PluginError);
      const e = err as PluginError;
      assert.is(e.plugin, 'buggy');
      assert.is(e.hook, 'resolveCredentials');
      assert.match(e.message, /returned null from resolveCredentials: that is a plugin bug/);
    }
  },
);

resolve('errors thrown in a tap come out tagged with plugin and hook, sync and async', async () => {
  for (const kind of ['sync', 'promise'] as const) {
    const thrower: StormtunnelPlugin = {
      name: `thrower-${kind}`,
      apply(api) {
        if (kind === 'sync')
          api.hooks.resolveCredentials.tap(() => {
            throw new Error('boom');
          });
        else
          api.hooks.resolveCredentials.tapPromise(async () => {
            throw new Error('boom');
          });
      },
    };
    const { engine } = await engineWith([thrower]);
    try {
      await engine.resolveCredentials(request);
      assert.unreachable();
    } catch (err) {
      assert.instance(err, PluginError);
      assert.is((err as PluginError).code, 'PLUGIN_ERROR');
      assert.is((err as PluginError).plugin, `thrower-${kind}`);
      assert.is((err as PluginError).hook, 'resolveCredentials');
      assert.is(((err as PluginError).cause as Error).message, 'boom');
      assert.match(
        (err as Error).message,
        new RegExp(`plugin "thrower-${kind}" failed in resolveCredentials: boom`),
      );
    }
  }
});

resolve.run();

const connect = suite('beforeConnect');

connect('plugins amend the draft in order and the engine returns it', async () => {
  const a: StormtunnelPlugin = {
    name: 'pick-target',
    apply: (api) =>
      api.hooks.beforeConnect.tap((d) => {
        d.target = 'i-0fedcba9876543210';
        d.annotations.pickedBy = 'pick-target';
        return undefined;
      }),
  };
  const b: StormtunnelPlugin = {
    name: 'sees-amendment',
    apply: (api) =>
      api.hooks.beforeConnect.tapPromise(async (d) => {
        d.annotations.sawTarget = d.target;
        return undefined;
      }),
  };
  const { engine } = await engineWith([a, b]);
  const out = await engine.prepareConnection(draft());
  assert.is(out.target, 'i-0fedcba9876543210');
  assert.equal(out.annotations, { pickedBy: 'pick-target', sawTarget: 'i-0fedcba9876543210' });
});

connect(
  'a veto stops the connection, names the plugin and keeps the reason; later taps do not run',
  async () => {
    let laterRan = false;
    const guard: StormtunnelPlugin = {
      name: 'prod-guard',
      apply: (api) =>
        api.hooks.beforeConnect.tap((d) => ({ veto: true, reason: `${d.tunnel} is production` })),
    };
    const later: StormtunnelPlugin = {
      name: 'later',
      apply: (api) =>
        api.hooks.beforeConnect.tap(() => {
          laterRan = true;
          return undefined;
        }),
    };
    const { engine } = await engineWith([guard, later]);
    try {
      await engine.prepareConnection(draft());
      assert.unreachable();
    } catch (err) {
      assert.instance(err, ConnectionVetoedError);
      assert.is((err as ConnectionVetoedError).plugin, 'prod-guard');
      assert.is((err as ConnectionVetoedError).reason, 'db is production');
      assert.match(
        (err as Error).message,
        /tunnel "db" was stopped by plugin "prod-guard": db is production/,
      );
    }
    assert.not.ok(laterRan);
  },
);

connect('credentials are resolved through the hook when the draft has none', async () => {
  const p: StormtunnelPlugin = {
    name: 'creds',
    apply: (api) =>
      api.hooks.resolveCredentials.tap((r) => {
        assert.equal(r.purpose, { kind: 'tunnel', tunnel: 'db' });
        return creds('from-hook');
      }),
  };
  const { engine } = await engineWith([p]);
  const d = draft();
  d.credentials = undefined;
  assert.is((await engine.prepareConnection(d)).credentials?.accessKeyId, 'from-hook');
});

connect.run();

const parallel = suite('parallel hooks');

parallel('one failing onTokenExpiring tap is logged with its name and does not fail the others', async () => {
  const seen: string[] = [];
  const ok = (name: string): StormtunnelPlugin => ({
    name,
    apply: (api) =>
      api.hooks.onTokenExpiring.tapPromise(async (n) => {
        await new Promise((r) => setTimeout(r, 5));
        seen.push(`${name}:${n.session}`);
      }),
  });
  const broken: StormtunnelPlugin = {
    name: 'broken',
    apply: (api) =>
      api.hooks.onTokenExpiring.tapPromise(async () => {
        throw new Error('kaput');
      }),
  };
  let emit:
    | ((
        n: Parameters<Parameters<StormtunnelPlugin['apply']>[0]['emit']['tokenExpiring']>[0],
      ) => Promise<void>)
    | undefined;
  const emitter: StormtunnelPlugin = {
    name: 'emitter',
    apply: (api) => void (emit = api.emit.tokenExpiring),
  };
  const { logger } = await engineWith([ok('first'), broken, ok('last'), emitter]);
  await emit!({ session: 'work', expiresAt: new Date(), remainingMs: 1000, refreshable: true });
  assert.equal(seen.sort(), ['first:work', 'last:work']);
  const err = logger.records.find((r) => r.level === 'error');
  assert.ok(err, 'the failure is logged');
  assert.is(err.fields.plugin, 'broken');
  assert.match(err.msg, /onTokenExpiring/);
});

parallel('signOut runs every tap and reports the failures after all ran', async () => {
  const ran: string[] = [];
  const mk = (name: string, fail: boolean): StormtunnelPlugin => ({
    name,
    apply: (api) =>
      api.hooks.signOut.tapPromise(async () => {
        ran.push(name);
        if (fail) throw new Error(`${name} could not clear`);
      }),
  });
  const { engine } = await engineWith([mk('keychain', true), mk('cache', false)]);
  try {
    await engine.signOut({ all: true });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, StormtunnelError);
    assert.match((err as Error).message, /keychain could not clear/);
  }
  assert.equal(ran.sort(), ['cache', 'keychain']);
});

parallel.run();

const onError = suite('onError');

onError(
  'the first decision wins; info carries phase, attempt, elapsed time, plugin and the error',
  async () => {
    const got: unknown[] = [];
    const retry: StormtunnelPlugin = {
      name: 'retry',
      apply: (api) =>
        api.hooks.onError.tap((info) => {
          got.push(info);
          return info.attempt < 3
            ? { action: 'retry', afterMs: 100 * info.attempt, reason: 'network' }
            : undefined;
        }),
    };
    let report: Parameters<StormtunnelPlugin['apply']>[0]['reportError'] | undefined;
    const reporter: StormtunnelPlugin = { name: 'sso', apply: (api) => void (report = api.reportError) };
    await engineWith([retry, reporter]);
    const err = new Error('socket hang up');
    const d1 = await report!({
      phase: 'credentials',
      attempt: 2,
      elapsedMs: 1500,
      operation: 'GetRoleCredentials',
      error: err,
    });
    assert.equal(d1, { action: 'retry', afterMs: 200, reason: 'network' });
    const { classification, ...rest } = got[0] as { classification: { class: string } };
    assert.is(classification.class, 'unknown', 'the engine classifies every failure before onError');
    assert.equal(rest, {
      phase: 'credentials',
      attempt: 2,
      elapsedMs: 1500,
      operation: 'GetRoleCredentials',
      error: err,
      plugin: 'sso',
    });
    const d2 = await report!({
      phase: 'credentials',
      attempt: 3,
      elapsedMs: 9000,
      operation: 'GetRoleCredentials',
      error: err,
    });
    assert.is(d2.action, 'fail');
  },
);

onError.run();

const lifecycle = suite('plugins and lifecycle');

lifecycle('duplicate plugin names fail at start-up', async () => {
  const p = (): StormtunnelPlugin => ({ name: 'same', apply: () => undefined });
  try {
    await engineWith([p(), p()]);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, StormtunnelError);
    assert.match((err as Error).message, /two plugins are named "same"/);
    assert.is((err as StormtunnelError).exitCode, 2);
  }
});

lifecycle('plugins get tap-only hooks: no way to call a hook or reach the engine', async () => {
  let keys: string[] = [];
  let apiKeys: string[] = [];
  await engineWith([
    {
      name: 'curious',
      apply(api) {
        keys = Object.keys(api.hooks.resolveCredentials);
        apiKeys = Object.keys(api);
        assert.not.ok('promise' in api.hooks.resolveCredentials);
        assert.not.ok('call' in api.hooks.onError);
      },
    },
  ]);
  assert.equal(keys.sort(), ['tap', 'tapPromise']);
  assert.not.ok(apiKeys.includes('engine'));
});

lifecycle(
  'tap returns an unregister: the tap stops running, the next one answers, twice is harmless',
  async () => {
    let off: (() => void) | undefined;
    let offWaterfall: (() => void) | undefined;
    const { engine } = await engineWith([
      {
        name: 'early',
        apply(api) {
          off = api.hooks.resolveCredentials.tap(() => creds('early'));
          offWaterfall = api.hooks.collectStatus.tapPromise(async (report) => {
            report.entries.push({ kind: 'other', name: 'early', state: 'ok', ok: true });
            return report;
          });
        },
      },
      { name: 'late', apply: (api) => api.hooks.resolveCredentials.tap(() => creds('late')) },
    ]);
    // Called once first, so the hook's compiled call exists and must be dropped by the unregister.
    assert.is((await engine.resolveCredentials(request)).accessKeyId, 'early');
    assert.is((await engine.collectStatus({ profiles: [], live: false })).entries.length, 1);
    off!();
    off!();
    offWaterfall!();
    assert.is((await engine.resolveCredentials(request)).accessKeyId, 'late');
    assert.equal((await engine.collectStatus({ profiles: [], live: false })).entries, []);
    assert.equal(
      engine.describePlugins().map((p) => `${p.name}: ${p.hooks.join(',')}`),
      ['early: ', 'late: resolveCredentials'],
    );
  },
);

lifecycle(
  "an unregistered tap keeps the others' interceptors: a later failing tap is still tagged",
  async () => {
    let off: (() => void) | undefined;
    const { engine } = await engineWith([
      { name: 'gone', apply: (api) => void (off = api.hooks.resolveCredentials.tap(() => undefined)) },
      {
        name: 'broken',
        apply: (api) =>
          api.hooks.resolveCredentials.tap(() => {
            throw new Error('boom');
          }),
      },
    ]);
    off!();
    const err = await engine.resolveCredentials(request).catch((e: unknown) => e);
    assert.instance(err, PluginError);
    assert.is((err as PluginError).plugin, 'broken');
  },
);

lifecycle('describePlugins lists the hooks each plugin taps and the services it provides', async () => {
  const { engine } = await engineWith([
    {
      name: 'store',
      apply(api) {
        api.hooks.onShutdown.tap(() => undefined);
        api.provide('tokenStore', {
          kind: 'test',
          get: async () => null,
          set: async () => undefined,
          delete: async () => undefined,
          describe: async () => ({ available: true, detail: 'test' }),
        });
      },
    },
    { name: 'creds', apply: (api) => api.hooks.resolveCredentials.tap(() => undefined) },
  ]);
  assert.equal(engine.describePlugins(), [
    { name: 'store', hooks: ['onShutdown'], provides: ['tokenStore'] },
    { name: 'creds', hooks: ['resolveCredentials'], provides: [] },
  ]);
  assert.is(engine.services.tokenStore.kind, 'test');
});

lifecycle('a service provided twice is an error naming both plugins', async () => {
  const store = () => ({
    kind: 'x',
    get: async () => null,
    set: async () => undefined,
    delete: async () => undefined,
    describe: async () => ({ available: true, detail: '' }),
  });
  try {
    await engineWith([
      { name: 'one', apply: (api) => api.provide('tokenStore', store()) },
      { name: 'two', apply: (api) => api.provide('tokenStore', store()) },
    ]);
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /already provided by plugin "one"/);
    assert.is((err as PluginError).plugin, 'two');
  }
});

lifecycle('engine-owned timers run on the injected clock and stop at shutdown', async () => {
  const clock = new FakeClock();
  let runs = 0;
  let signal: AbortSignal | undefined;
  const { engine } = await engineWith(
    [
      {
        name: 'monitor',
        apply(api) {
          signal = api.signal;
          api.every(60_000, async () => {
            runs++;
          });
        },
      },
    ],
    { clock },
  );
  await clock.advance(59_999);
  assert.is(runs, 0);
  await clock.advance(1);
  assert.is(runs, 1);
  await clock.advance(30 * 60_000);
  assert.is(runs, 31);
  await engine.shutdown({ reason: 'signal' });
  assert.ok(signal?.aborted);
  await clock.advance(10 * 60_000);
  assert.is(runs, 31);
  assert.is(clock.pending, 0);
});

lifecycle('shutdown returns only after a scheduled run still going has finished its writes', async () => {
  const clock = new FakeClock();
  const events: string[] = [];
  let finishWrite!: () => void;
  const { engine } = await engineWith(
    [
      {
        name: 'monitor',
        apply(api) {
          api.every(60_000, async () => {
            events.push('run started');
            await new Promise<void>((resolve) => (finishWrite = resolve));
            events.push('write finished');
          });
        },
      },
    ],
    { clock },
  );
  await clock.advance(60_000);
  assert.equal(events, ['run started']);
  const stopped = engine.shutdown({ reason: 'command-done' }).then(() => events.push('shutdown returned'));
  // Let shutdown reach its wait; it must not return while the run is going.
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.equal(events, ['run started']);
  finishWrite();
  await stopped;
  assert.equal(events, ['run started', 'write finished', 'shutdown returned']);
});

lifecycle('a failing apply is tagged with the plugin name', async () => {
  try {
    await engineWith([
      {
        name: 'bad-apply',
        apply() {
          throw new Error('cannot start');
        },
      },
    ]);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, PluginError);
    assert.is((err as PluginError).plugin, 'bad-apply');
    assert.is((err as PluginError).hook, 'apply');
  }
});

lifecycle.run();
