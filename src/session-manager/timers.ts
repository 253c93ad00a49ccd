// Real clock/timers behind the injectable TimerApi. Timers are unref'd: sockets, not protocol timers,
// decide whether the process stays alive.
import type { TimerApi } from './types.js';

export const realTimers: TimerApi = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    t.unref();
    return t;
  },
  clearInterval(handle) {
    clearInterval(handle as NodeJS.Timeout);
  },
};
