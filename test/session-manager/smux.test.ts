import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SmuxError } from '../../src/session-manager/errors.js';
import {
  encodeSmuxFrame,
  QUEUE_HIGH_WATER,
  ROOM_THRESHOLD,
  STREAM_ROOM,
  SmuxCmd,
  SmuxSession,
  type SmuxStream,
} from '../../src/session-manager/smux.js';
import { FakeTimers, sha256hex } from './helpers.js';

function collect(s: SmuxStream): Promise<{ data: Buffer; ended: boolean }> {
  const parts: Buffer[] = [];
  return new Promise((resolve) => {
    let ended = false;
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('end', () => (ended = true));
    s.on('error', () => undefined);
    s.on('close', () => resolve({ data: Buffer.concat(parts), ended }));
  });
}

test('header layout: version 1, cmd, uint16 LE length, uint32 LE stream id', () => {
  const f = encodeSmuxFrame(SmuxCmd.PSH, 0x01020304, Buffer.from('abc'));
  assert.is(f.toString('hex'), '0102' + '0300' + '04030201' + '616263');
  assert.is(encodeSmuxFrame(SmuxCmd.NOP, 0).toString('hex'), '0103000000000000');
});

test('reassembles frames split at every byte boundary', async () => {
  const a = randomBytes(300);
  const b = randomBytes(70);
  const stream = Buffer.concat([
    encodeSmuxFrame(SmuxCmd.SYN, 3),
    encodeSmuxFrame(SmuxCmd.PSH, 3, a.subarray(0, 100)),
    encodeSmuxFrame(SmuxCmd.NOP, 0),
    encodeSmuxFrame(SmuxCmd.SYN, 5),
    encodeSmuxFrame(SmuxCmd.PSH, 5, b),
    encodeSmuxFrame(SmuxCmd.PSH, 3, a.subarray(100)),
    encodeSmuxFrame(SmuxCmd.PSH, 99, Buffer.from('unknown stream: dropped')),
    encodeSmuxFrame(SmuxCmd.FIN, 3),
    encodeSmuxFrame(SmuxCmd.FIN, 5),
  ]);
  const splits: number[][] = [];
  for (let i = 0; i <= stream.length; i++) splits.push([i]);
  for (let i = 1; i < stream.length; i += 7)
    splits.push([i, Math.min(stream.length, i + 3), Math.min(stream.length, i + 11)]);
  splits.push(Array.from({ length: stream.length }, (_, i) => i)); // one byte at a time
  for (const cut of splits) {
    const server = new SmuxSession({ role: 'server', write: () => true });
    const results: Promise<{ data: Buffer; ended: boolean }>[] = [];
    const ids: number[] = [];
    server.on('stream', (s: SmuxStream) => {
      ids.push(s.id);
      results.push(collect(s));
    });
    let prev = 0;
    for (const c of [...cut, stream.length]) {
      server.feed(stream.subarray(prev, c));
      prev = c;
    }
    const [r3, r5] = await Promise.all(results);
    assert.equal(ids, [3, 5]);
    assert.ok(r3?.data.equals(a), `stream 3 at cut ${cut.join(',')}`);
    assert.ok(r5?.data.equals(b));
    assert.ok(r3?.ended && r5?.ended);
    server.close();
  }
});

function pair(opts: { sinkFull?: () => boolean } = {}) {
  const client: SmuxSession = new SmuxSession({
    role: 'client',
    write: (c) => {
      setImmediate(() => server.feed(c));
      return opts.sinkFull ? !opts.sinkFull() : true;
    },
  });
  const server: SmuxSession = new SmuxSession({
    role: 'server',
    write: (c) => {
      setImmediate(() => client.feed(c));
      return true;
    },
  });
  return { client, server };
}

test('many concurrent streams echo byte-exact; client ids odd from 3', async () => {
  const { client, server } = pair();
  server.on('stream', (s: SmuxStream) => s.pipe(s));
  const streams = Array.from({ length: 60 }, () => client.openStream());
  assert.equal(
    streams.slice(0, 3).map((s) => s.id),
    [3, 5, 7],
  );
  const payloads = streams.map(() => randomBytes(40_000 + Math.floor(Math.random() * 40_000)));
  const results = await Promise.all(
    streams.map(
      (s, i) =>
        new Promise<string>((resolve) => {
          const p = payloads[i] ?? Buffer.alloc(0);
          const parts: Buffer[] = [];
          let n = 0;
          s.on('data', (d: Buffer) => {
            parts.push(d);
            n += d.length;
            if (n >= p.length) resolve(sha256hex(Buffer.concat(parts)));
          });
          s.write(p);
        }),
    ),
  );
  results.forEach((h, i) => assert.is(h, sha256hex(payloads[i] ?? Buffer.alloc(0))));
  client.close();
  server.close();
});

test('FIN: closing one end closes both (no half-close)', async () => {
  const { client, server } = pair();
  const serverStream = new Promise<SmuxStream>((r) => server.once('stream', r));
  const c = client.openStream();
  c.write('hello');
  const s = await serverStream;
  const sRes = collect(s);
  const cRes = collect(c);
  c.end();
  const [sr, cr] = await Promise.all([sRes, cRes]);
  assert.is(sr.data.toString(), 'hello');
  assert.ok(sr.ended);
  assert.ok(cr.ended);
  assert.ok(s.destroyed && c.destroyed);
  assert.is(client.streamCount, 0);
  assert.is(server.streamCount, 0);
  client.close();
  server.close();
});

test('session close destroys streams; protocol error closes the session', async () => {
  const errs: (Error | undefined)[] = [];
  const server = new SmuxSession({ role: 'server', write: () => true });
  server.on('close', (e: Error | undefined) => errs.push(e));
  const got = new Promise<SmuxStream>((r) => server.once('stream', r));
  server.feed(encodeSmuxFrame(SmuxCmd.SYN, 3));
  const s = await got;
  const closed = new Promise<Error | undefined>((r) => s.once('error', (e) => r(e)));
  server.feed(Buffer.from([2, 2, 0, 0, 3, 0, 0, 0])); // version 2
  assert.instance(await closed, SmuxError);
  assert.ok(server.closed);
  assert.match(String(errs[0]?.message), /protocol error/);
  assert.throws(() => server.openStream(), /closed/);
});

test('keepalive: NOP every interval, close after timeout of silence (fake time)', () => {
  const t = new FakeTimers();
  const out: Buffer[] = [];
  const s = new SmuxSession({
    role: 'client',
    write: (b) => (out.push(b), true),
    keepAlive: { intervalMs: 10_000, timeoutMs: 30_000 },
    clock: t,
  });
  let closedWith: Error | undefined;
  s.on('close', (e: Error | undefined) => (closedWith = e));
  t.advance(10_000);
  assert.is(out.length, 1);
  assert.is(out[0]?.toString('hex'), encodeSmuxFrame(SmuxCmd.NOP, 0).toString('hex'));
  // Peer NOPs keep it alive.
  for (let i = 0; i < 5; i++) {
    s.feed(encodeSmuxFrame(SmuxCmd.NOP, 0));
    t.advance(20_000);
  }
  assert.not.ok(s.closed);
  t.advance(60_000);
  assert.ok(s.closed);
  assert.match(String(closedWith?.message), /keepalive timeout/);
  assert.is(t.timerCount, 0);
});

test('keepalive disabled: no NOPs and no timeout', () => {
  const t = new FakeTimers();
  const out: Buffer[] = [];
  const s = new SmuxSession({
    role: 'client',
    write: (b) => (out.push(b), true),
    keepAlive: false,
    clock: t,
  });
  t.advance(120_000);
  assert.is(out.length, 0);
  assert.not.ok(s.closed);
  s.close();
});

test('backpressure: sink full stalls stream writes until notifyWritable; large writes split at max frame', async () => {
  const out: Buffer[] = [];
  let full = true;
  const s = new SmuxSession({ role: 'client', write: (b) => (out.push(b), !full) });
  const st = s.openStream();
  let cbDone = false;
  st.write(Buffer.alloc(70_000), () => (cbDone = true));
  await new Promise((r) => setImmediate(r));
  assert.is(out.length, 1); // SYN accepted, then the sink said full
  assert.not.ok(cbDone);
  full = false;
  s.notifyWritable();
  await new Promise((r) => setImmediate(r));
  assert.ok(cbDone);
  const lens = out.slice(1).map((b) => b.readUInt16LE(2));
  assert.equal(lens, [32768, 32768, 70_000 - 65536]);
  s.close();
});

test('receive buffer: receiveReady false over the limit, receiveReady event once drained', async () => {
  const s = new SmuxSession({ role: 'server', write: () => true, maxReceiveBuffer: 100_000 });
  const got = new Promise<SmuxStream>((r) => s.once('stream', r));
  s.feed(encodeSmuxFrame(SmuxCmd.SYN, 3));
  const st = await got;
  for (let i = 0; i < 4; i++) s.feed(encodeSmuxFrame(SmuxCmd.PSH, 3, Buffer.alloc(30_000)));
  assert.not.ok(s.receiveReady);
  const ready = new Promise<void>((r) => s.once('receiveReady', () => r()));
  st.resume();
  await ready;
  assert.ok(s.receiveReady);
  s.close();
});

test('onRemoteFin can fail a stream (ConnectToPortError path)', async () => {
  const s = new SmuxSession({
    role: 'client',
    write: () => true,
    onRemoteFin: (info) => (info.bytesReceived === 0 ? new Error('refused') : undefined),
  });
  const a = s.openStream();
  const err = new Promise<Error>((r) => a.once('error', r));
  s.feed(encodeSmuxFrame(SmuxCmd.FIN, a.id));
  assert.match((await err).message, /refused/);
  const b = s.openStream();
  const res = collect(b);
  s.feed(
    Buffer.concat([encodeSmuxFrame(SmuxCmd.PSH, b.id, Buffer.from('x')), encodeSmuxFrame(SmuxCmd.FIN, b.id)]),
  );
  const r = await res;
  assert.ok(r.ended);
  assert.is(r.data.toString(), 'x');
  s.close();
});

test('writeFrame: header and payload apart, frames cut only as the sink takes them, no copy queued', async () => {
  const frames: [string, Buffer | undefined][] = [];
  let full = false;
  const s = new SmuxSession({
    role: 'client',
    write: () => {
      throw new Error('write is not used when writeFrame is given');
    },
    writeFrame: (h, p) => (frames.push([h.toString('hex'), p]), !full),
  });
  full = true;
  const st = s.openStream(); // the sink takes the SYN and says it is full
  const chunk = Buffer.alloc(70_000, 7);
  let done = false;
  st.write(chunk, () => (done = true));
  await new Promise((r) => setImmediate(r));
  assert.is(frames.length, 1, 'nothing of the chunk while the sink is full');
  full = false;
  s.notifyWritable();
  await new Promise((r) => setImmediate(r));
  assert.ok(done);
  assert.equal(
    frames.map(([h]) => h),
    ['0100000003000000', '0102008003000000', '0102008003000000', '0102701103000000'],
  );
  // The payloads are views of the written chunk, not copies.
  assert.ok(frames.slice(1).every(([, p]) => p?.buffer === chunk.buffer));
  // An empty write completes without a frame.
  await new Promise<void>((r) => st.write(Buffer.alloc(0), () => r()));
  assert.is(frames.length, 4);
  s.close();
});

test('many writers, sink full: written chunks over the queue limit hold their callbacks back, in order', async () => {
  let full = true;
  const s = new SmuxSession({ role: 'client', write: () => !full });
  const chunk = 64 * 1024;
  const n = Math.ceil((2 * QUEUE_HIGH_WATER) / chunk);
  const done: number[] = [];
  const streams = Array.from({ length: n }, () => s.openStream());
  streams.forEach((st, i) => st.write(Buffer.alloc(chunk, i), () => done.push(i)));
  await new Promise((r) => setImmediate(r));
  assert.equal(done, []); // nothing went out: the sink is full
  // Room for one frame at a time: chunks go out, but their writers wait while the queue is over the limit.
  for (let i = 0; i < 4; i++) s.notifyWritable();
  await new Promise((r) => setImmediate(r));
  assert.ok(done.length <= 1, `held back while the queue is long (${done.join(',')})`);
  full = false;
  s.notifyWritable();
  await new Promise((r) => setImmediate(r));
  assert.equal(
    done,
    streams.map((_, i) => i),
  );
  s.close();
});

test('room to write: sources wait while the queue is long, then take turns in order', async () => {
  let full = false;
  const s = new SmuxSession({ role: 'client', write: () => !full });
  const a = s.openStream();
  const b = s.openStream();
  const c = s.openStream();
  assert.ok(a.hasRoomToWrite());
  full = true;
  a.write(Buffer.alloc(10)); // the sink takes this frame and says it is full
  a.write(Buffer.alloc(ROOM_THRESHOLD)); // queued: the session's queue is full
  assert.not.ok(a.hasRoomToWrite(), 'no room while the queue is long');
  const turns: string[] = [];
  // Each source writes a queue's worth when it gets its turn, so the next one waits for more room.
  const source = (name: string, st: SmuxStream) => () => {
    turns.push(name);
    st.write(Buffer.alloc(ROOM_THRESHOLD));
  };
  b.onRoomToWrite(source('b', b));
  c.onRoomToWrite(source('c', c));
  a.onRoomToWrite(source('a', a));
  await new Promise((r) => setImmediate(r));
  assert.equal(turns, [], 'never called while there is no room');
  full = false;
  s.notifyWritable();
  assert.equal(turns, ['b', 'c', 'a'], 'oldest first, each once the one before went out');
  // Called back asynchronously even when there is room at once.
  let called = false;
  a.onRoomToWrite(() => (called = true));
  assert.not.ok(called);
  await Promise.resolve();
  assert.ok(called);
  // A closed session drops its waiters (and fails the write still queued).
  a.on('error', () => undefined);
  full = true;
  a.write(Buffer.alloc(10));
  a.write(Buffer.alloc(ROOM_THRESHOLD));
  let late = false;
  b.onRoomToWrite(() => (late = true));
  s.close();
  await new Promise((r) => setImmediate(r));
  assert.not.ok(late);
  assert.not.ok(b.hasRoomToWrite());
});

test('fair turns: streams send one frame each in turn, so a small write is not stuck behind a bulk one', () => {
  let full = false;
  const sent: number[] = [];
  const s = new SmuxSession({
    role: 'client',
    maxFrameSize: 1016,
    write: () => !full,
    writeFrame: (h) => {
      if (h[1] === SmuxCmd.PSH) sent.push(h.readUInt32LE(4));
      return !full;
    },
  });
  const bulk = s.openStream();
  const small = s.openStream();
  const other = s.openStream();
  full = true;
  bulk.write(Buffer.alloc(10)); // the sink takes it and says it is full
  bulk.write(Buffer.alloc(20 * 1016));
  small.write(Buffer.alloc(100));
  sent.length = 0;
  full = false;
  s.notifyWritable();
  assert.is(sent.length, 21);
  assert.equal(sent.slice(0, 3), [bulk.id, small.id, bulk.id], 'the small write goes second, not 21st');
  // Two busy streams alternate frame by frame.
  full = true;
  bulk.write(Buffer.alloc(10));
  bulk.write(Buffer.alloc(3 * 1016));
  other.write(Buffer.alloc(3 * 1016));
  sent.length = 0;
  full = false;
  s.notifyWritable();
  assert.equal(sent, [bulk.id, other.id, bulk.id, other.id, bulk.id, other.id]);
  s.close();
});

test('room per stream: a stream with its share queued waits for its turn, a quiet one has room at once', () => {
  let full = false;
  const s = new SmuxSession({ role: 'client', write: () => !full });
  const bulk = s.openStream();
  const quiet = s.openStream();
  // Closed at the end with data queued: their writes fail.
  bulk.on('error', () => undefined);
  quiet.on('error', () => undefined);
  full = true;
  bulk.write(Buffer.alloc(10)); // the sink takes it and says it is full
  assert.ok(bulk.hasRoomToWrite(), 'room does not wait for the sink: the turns are taken here');
  bulk.write(Buffer.alloc(STREAM_ROOM));
  assert.not.ok(bulk.hasRoomToWrite(), 'its share is queued');
  assert.ok(quiet.hasRoomToWrite(), 'a quiet stream of the same session');
  quiet.write(Buffer.alloc(ROOM_THRESHOLD));
  assert.not.ok(s.openStream().hasRoomToWrite(), "the session's queue is bounded");
  s.close();
});

test.run();
