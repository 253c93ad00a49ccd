// A target that matched nothing usable: a typo fails at once, an Auto Scaling replacement under way is waited
// for (onError answers `retry` for TargetPending), polling with backoff on the engine clock (a FakeClock here)
// until the new instance is online, and giving up after the replacement wait (15 min by default).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SEED_STATIC_ACCESS_KEY_ID, SEED_STATIC_SECRET_ACCESS_KEY } from '../../src/emulator/state.js';
import type { ConnectDraft } from '../../src/engine/types.js';
import {
  FakeClock,
  advanceUntil,
  connectDraft,
  createTestEngine,
  startTestEmulator,
  testAwsConfig,
  type TestEmulator,
  type TestEngine,
} from '../../src/testing/index.js';

const test = suite('targets: waiting for a replacement');
const acct = '111111111111';
const region = 'us-east-1';
const WEB = 'i-0a5a5a5a5a5a5a5a5';
const SOLO = 'i-0c0c0c0c0c0c0c0c0';
let emu: TestEmulator;
let t: TestEngine;
let clock: FakeClock;

test.before(async () => {
  emu = await startTestEmulator({
    awsConfig: testAwsConfig,
    awsCredentials: `[ci]\naws_access_key_id = ${SEED_STATIC_ACCESS_KEY_ID}\naws_secret_access_key = ${SEED_STATIC_SECRET_ACCESS_KEY}\n`,
    state: {
      iamUsers: [
        {
          arn: `arn:aws:iam::${acct}:user/ci`,
          accessKeyId: SEED_STATIC_ACCESS_KEY_ID,
          secretAccessKey: SEED_STATIC_SECRET_ACCESS_KEY,
        },
      ],
      instances: [
        { instanceId: WEB, name: 'web', accountId: acct, region, autoScalingGroup: 'web-asg' },
        { instanceId: SOLO, name: 'solo', accountId: acct, region },
      ],
    },
  });
  clock = new FakeClock();
  t = await createTestEngine({ builtins: true, plugins: [], clock });
});
test.after(async () => {
  await t.shutdown();
  await emu.close();
});

const draft = (tunnel: string, target: string): ConnectDraft =>
  connectDraft({ tunnel, profile: 'ci', target, remotePort: 80 });
async function thrown(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}
const describes = () => emu.emulator.requests().filter((r) => r.operation === 'DescribeInstances').length;

test('a typo fails at once; a replacement under way is waited for, within the replacement wait', async () => {
  const typo = await thrown(t.engine.prepareConnection(draft('x', 'wbe')));
  assert.is(
    typo.message,
    'tunnel "x": no instance with tag Name=wbe in us-east-1 is running and online in Session Manager; found no instance with that tag',
  );
  assert.is((await t.decide(typo)).action, 'fail', 'a typo is not retried');

  const { instanceId: fresh } = emu.emulator.admin.replaceInstance(WEB, { hold: true });
  const pending = await thrown(t.engine.prepareConnection(draft('web', 'web')));
  assert.is(
    pending.message,
    `tunnel "web": waiting for an instance with tag Name=web in us-east-1 to be running and online in Session Manager; found ${WEB} (terminated), ${fresh} (pending)`,
  );
  const early = await t.decide(pending, { attempt: 3, elapsedMs: 60_000 });
  assert.equal(early, {
    action: 'retry',
    afterMs: 4000,
    reason: 'target pending (replacement launching); looking again',
  });
  // Far past the built-in budget (5 attempts, 2 min) and still waiting: a replacement takes minutes.
  assert.is((await t.decide(pending, { attempt: 40, elapsedMs: 10 * 60_000 })).action, 'retry');
  const late = await t.decide(pending, { attempt: 80, elapsedMs: 15 * 60_000 });
  assert.is(late.action, 'fail');
  assert.match(
    late.action === 'fail' ? (late.message ?? '') : '',
    /^Target Unavailable: tunnel "web": waiting for an instance with tag Name=web .* \(gave up after 15 min of waiting\)$/,
  );
  emu.emulator.admin.setInstance(fresh, { state: 'running' });
});

test('a selector this tunnel resolved before is waited for even when nothing is on its way', async () => {
  assert.is((await t.engine.prepareConnection(draft('solo', 'solo'))).target, SOLO);
  emu.emulator.admin.setInstance(SOLO, { pingStatus: 'ConnectionLost' });
  // The same tunnel: its instance went away while it ran, it waits. A tunnel starting now: fails at once.
  const followed = await thrown(t.engine.prepareConnection(draft('solo', 'solo')));
  assert.match(followed.message, /^tunnel "solo": waiting for an instance with tag Name=solo /);
  const fresh = await thrown(t.engine.prepareConnection(draft('other', 'solo')));
  assert.match(
    fresh.message,
    /^tunnel "other": no instance with tag Name=solo in us-east-1 is running and online in Session Manager; found i-0c0c0c0c0c0c0c0c0 \(running, agent ConnectionLost\)$/,
  );
  emu.emulator.admin.setInstance(SOLO, { pingStatus: 'Online' });
});

test('on the engine clock: polls with backoff (no busy loop), connects once the new instance is online', async () => {
  const web = (await t.engine.prepareConnection(draft('web', 'web'))).target;
  const { instanceId: fresh } = emu.emulator.admin.replaceInstance(web, { hold: true });
  const before = describes();
  let settled = false;
  const connected = t.engine
    .recover({ phase: 'connect', operation: 'tunnel web', profile: 'ci' }, () =>
      t.engine.prepareConnection(draft('web', 'web')),
    )
    .finally(() => (settled = true));
  connected.catch(() => undefined);
  // Five fake minutes: looks at 0, 1, 3, 7, 15 s, then every 15 s: about 24, never thousands.
  for (let i = 0; i < 60; i++) {
    await clock.advance(5000);
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.not.ok(settled, 'still waiting after 5 minutes');
  const looks = describes() - before;
  assert.ok(looks >= 15 && looks <= 30, `${looks} looks in 5 minutes`);
  emu.emulator.admin.setInstance(fresh, { state: 'running' });
  const d = await advanceUntil(clock, connected, 1000, 60);
  assert.is(d.target, fresh);
});

test('on the engine clock: nothing comes online within 15 minutes, the tunnel fails saying so', async () => {
  const web = (await t.engine.prepareConnection(draft('web', 'web'))).target;
  emu.emulator.admin.replaceInstance(web, { hold: true });
  const err = await thrown(
    advanceUntil(
      clock,
      t.engine.recover({ phase: 'connect', operation: 'tunnel web', profile: 'ci' }, () =>
        t.engine.prepareConnection(draft('web', 'web')),
      ),
      5000,
      400,
    ),
  );
  assert.match(
    err.message,
    /^Target Unavailable: tunnel "web": waiting for an instance with tag Name=web in us-east-1 .* \(gave up after 15 min of waiting\)$/,
  );
});

test.run();
