// Driving fake time while real I/O (HTTP to the emulator) is in flight: advance in steps and give the
// event loop a little real time between them, until the promise settles.
import type { FakeClock } from '../../src/engine/clock.js';

export async function advanceUntil<T>(
  clock: FakeClock,
  promise: Promise<T>,
  stepMs = 1000,
  maxSteps = 600,
): Promise<T> {
  let settled = false;
  const tracked = promise.finally(() => (settled = true));
  tracked.catch(() => undefined);
  for (let i = 0; i < maxSteps && !settled; i++) {
    await clock.advance(stepMs);
    await new Promise((r) => setTimeout(r, 5));
  }
  if (!settled) throw new Error(`did not settle within ${maxSteps} fake steps of ${stepMs} ms`);
  return tracked;
}
