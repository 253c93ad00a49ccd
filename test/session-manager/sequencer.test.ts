import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAckContent } from '../../src/session-manager/ack.js';
import { decodeMessage, encodeMessage } from '../../src/session-manager/frame.js';
import { Sequencer } from '../../src/session-manager/sequencer.js';
import {
  MessageType,
  PayloadType,
  type ClientMessage,
  type SequencerOptions,
} from '../../src/session-manager/types.js';
import { seededRandom } from '../../src/emulator/agent/faults.js';
import { FakeTimers } from './helpers.js';

interface Wire {
  data: ClientMessage[];
  acks: number[];
}

function capture(): { wire: Wire; send: (f: Buffer, kind: 'data' | 'ack') => void } {
  const wire: Wire = { data: [], acks: [] };
  return {
    wire,
    send: (f, kind) => {
      const m = decodeMessage(f);
      if (kind === 'ack') wire.acks.push(parseAckContent(m.payload).AcknowledgedMessageSequenceNumber);
      else wire.data.push(m);
    },
  };
}

function sender(timers: FakeTimers, extra: Partial<SequencerOptions> = {}) {
  const c = capture();
  const s = new Sequencer({ role: 'client', deliver: () => true, clock: timers, ...extra });
  s.attach({ send: c.send });
  return { s, wire: c.wire };
}

function incoming(seq: number, payload = `m${seq}`): ClientMessage {
  return decodeMessage(
    encodeMessage({
      messageType: MessageType.OutputStreamData,
      sequenceNumber: seq,
      payloadType: PayloadType.Output,
      payload: Buffer.from(payload),
    }),
  );
}

test('numbering from 0, outgoing type by role, acks not numbered', () => {
  const t = new FakeTimers();
  const { s, wire } = sender(t);
  s.send(PayloadType.HandshakeResponse, Buffer.from('{}'));
  s.send(PayloadType.Flag, Buffer.from([0, 0, 0, 1]));
  s.handleData(incoming(0)); // produces an ack, must not consume a sequence number
  s.send(PayloadType.Output, Buffer.from('x'));
  assert.equal(
    wire.data.map((m) => [m.sequenceNumber, m.messageType, m.payloadType]),
    [
      [0, 'input_stream_data', 6],
      [1, 'input_stream_data', 10],
      [2, 'input_stream_data', 1],
    ],
  );
  assert.equal(wire.acks, [0]);
  s.close();
});

test('RTT/RTO: initial values, update formula, 10 ms floor, 1 s cap', () => {
  const t = new FakeTimers();
  const { s } = sender(t);
  assert.is(s.rto, 200);
  assert.is(s.smoothedRtt, 100);
  assert.is(s.rttVariance, 0);
  s.send(1, Buffer.from('a'));
  t.advance(50);
  s.handleAck(0);
  // RTTVAR = 0.75*0 + 0.25*|100-50| = 12.5; SRTT = 0.875*100 + 0.125*50 = 93.75; RTO = 93.75 + max(10, 50)
  assert.is(s.rttVariance, 12.5);
  assert.is(s.smoothedRtt, 93.75);
  assert.is(s.rto, 143.75);
  s.send(1, Buffer.from('b'));
  s.detach(); // no resends, so the sample is the full 5 s
  t.advance(5000);
  s.handleAck(1);
  assert.is(s.rto, 1000);
  s.attach({ send: () => undefined });
  // Many samples equal to SRTT: variance decays and the 10 ms floor applies.
  for (let i = 2; i < 300; i++) {
    s.send(1, Buffer.from('c'));
    t.advance(Math.round(s.smoothedRtt));
    s.handleAck(i);
  }
  assert.ok(Math.abs(s.rto - (s.smoothedRtt + 10)) < 1e-6, `rto ${s.rto} srtt ${s.smoothedRtt}`);
  s.close();
});

test('100 ms timer resends only the OLDEST unacked, once older than RTO', () => {
  const t = new FakeTimers();
  const { s, wire } = sender(t);
  for (let i = 0; i < 3; i++) s.send(1, Buffer.from(`m${i}`));
  assert.is(wire.data.length, 3);
  t.advance(200); // ticks at 100, 200: age 200 is not > RTO 200
  assert.is(wire.data.length, 3);
  t.advance(100); // tick at 300: resend seq 0 only
  assert.equal(
    wire.data.slice(3).map((m) => m.sequenceNumber),
    [0],
  );
  t.advance(100); // seq 0 resent 100 ms ago: nothing
  assert.is(wire.data.length, 4);
  s.handleAck(0); // sample from the resend: 100 ms
  t.advance(100); // oldest is now seq 1, sent 500 ms ago
  assert.equal(
    wire.data.slice(4).map((m) => m.sequenceNumber),
    [1],
  );
  assert.is(s.stats().retransmits, 2);
  s.handleAck(1);
  s.handleAck(2);
  t.advance(2000);
  assert.is(wire.data.length, 5);
  assert.is(s.unackedCount, 0);
  s.close();
});

test('receiver: in order delivery, duplicates re-acked, reordering buffered and acked, exactly once', () => {
  const t = new FakeTimers();
  const got: string[] = [];
  const c = capture();
  const r = new Sequencer({
    role: 'client',
    clock: t,
    deliver: (m) => (got.push(m.payload.toString()), true),
  });
  r.attach({ send: c.send });
  r.handleData(incoming(0));
  r.handleData(incoming(2));
  r.handleData(incoming(3));
  assert.equal(got, ['m0']);
  r.handleData(incoming(2)); // duplicate of a buffered one: re-ack
  r.handleData(incoming(1));
  assert.equal(got, ['m0', 'm1', 'm2', 'm3']);
  r.handleData(incoming(1)); // lower than expected: re-ack, no delivery
  r.handleData(incoming(0));
  assert.equal(got, ['m0', 'm1', 'm2', 'm3']);
  assert.equal(c.wire.acks, [0, 2, 3, 2, 1, 1, 0]);
  assert.is(r.expectedSequenceNumber, 4);
  assert.is(r.stats().duplicates, 3);
  r.close();
});

test('receiver: reorder buffer bounded; over the limit is dropped unacked and recovered by resend', () => {
  const t = new FakeTimers();
  const got: number[] = [];
  const c = capture();
  const r = new Sequencer({
    role: 'client',
    clock: t,
    deliver: (m) => (got.push(m.sequenceNumber), true),
    reorderLimit: { maxMessages: 2 },
  });
  r.attach({ send: c.send });
  for (const s of [1, 2, 3, 4]) r.handleData(incoming(s));
  assert.equal(c.wire.acks, [1, 2]);
  assert.is(r.heldCount, 2);
  assert.is(r.stats().droppedOverLimit, 2);
  r.handleData(incoming(0));
  assert.equal(got, [0, 1, 2]);
  r.handleData(incoming(3));
  r.handleData(incoming(4));
  assert.equal(got, [0, 1, 2, 3, 4]);
  r.close();
});

test('receiver: not ready refuses (no ack, no advance) and delivers later exactly once', () => {
  const t = new FakeTimers();
  const got: number[] = [];
  let ready = false;
  const c = capture();
  const r = new Sequencer({
    role: 'client',
    clock: t,
    deliver: (m) => {
      if (!ready) return false;
      got.push(m.sequenceNumber);
      return true;
    },
  });
  r.attach({ send: c.send });
  r.handleData(incoming(0));
  assert.equal(c.wire.acks, []);
  assert.is(r.expectedSequenceNumber, 0);
  assert.ok(r.deliveryIsPaused);
  r.handleData(incoming(0)); // a resend while refused: still no ack
  r.handleData(incoming(1)); // later ones are held unacked too: the peer must stop sending
  r.handleData(incoming(1));
  assert.equal(c.wire.acks, []);
  ready = true;
  r.resumeDelivery();
  assert.equal(got, [0, 1]);
  assert.equal(c.wire.acks, [0, 1]);
  // pauseDelivery() from the consumer holds the next ones
  r.pauseDelivery();
  r.handleData(incoming(2));
  assert.equal(got, [0, 1]);
  r.resumeDelivery();
  assert.equal(got, [0, 1, 2]);
  r.close();
});

test('backpressure: window by count and bytes, drain after acks, out-of-order acks do not open it', () => {
  const t = new FakeTimers();
  const { s } = sender(t, { window: { maxMessages: 3, maxBytes: 1000 } });
  let drains = 0;
  s.on('drain', () => drains++);
  assert.ok(s.send(1, Buffer.alloc(10)));
  assert.ok(s.send(1, Buffer.alloc(10)));
  assert.not.ok(s.send(1, Buffer.alloc(10)));
  assert.not.ok(s.writable);
  s.handleAck(2);
  s.handleAck(1);
  assert.not.ok(s.writable); // seq 0 still unacked: the span is still 3
  assert.is(drains, 0);
  s.handleAck(0);
  assert.ok(s.writable);
  assert.is(drains, 1);
  assert.not.ok(s.send(1, Buffer.alloc(1000))); // bytes bound
  s.handleAck(3);
  assert.is(drains, 2);
  s.close();
});

test('pause/start publication: nothing sent while paused, queued sent on start, no resends while paused', () => {
  const t = new FakeTimers();
  const { s, wire } = sender(t);
  s.send(1, Buffer.from('a'));
  s.pausePublication();
  s.send(1, Buffer.from('b'));
  t.advance(1000);
  assert.equal(
    wire.data.map((m) => m.sequenceNumber),
    [0],
  );
  s.startPublication();
  assert.equal(
    wire.data.map((m) => m.sequenceNumber),
    [0, 1],
  );
  s.close();
});

test('detach/attach (resume): nothing sent while detached, every unacked message resent in order', () => {
  const t = new FakeTimers();
  const { s, wire } = sender(t);
  s.send(1, Buffer.from('a'));
  s.send(1, Buffer.from('b'));
  s.handleAck(0);
  s.detach();
  s.send(1, Buffer.from('c'));
  t.advance(3000);
  assert.equal(
    wire.data.map((m) => m.sequenceNumber),
    [0, 1],
  );
  const c2 = capture();
  s.attach({ send: c2.send });
  assert.equal(
    c2.wire.data.map((m) => m.sequenceNumber),
    [1, 2],
  );
  assert.is(s.nextSequenceNumber, 3);
  s.close();
});

test('two endpoints over a lossy link (drop 20%, dup 10%, reorder 10%) deliver 2000 messages exactly once', () => {
  const t = new FakeTimers();
  const rnd = seededRandom(42);
  const got: number[] = [];
  const inbox: { to: 'a' | 'b'; frame: Buffer }[] = [];
  const link =
    (to: 'a' | 'b') =>
    (frame: Buffer): void => {
      if (rnd() < 0.2) return;
      if (rnd() < 0.1) inbox.push({ to, frame });
      if (rnd() < 0.1) inbox.unshift({ to, frame });
      else inbox.push({ to, frame });
    };
  const a = new Sequencer({ role: 'client', clock: t, deliver: () => true, window: { maxMessages: 64 } });
  const b = new Sequencer({
    role: 'agent',
    clock: t,
    deliver: (m) => (got.push(Number(m.payload.toString())), true),
  });
  a.attach({ send: link('b') });
  b.attach({ send: link('a') });
  const dispatch = (s: Sequencer, frame: Buffer): void => {
    const m = decodeMessage(frame);
    if (m.messageType === MessageType.Acknowledge)
      s.handleAck(parseAckContent(m.payload).AcknowledgedMessageSequenceNumber);
    else s.handleData(m);
  };
  let next = 0;
  for (let round = 0; round < 20_000 && got.length < 2000; round++) {
    while (next < 2000 && a.writable) a.send(1, Buffer.from(String(next++)));
    for (const item of inbox.splice(0)) dispatch(item.to === 'a' ? a : b, item.frame);
    t.advance(10);
  }
  assert.is(got.length, 2000);
  assert.equal(
    got,
    Array.from({ length: 2000 }, (_, i) => i),
  );
  assert.ok(a.stats().retransmits > 0);
  a.close();
  b.close();
});

test('close stops the timer', () => {
  const t = new FakeTimers();
  const s = new Sequencer({ role: 'agent', clock: t, deliver: () => true });
  assert.is(t.timerCount, 1);
  s.close();
  assert.is(t.timerCount, 0);
});

test('busy transport: later messages wait in the window unsent, go out in order on transportDrained', () => {
  const t = new FakeTimers();
  const c = capture();
  let busy = false;
  const s = new Sequencer({ role: 'client', deliver: () => true, clock: t });
  s.attach({
    send: (f, kind) => {
      c.send(f, kind);
      return !busy;
    },
  });
  s.send(PayloadType.Output, Buffer.from('a'));
  busy = true;
  s.send(PayloadType.Output, Buffer.from('b')); // handed over; the transport says it is full now
  s.send(PayloadType.Output, Buffer.from('c'));
  s.send(PayloadType.Output, Buffer.from('d'));
  assert.equal(
    c.wire.data.map((m) => m.payload.toString()),
    ['a', 'b'],
  );
  // Acks still flow while busy; no retransmission is queued behind a full transport.
  s.handleData(incoming(0));
  assert.equal(c.wire.acks, [0]);
  t.advance(1000);
  assert.is(c.wire.data.length, 2);
  busy = false;
  s.transportDrained();
  assert.equal(
    c.wire.data.map((m) => m.payload.toString()),
    ['a', 'b', 'c', 'd'],
  );
  assert.is(s.windowBytes, 4, 'all four stay in the window until acked');
  s.close();
});

test('send in parts: one message, payload concatenated, digest over the whole', () => {
  const t = new FakeTimers();
  const { s, wire } = sender(t);
  s.send(PayloadType.Output, [Buffer.from([1, 3]), Buffer.from('xyz')]);
  const m = wire.data[0]!;
  assert.is(m.payloadLength, 5);
  assert.equal([...m.payload], [1, 3, ...Buffer.from('xyz')]);
  assert.is(s.windowBytes, 5);
  assert.match(m.messageId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  s.close();
});

test('reuseFramesOfPayloadLength: an acked message buffer carries a later message of that length', () => {
  const t = new FakeTimers();
  const frames: Buffer[] = [];
  const s = new Sequencer({ role: 'client', deliver: () => true, clock: t, reuseFramesOfPayloadLength: 4 });
  s.attach({ send: (f) => void frames.push(f) });
  s.send(PayloadType.Output, Buffer.from('aaaa'));
  s.send(PayloadType.Output, Buffer.from('bb'));
  s.handleAck(0);
  s.handleAck(1);
  s.send(PayloadType.Output, Buffer.from('ccc')); // other length: a new buffer
  s.send(PayloadType.Output, [Buffer.from('d'), Buffer.from('ddd')]);
  assert.is(frames[3], frames[0], 'the acked buffer of the same length is reused');
  assert.is.not(frames[2], frames[1]);
  const m = decodeMessage(frames[3]!);
  assert.is(m.sequenceNumber, 3);
  assert.is(m.payload.toString(), 'dddd');
  // Unacked: never reused (a retransmission needs it).
  s.send(PayloadType.Output, Buffer.from('eeee'));
  assert.is.not(frames[4], frames[3]);
  s.close();
});

test.run();
