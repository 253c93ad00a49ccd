// §9 limits on a client's messages, on a fake clock: an exact sliding 1000 ms window and the payload cap.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ClientLimits } from '../../src/emulator/agent/client-limits.js';

const test = suite('client limits');

test('1000 messages in 1000 ms pass; the 1001st within the window is a violation', () => {
  let now = 0;
  const limits = new ClientLimits(1000, false, () => now);
  for (let i = 0; i < 1000; i++) {
    assert.is(limits.onMessage(), undefined, `message ${i + 1}`);
    now += 0.999; // all 1000 within 999 ms
  }
  const v = limits.onMessage();
  assert.is(v?.event, 'rate-limit-exceeded');
  assert.is(v?.reason, 'rate exceeded');
  assert.is(v?.detail.messagesOnConnection, 1001);
});

test('the window slides: 1000 messages/s sustained for 10 s never trip it, a burst on top does', () => {
  let now = 0;
  const limits = new ClientLimits(1000, false, () => now);
  for (let i = 0; i < 10_000; i++) {
    assert.is(limits.onMessage(), undefined, `message ${i + 1} at ${now} ms`);
    now += 1;
  }
  // The last 1000 arrived at 9000..9999 ms: one more at 9999 ms is message 1001 in the window.
  now = 9999;
  assert.ok(limits.onMessage());
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
