// The engine never drops a tunnel name: startTunnels and probeTunnel refuse unknown names with the line `up`
// and `check` show, and a tunnel without a region is refused the same way everywhere.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_SETTINGS } from '../../src/config/defaults.js';
import { createEngine } from '../../src/engine/engine.js';
import { definePlugin } from '../../src/engine/plugin.js';
import { placeTunnel, selectTunnels } from '../../src/engine/tunnel-selection.js';
import type { TunnelConfig } from '../../src/engine/plugin.js';
import { captureLogger } from '../helpers/logger.js';

const test = suite('tunnel selection');

const tunnel = (name: string, extra: Partial<TunnelConfig> = {}): TunnelConfig => ({
  name,
  profile: 'default',
  region: 'us-east-1',
  target: 'i-0123456789abcdef0',
  remotePort: 22,
  localPort: 0,
  remoteHost: undefined,
  bindAddress: '127.0.0.1',
  autostart: true,
  ...extra,
});

const defaults = { defaultProfile: 'fallback', regionFor: async () => undefined };

/** An engine whose transport plugin records what it was asked to start or probe. */
async function recordingEngine(asked: string[]) {
  const transport = definePlugin({
    name: 'recording-transport',
    apply(api) {
      api.hooks.startTunnels.tap((req) => {
        asked.push(...req.tunnels.map((t) => `start ${t.name}`));
        return {
          status: () => [],
          settled: async () => undefined,
          onChange: () => () => true,
          stop: async () => {},
        };
      });
      api.hooks.probeTunnel.tap((req) => {
        asked.push(`probe ${req.tunnel.name}`);
        return [];
      });
    },
  });
  return createEngine({
    plugins: [transport],
    settings: DEFAULT_SETTINGS,
    tunnels: [tunnel('db'), tunnel('web')],
    logger: captureLogger(),
  });
}

test('startTunnels with an unknown name is a usage error; no tunnel is started', async () => {
  const asked: string[] = [];
  const engine = await recordingEngine(asked);
  const err = (await engine
    .startTunnels({ names: ['db', 'nope'], allowSignIn: false, ...defaults })
    .catch((e: unknown) => e)) as { message?: string; hint?: string; exitCode?: number };
  assert.is(err.message, 'unknown tunnel "nope"');
  assert.is(err.hint, 'the config has: db, web');
  assert.is(err.exitCode, 2);
  assert.equal(asked, []);
  await engine.startTunnels({ names: ['web'], allowSignIn: false, ...defaults });
  assert.equal(asked, ['start web']);
  await engine.shutdown({ reason: 'command-done' });
});

test('probeTunnel with an unknown name is the same usage error; the probe is not asked', async () => {
  const asked: string[] = [];
  const engine = await recordingEngine(asked);
  const err = (await engine.probeTunnel({ name: 'nope', ...defaults }).catch((e: unknown) => e)) as Error;
  assert.is(err.message, 'unknown tunnel "nope"');
  assert.equal(asked, []);
  await engine.shutdown({ reason: 'command-done' });
});

test('selectTunnels names the config file and every unknown name; config order is kept', () => {
  const all = [tunnel('a'), tunnel('b'), tunnel('c')];
  assert.equal(
    selectTunnels(all, ['c', 'a']).map((t) => t.name),
    ['a', 'c'],
  );
  assert.throws(
    () => selectTunnels(all, ['x', 'y'], 'team.config.ts'),
    /^unknown tunnels "x", "y" in team\.config\.ts$/,
  );
  assert.throws(
    () => selectTunnels([], ['x']),
    (e: { hint?: string }) => /add it to `tunnels`/.test(e.hint ?? ''),
  );
});

test("placeTunnel: the tunnel's own profile and region, else the defaults; no region is exit 2", async () => {
  assert.equal(await placeTunnel(tunnel('a'), defaults), { profile: 'default', region: 'us-east-1' });
  const bare = tunnel('b', { profile: undefined, region: undefined });
  assert.equal(await placeTunnel(bare, { defaultProfile: 'ops', regionFor: async (p) => `${p}-region` }), {
    profile: 'ops',
    region: 'ops-region',
  });
  const err = (await placeTunnel(bare, defaults).catch((e: unknown) => e)) as {
    message: string;
    exitCode: number;
    hint: string;
  };
  assert.is(err.message, 'tunnel "b" has no region');
  assert.is(err.exitCode, 2);
  assert.match(err.hint, /profile "fallback"/);
});

test.run();
