// Public types of the retry plugin: the same knobs as `settings.retry`, which they override for this plugin.
import type { RetrySettingsInput, RetrySettings } from '../../src/plugin-kit/index.js';

export interface RetryOptions extends RetrySettingsInput {
  /** Random source in [0, 1), for tests. */
  random?: () => number;
}

/** The resolved policy (durations in ms). */
export type RetryPolicy = RetrySettings;
