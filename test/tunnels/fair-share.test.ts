// Fair sharing inside one session, against the emulator's realistic agent (1024 bytes per message, ~1 MB/s
// per session, protocol §8-§9): a small request answered while a bulk download runs on the same session
// comes back after a few frames of the download, not after the download's queued megabyte.
import { connect, type Socket } from 'node:net';
import * as assert from 'uvu/assert';
import {
  localPort,
  serveTcp,
  startAll,
  tunnel,
  tunnelSuite,
  waitFor,
  withTimeout,
  world,
  type TcpServer,
} from './helpers.js';

const { test } = tunnelSuite('fair sharing of a session');

const BULK = 2 * 1024 * 1024;

/** "BULK n\n" answers n bytes (with backpressure); "PING\n" answers "PONG\n". */
function bulkOrPing(): Promise<TcpServer> {
  return serveTcp((s) => {
    let line = '';
    s.on('data', (d: Buffer) => {
      line += d.toString('latin1');
      if (!line.includes('\n')) return;
      if (line.startsWith('PING')) {
        s.write('PONG\n');
        return;
      }
      let left = Number(line.slice(5, line.indexOf('\n')));
      const chunk = Buffer.alloc(64 * 1024, 7);
      const pump = () => {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!s.write(chunk.subarray(0, n))) {
            s.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
  });
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.setNoDelay(true);
    s.once('error', reject);
  });
}

test('a small request during a bulk download on the same session is answered after a few frames of it', async () => {
  const target = await bulkOrPing();
  try {
    const w = await world([tunnel('db', target.port, { maxSessions: 1 })]);
    const set = await startAll(w);
    const port = localPort(set, 'db');
    const bulk = await open(port);
    let got = 0;
    bulk.on('data', (d: Buffer) => (got += d.length));
    bulk.write(`BULK ${BULK}\n`);
    // Well under way: every queue between the target and us is as full as it gets.
    await waitFor(() => got >= 384 * 1024, 30_000, 'the download under way');
    const small = await open(port);
    const answered = new Promise<number>((resolve) => {
      let reply = '';
      small.on('data', (d: Buffer) => {
        reply += d.toString('latin1');
        if (reply.includes('PONG\n')) resolve(got);
      });
    });
    const before = got;
    small.write('PING\n');
    const after = await withTimeout(answered, 30_000, 'the small answer');
    small.destroy();
    assert.ok(after < BULK, 'answered while the download still ran');
    // One frame in the agent's pipe, the download's turn in smux, what is on the wire: well under 256 KiB.
    // A first-come queue put the download's queued megabyte ahead of the answer.
    assert.ok(after - before < 256 * 1024, `${after - before} bytes of the download arrived first`);
    await waitFor(
      () => got === BULK,
      60_000,
      () => `the whole download (${got}/${BULK})`,
    );
    bulk.destroy();
  } finally {
    await target.close();
  }
});

test.run();
