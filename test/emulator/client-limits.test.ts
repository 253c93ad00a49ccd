// §9 limits on a client's messages, on a fake clock: the sustained rate with a burst allowance, and the payload cap.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ClientLimits } from '../../src/emulator/agent/client-limits.js';

const test = suite('client limits');

test('a burst up to 250 messages passes; the 251st at once is a violation', () => {
  const now = 0;
  const limits = new ClientLimits(1000, false, () => now);
  for (let i = 0; i < 250; i++) assert.is(limits.onMessage(), undefined, `message ${i + 1}`);
  const v = limits.onMessage();
  assert.is(v?.event, 'rate-limit-exceeded');
  assert.is(v?.reason, 'rate exceeded');
  assert.is(v?.detail.messagesOnConnection, 251);
});

test('1000 messages/s sustained for 10 s never trip it; 1100/s does within about 2.5 s', () => {
  let now = 0;
  const steady = new ClientLimits(1000, false, () => now);
  for (let i = 0; i < 10_000; i++) {
    assert.is(steady.onMessage(), undefined, `message ${i + 1} at ${now} ms`);
    now += 1;
  }
  now = 0;
  const fast = new ClientLimits(1000, false, () => now);
  let tripped: number | undefined;
  for (let i = 0; i < 11_000 && tripped === undefined; i++) {
    if (fast.onMessage()) tripped = now;
    now += 1000 / 1100;
  }
  assert.ok(tripped !== undefined && tripped > 2000 && tripped < 3000, `tripped at ${tripped} ms`);
});

test('900/s whose messages arrive bunched after a 200 ms stall is not a violation (jitter, not rate)', () => {
  let now = 0;
  const limits = new ClientLimits(1000, false, () => now);
  for (let i = 0; i < 1800; i++) {
    assert.is(limits.onMessage(), undefined);
    now += 1000 / 900;
  }
  now += 200; // 180 messages sent meanwhile arrive at once
  for (let i = 0; i < 180; i++) assert.is(limits.onMessage(), undefined, `bunched ${i + 1}`);
});

test('false turns the rate limit off', () => {
  const limits = new ClientLimits(false, false, () => 0);
  for (let i = 0; i < 5000; i++) assert.is(limits.onMessage(), undefined);
});

test('payload cap: the limit itself passes, one byte more is a violation, false is no cap', () => {
  const limits = new ClientLimits(false, 1024);
  assert.is(limits.onPayload(1024), undefined);
  const v = limits.onPayload(1025);
  assert.is(v?.event, 'payload-limit-exceeded');
  assert.equal(v?.detail, { payloadBytes: 1025, limitBytes: 1024 });
  assert.is(new ClientLimits(false, false).onPayload(1 << 20), undefined);
});

test.run();
