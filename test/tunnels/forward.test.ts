// forward(): a local connection joined to a tunnel stream. The local side is read only when the stream
// has room, so a busy tunnel leaves the data in the kernel instead of in memory.
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { forward } from '../../plugins/ssm-tunnel/forward.js';
import { serveTcp } from '../helpers/tcp.js';
import { waitFor } from '../helpers/wait.js';

/** A tunnel stream that keeps what is written and offers room only when the test says so. */
class GatedStream extends Duplex {
  readonly received: Buffer[] = [];
  room = false;
  private waiters: (() => void)[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.received.push(chunk);
    cb();
  }
  override _read(): void {}
  // Like a tunnel stream: no half-close, ending our side ends both.
  override _final(cb: () => void): void {
    this.push(null);
    cb();
  }
  hasRoomToWrite(): boolean {
    return this.room;
  }
  onRoomToWrite(cb: () => void): void {
    this.waiters.push(cb);
  }
  open(): void {
    this.room = true;
    for (const cb of this.waiters.splice(0)) setImmediate(cb);
  }
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('local data waits in the kernel while the stream has no room, then arrives whole and in order', async () => {
  let accepted: Socket | undefined;
  const server = await serveTcp((s) => (accepted = s));
  const client = connect(server.port, '127.0.0.1');
  await waitFor(() => accepted !== undefined, 5000, 'connection accepted');
  const local = accepted!;
  const stream = new GatedStream();
  const counters = { bytesIn: 0, bytesOut: 0 };
  let noted = 0;
  const done = forward(local, stream, counters, () => undefined, { note: (n) => (noted += n) });

  const payload = randomBytes(4 * 1024 * 1024);
  client.write(payload);
  await new Promise((r) => setTimeout(r, 200));
  assert.is(stream.received.length, 0, 'nothing written to a stream without room');
  // Node reads ahead at most one chunk (64 KiB) into the paused socket; the rest stays in the kernel.
  assert.ok(local.bytesRead <= 128 * 1024, `read ahead ${local.bytesRead} bytes`);

  stream.open();
  await waitFor(() => counters.bytesOut === payload.length, 5000, 'all bytes forwarded');
  assert.is(sha(Buffer.concat(stream.received)), sha(payload));
  // The traffic observer (the garbage pacer) hears every byte, and the tunnel's answer too.
  const answer = Buffer.from('pong');
  const echoed = new Promise<Buffer>((r) => client.once('data', r));
  stream.push(answer);
  assert.is((await echoed).toString(), 'pong');
  assert.is(noted, payload.length + answer.length);

  client.destroy();
  await done;
  await server.close();
});

test('a stream without the room API is fed as fast as it takes data', async () => {
  let accepted: Socket | undefined;
  const server = await serveTcp((s) => (accepted = s));
  const client = connect(server.port, '127.0.0.1');
  await waitFor(() => accepted !== undefined, 5000, 'connection accepted');
  const received: Buffer[] = [];
  const stream = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      received.push(chunk);
      setImmediate(cb);
    },
    read() {},
    final(cb) {
      this.push(null);
      cb();
    },
  });
  const counters = { bytesIn: 0, bytesOut: 0 };
  const done = forward(accepted!, stream, counters, () => undefined);
  const payload = randomBytes(1024 * 1024);
  client.write(payload);
  await waitFor(() => counters.bytesOut === payload.length, 5000, 'all bytes forwarded');
  assert.is(sha(Buffer.concat(received)), sha(payload));
  client.destroy();
  await done;
  await server.close();
});

test.run();
