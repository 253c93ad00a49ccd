// examples/stormtunnel.config.ts loads through the real CLI, with the example plugins after the built-in ones.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from '../helpers/cli.js';

const test = suite('example config');

test('`stormtunnel plugins --json` lists the built-ins, then the three examples with the hooks they tap', async () => {
  const r = await runCli(['--config', 'examples/stormtunnel.config.ts', 'plugins', '--json']);
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    config: string;
    plugins: { name: string; hooks: { name: string }[] }[];
  };
  assert.is(out.config, 'examples/stormtunnel.config.ts');
  assert.equal(
    out.plugins.map((p) => p.name),
    [
      'profile-credentials',
      'sso',
      'assume-role',
      'keychain',
      'notify',
      'retry',
      'targets',
      'ssm-tunnel',
      'name-tag-guard',
      'office-hours-retry',
      'audit-log',
    ],
  );
  const hooks = (name: string) => out.plugins.find((p) => p.name === name)?.hooks.map((h) => h.name);
  assert.equal(hooks('name-tag-guard'), ['beforeConnect']);
  assert.equal(hooks('office-hours-retry'), ['onError']);
  assert.equal(hooks('audit-log'), ['beforeConnect', 'onTokenChanged', 'onTunnelState', 'onShutdown']);
});

test('a mistake in an example plugin option is one line naming the plugin, exit 2', async () => {
  const r = await runCli(['--config', 'test/examples/fixtures/bad-options.config.ts', 'plugins']);
  assert.is(r.code, 2);
  assert.is(
    r.stderr,
    'stormtunnel: test/examples/fixtures/bad-options.config.ts: plugin "office-hours-retry" options: timeZone: expected an IANA time zone like "Europe/Berlin"\n',
  );
});

test.run();
