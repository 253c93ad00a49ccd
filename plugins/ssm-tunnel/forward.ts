// Joins a local TCP connection to a tunnel stream, both ways, with backpressure and byte counters.
// The protocol has no half-close: when either side ends, the other is ended (after its pending writes).
import type { Socket } from 'node:net';
import type { TunnelStream } from '../../src/plugin-kit/index.js';

export interface ByteCounters {
  bytesIn: number;
  bytesOut: number;
}

/** Told of every chunk forwarded (the process's garbage pacer). */
export interface TrafficObserver {
  note(bytes: number): void;
}

/** Resolves when both sides are closed; `onError` hears the first failure of either side. */
export function forward(
  socket: Socket,
  stream: TunnelStream,
  counters: ByteCounters,
  onError: (err: Error, side: 'local' | 'tunnel') => void,
  traffic?: TrafficObserver,
): Promise<void> {
  let failed = false;
  const fail = (err: Error, side: 'local' | 'tunnel'): void => {
    if (!failed) {
      failed = true;
      onError(err, side);
    }
  };

  // Local -> tunnel in paused mode: a chunk is read only when the stream can send it at once, so a busy
  // tunnel leaves data in the kernel (Node holds at most one read-ahead chunk per socket).
  let waitingForRoom = false;
  const pull = (): void => {
    while (!stream.writableNeedDrain && !stream.destroyed) {
      if (stream.hasRoomToWrite && stream.onRoomToWrite && !stream.hasRoomToWrite()) {
        if (!waitingForRoom) {
          waitingForRoom = true;
          stream.onRoomToWrite(() => {
            waitingForRoom = false;
            pull();
          });
        }
        return;
      }
      const chunk = socket.read() as Buffer | null;
      if (chunk === null) return;
      counters.bytesOut += chunk.length;
      traffic?.note(chunk.length);
      stream.write(chunk);
    }
  };
  socket.on('readable', pull);
  stream.on('drain', pull);
  stream.on('data', (chunk: Buffer) => {
    counters.bytesIn += chunk.length;
    traffic?.note(chunk.length);
    if (!socket.write(chunk)) stream.pause();
  });
  socket.on('drain', () => stream.resume());

  // Ending flushes what was written first; destroying (on errors) does not, on purpose.
  socket.on('end', () => stream.end());
  stream.on('end', () => socket.end());
  socket.on('error', (err) => {
    fail(err, 'local');
    stream.destroy();
  });
  stream.on('error', (err) => {
    fail(err, 'tunnel');
    reset(socket);
  });

  const socketClosed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      // Gone without an end (reset): the tunnel side has nothing left to deliver.
      if (!stream.writableEnded) stream.destroy();
      resolve();
    }),
  );
  let streamEnded = false;
  stream.once('end', () => (streamEnded = true));
  const streamClosed = new Promise<void>((resolve) =>
    stream.once('close', () => {
      if (!streamEnded) {
        // Cut without an end (session lost or terminated, target refused): the client must see a reset,
        // never a clean end that passes truncated data off as complete.
        reset(socket);
      } else {
        // Ended cleanly: flush what we wrote, and keep reading (into nowhere) so a client still writing can
        // finish and close; bounded in case it never does.
        socket.removeAllListeners('readable');
        socket.removeAllListeners('data');
        socket.resume();
        socket.setTimeout(10_000, () => socket.destroy());
      }
      resolve();
    }),
  );
  return Promise.all([socketClosed, streamClosed]).then(() => undefined);
}

/**
 * Ends a local connection with RST. A plain destroy() sends FIN unless unread data happens to be in the
 * receive buffer, so the same failure looked clean or reset at random.
 */
function reset(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.readyState === 'opening' || typeof socket.resetAndDestroy !== 'function') socket.destroy();
  else socket.resetAndDestroy();
}
