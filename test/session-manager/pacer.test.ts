// The client's message pacer (protocol §9: the service closes a client above ~1000 messages/s per session).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  DEFAULT_MESSAGE_BURST,
  DEFAULT_MESSAGE_RATE,
  MessagePacer,
} from '../../src/session-manager/pacer.js';
import { FakeTimers } from './helpers.js';

/** A sender that always has something to send: takes every token it can, and waits for the pacer. */
function greedy(pacer: MessagePacer, timers: FakeTimers, sentAt: number[]): void {
  const go = (): void => {
    while (pacer.take()) sentAt.push(timers.now());
    pacer.whenAvailable(go);
  };
  go();
}

test('a greedy sender stays under 1000 messages in every one-second window, at ~900/s', () => {
  const timers = new FakeTimers();
  const pacer = new MessagePacer({
    ratePerSecond: DEFAULT_MESSAGE_RATE,
    burst: DEFAULT_MESSAGE_BURST,
    clock: timers,
  });
  const sentAt: number[] = [];
  const start = timers.now();
  greedy(pacer, timers, sentAt);
  timers.advance(10_000);
  let worst = 0;
  for (let i = 0, j = 0; i < sentAt.length; i++) {
    while (sentAt[i]! - sentAt[j]! >= 1000) j++;
    worst = Math.max(worst, i - j + 1);
  }
  assert.ok(worst <= DEFAULT_MESSAGE_RATE + DEFAULT_MESSAGE_BURST, `worst window ${worst}`);
  assert.ok(worst < 1000);
  const rate = sentAt.filter((t) => t - start >= 1000).length / 9;
  assert.ok(rate > 880 && rate <= 901, `steady rate ${rate}/s`);
  // Woken in batches: far fewer timers than messages.
  pacer.close();
});

test('idle time refills at most a burst; a closed pacer wakes nobody', () => {
  const timers = new FakeTimers();
  const pacer = new MessagePacer({ ratePerSecond: 100, burst: 5, clock: timers });
  timers.advance(60_000);
  let n = 0;
  while (pacer.take()) n++;
  assert.is(n, 5);
  let woken = 0;
  pacer.whenAvailable(() => woken++);
  pacer.close();
  timers.advance(1000);
  assert.is(woken, 0);
  assert.is(timers.timerCount, 0);
});

test('a rate or burst that cannot work is refused', () => {
  const timers = new FakeTimers();
  assert.throws(() => new MessagePacer({ ratePerSecond: 0, burst: 5, clock: timers }), /positive rate/);
  assert.throws(() => new MessagePacer({ ratePerSecond: 10, burst: 0, clock: timers }), /burst/);
});

test.run();
