// Example plugin (onError): a team's own retry strategy. During office hours, throttling is retried after a
// fixed wait (default 5 s, longer only when AWS sends a longer Retry-After) instead of the built-in 30 s; outside office hours and on weekends, network and
// throttling failures are never retried (nobody is there to watch a tunnel flap). Everything else, and
// throttling past `maxAttempts`, it passes (returns undefined) to the next strategy: the built-in retry
// plugin, which taps at stage 100 and so always runs after this one.
//
//   plugins: [...builtinPlugins(), officeHoursRetry({ timeZone: 'Europe/Berlin', hours: [8, 19] })]
import { z } from 'zod';
import {
  parsePluginOptions,
  type ErrorInfo,
  type RecoveryDecision,
  type StormtunnelPlugin,
} from 'stormtunnel';

export const NAME = 'office-hours-retry';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

const optionsSchema = z
  .strictObject({
    /** Seconds to wait after throttling, during office hours. */
    throttleDelaySeconds: z.number().min(0).max(600).default(5),
    /** Throttling retries before passing to the next strategy (default: settings.retry.maxAttempts). */
    maxAttempts: z.number().int().min(1).max(50).optional(),
    /** Office hours, [from, to) in whole hours of `timeZone`. */
    hours: z.tuple([z.number().int().min(0).max(23), z.number().int().min(1).max(24)]).default([8, 18]),
    /** Working days. */
    days: z.array(z.enum(DAYS)).min(1).default(['mon', 'tue', 'wed', 'thu', 'fri']),
    /** An IANA time zone, e.g. "Europe/Berlin". */
    timeZone: z
      .string()
      .default('UTC')
      .refine((tz) => validTimeZone(tz), { message: 'expected an IANA time zone like "Europe/Berlin"' }),
  })
  .refine((o) => o.hours[0] < o.hours[1], { message: 'the start must be before the end', path: ['hours'] });

export type OfficeHoursRetryOptions = z.input<typeof optionsSchema>;

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Whether `time` (ms since the epoch) falls in the office hours of `opts`. */
export function inOfficeHours(
  time: number,
  opts: { hours: readonly [number, number]; days: readonly string[]; timeZone: string },
): boolean {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: opts.timeZone,
    weekday: 'short',
    hour: 'numeric',
    hourCycle: 'h23',
  }).formatToParts(time);
  const day = parts.find((p) => p.type === 'weekday')?.value.toLowerCase() ?? '';
  const hour = Number(parts.find((p) => p.type === 'hour')?.value);
  return opts.days.includes(day) && hour >= opts.hours[0] && hour < opts.hours[1];
}

export function officeHoursRetry(options?: OfficeHoursRetryOptions): StormtunnelPlugin {
  const opts = parsePluginOptions(NAME, optionsSchema, options);
  return {
    name: NAME,
    apply(api) {
      const maxAttempts = opts.maxAttempts ?? api.settings.retry.maxAttempts;
      api.hooks.onError.tap((info: ErrorInfo): RecoveryDecision | undefined => {
        const c = info.classification;
        if (c.class !== 'network' && c.class !== 'throttled') return undefined;
        if (!inOfficeHours(api.clock.now(), opts)) {
          return {
            action: 'fail',
            reason: 'outside office hours: not retried',
            message: `${c.title}: ${c.detail} (not retried outside office hours)`,
            guidance: `${c.next}; run the command again when you are ready`,
          };
        }
        if (c.class === 'throttled' && info.attempt < maxAttempts) {
          // The fixed wait, or longer when AWS asked for longer (Retry-After).
          const afterMs = Math.max(opts.throttleDelaySeconds * 1000, c.retryAfterMs ?? 0);
          return { action: 'retry', afterMs, reason: 'throttled: team fixed delay' };
        }
        return undefined; // network failures, or too many attempts: the built-in strategy decides
      });
    },
  };
}
