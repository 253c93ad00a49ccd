// examples/name-tag-guard against the emulator: tag selectors resolved with DescribeInstanceInformation,
// production stopped unless allowed, and the whole path through startTunnels (what `stormtunnel up` runs).
import { createServer, connect, type Server } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { nameTagGuard, type NameTagAnnotation } from '../../examples/name-tag-guard/index.js';
import { ConnectionVetoedError, PluginOptionsError } from '../../src/index.js';
import {
  createTestEngine,
  startTestEmulator,
  waitForTunnels,
  type TestEmulator,
} from '../../src/testing/index.js';

const test = suite('example: name-tag-guard');
let emu: TestEmulator;
let echo: Server;
let echoPort = 0;

test.before(async () => {
  emu = await startTestEmulator();
  echo = createServer((s) => s.pipe(s).on('error', () => s.destroy()));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as { port: number }).port;
});
test.after(async () => {
  await new Promise<void>((r) => echo.close(() => r()));
  await emu.close();
});

async function vetoOf(p: Promise<unknown>): Promise<ConnectionVetoedError> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, ConnectionVetoedError);
    return err as ConnectionVetoedError;
  }
  throw new Error('expected a veto');
}

test('bad options fail when the config loads, naming the option', () => {
  assert.throws(
    () => nameTagGuard({ productionAccounts: ['1234'] }),
    (err: unknown) =>
      err instanceof PluginOptionsError &&
      err.message ===
        'plugin "name-tag-guard" options: productionAccounts[0]: expected a 12-digit account id',
  );
  assert.throws(() => nameTagGuard({ allowProduction: 'prod-db' } as never), /allowProduction: /);
});

test('tag:Name=bastion becomes the instance id, with the tunnel credentials and region', async () => {
  const t = await createTestEngine({ builtins: true, plugins: [nameTagGuard()] });
  try {
    emu.emulator.admin.clearRequests();
    const draft = await t.connect({ tunnel: 'web', profile: 'ci', target: 'tag:Name=bastion' });
    assert.is(draft.target, 'i-0123456789abcdef0');
    assert.equal(draft.annotations['name-tag-guard'], {
      selector: 'tag:Name=bastion',
      instanceId: 'i-0123456789abcdef0',
      name: 'bastion',
      account: '111111111111',
      production: false,
    });
    const db = await t.connect({ tunnel: 'db', profile: 'ci', target: 'tag:Name=db-proxy' });
    assert.is(db.target, 'i-0fedcba9876543210');
    const ops = emu.emulator.requests().map((r) => r.operation);
    // The built-in targets plugin resolved each selector (DescribeInstances, then Session Manager's view of
    // the match); the guard then looked the resolved id up once per connection.
    assert.is(ops.filter((o) => o === 'DescribeInstances').length, 2);
    assert.is(ops.filter((o) => o === 'DescribeInstanceInformation').length, 4);
    // Static keys carry no account id: the plugin asked STS once per connection.
    assert.is(ops.filter((o) => o === 'GetCallerIdentity').length, 2);
  } finally {
    await t.shutdown();
  }
});

test('a selector that matches nothing stops before the guard, in one line from the targets plugin', async () => {
  const t = await createTestEngine({ builtins: true, plugins: [nameTagGuard()] });
  const failure = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('expected a failure');
  };
  try {
    assert.is(
      await failure(t.connect({ tunnel: 'web', profile: 'ci', target: 'tag:Name=nope' })),
      'tunnel "web": no instance with tag Name=nope in us-east-1 is running and online in Session Manager; found no instance with that tag',
    );
    // The emulator only shows an account's own instances in the signing region.
    assert.match(
      await failure(t.connect({ tunnel: 'web', profile: 'ci', target: 'tag:Name=west-app' })),
      /^tunnel "web": no instance with tag Name=west-app in us-east-1 /,
    );
    const west = await t.connect({
      tunnel: 'web',
      profile: 'ci',
      region: 'us-west-2',
      target: 'tag:Name=west-app',
    });
    assert.is(west.target, 'i-0aaaabbbbccccdddd');
  } finally {
    await t.shutdown();
  }
});

test('production (account 222222222222) is stopped unless the tunnel is on the allow-list', async () => {
  const t = await createTestEngine({
    builtins: true,
    plugins: [nameTagGuard({ allowProduction: ['prod-db'] })],
  });
  try {
    // `prod` assumes Deploy in 222222222222 from the static keys of `ci` (the assume-role plugin).
    const veto = await vetoOf(
      t.connect({ tunnel: 'adhoc', profile: 'prod', target: 'tag:Name=prod-bastion' }),
    );
    assert.is(veto.plugin, 'name-tag-guard');
    assert.is(
      veto.reason,
      'i-0222222222222222a (prod-bastion) in account 222222222222 is production; only "prod-db" may reach it',
    );
    const allowed = await t.connect({ tunnel: 'prod-db', profile: 'prod', target: 'tag:Name=prod-bastion' });
    assert.is(allowed.target, 'i-0222222222222222a');
    assert.is((allowed.annotations['name-tag-guard'] as NameTagAnnotation).production, true);
  } finally {
    await t.shutdown();
  }
});

test('a "prod-" name is production in any account, also when the target is an instance id', async () => {
  const t = await createTestEngine({ builtins: true, plugins: [nameTagGuard({ productionAccounts: [] })] });
  try {
    const veto = await vetoOf(t.connect({ tunnel: 'adhoc', profile: 'prod', target: 'i-0222222222222222a' }));
    assert.match(
      veto.reason,
      /^i-0222222222222222a \(prod-bastion\) in account 222222222222 is production; only tunnels on the allowProduction list may reach it$/,
    );
    const sandbox = await t.connect({ tunnel: 'adhoc', profile: 'ci', target: 'i-0123456789abcdef0' });
    assert.is((sandbox.annotations['name-tag-guard'] as NameTagAnnotation).production, false);
  } finally {
    await t.shutdown();
  }
});

test('through startTunnels (what `up` runs): a tag target carries bytes; a production one fails with the reason', async () => {
  const t = await createTestEngine({
    builtins: true,
    plugins: [nameTagGuard()],
    tunnels: [
      { name: 'web', profile: 'ci', target: 'tag:Name=bastion', remotePort: echoPort, localPort: 0 },
      { name: 'adhoc', profile: 'prod', target: 'tag:Name=prod-bastion', remotePort: echoPort, localPort: 0 },
    ],
  });
  const set = await t.startTunnels();
  try {
    const [web] = await waitForTunnels(set, ['web']);
    // The status shows where sessions go: the id the selector resolved to.
    assert.is(web!.target, `i-0123456789abcdef0:${echoPort}`);
    const [host, port] = [web!.localAddress!.split(':')[0]!, Number(web!.localAddress!.split(':')[1])];
    const reply = await new Promise<string>((resolve, reject) => {
      const s = connect(port, host, () => s.write('ping through the tag'));
      s.on('data', (d: Buffer) => {
        resolve(d.toString());
        s.destroy();
      });
      s.on('error', reject);
    });
    assert.is(reply, 'ping through the tag');
    await new Promise<void>((resolve) => {
      const check = () => {
        if (set.status().find((s) => s.name === 'adhoc')?.state === 'failed') resolve();
      };
      set.onChange(check);
      check();
    });
    assert.match(
      set.status().find((s) => s.name === 'adhoc')?.detail ?? '',
      /stopped by plugin "name-tag-guard": i-0222222222222222a \(prod-bastion\) in account 222222222222 is production/,
    );
  } finally {
    await set.stop();
    await t.shutdown();
  }
});

test.run();
