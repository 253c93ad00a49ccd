// The engine's clock as the data channel's timer API, so the data channel runs on the engine's time (a
// FakeClock drives its pings, resends and pacing in tests) like every other timer of a tunnel.
import type { Clock, TimerHandle, TimerApi } from '../../src/plugin-kit/index.js';

interface Repeating {
  current: TimerHandle | undefined;
  stopped: boolean;
}

export function clockTimers(clock: Clock): TimerApi {
  return {
    now: () => clock.now(),
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
    clearTimeout: (handle) => {
      if (handle !== undefined) clock.clearTimeout(handle as TimerHandle);
    },
    setInterval(fn, ms) {
      const r: Repeating = { current: undefined, stopped: false };
      const arm = (): void => {
        r.current = clock.setTimeout(() => {
          if (r.stopped) return;
          arm();
          fn();
        }, ms);
      };
      arm();
      return r;
    },
    clearInterval(handle) {
      const r = handle as Repeating | undefined;
      if (!r) return;
      r.stopped = true;
      if (r.current) clock.clearTimeout(r.current);
    },
  };
}
