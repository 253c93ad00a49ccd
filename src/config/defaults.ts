// Defaults from the product documents: 60 s checks, refresh 5 min early, 5 attempts within 120 s,
// jitter on, 30 s after throttling.
import type { Settings } from '../engine/types.js';

export const DEFAULT_SETTINGS: Settings = Object.freeze({
  autoRefresh: true,
  earlyRefreshThresholdMs: 5 * 60_000,
  refreshCheckIntervalMs: 60_000,
  retry: Object.freeze({
    maxAttempts: 5,
    maxRecoveryDurationMs: 120_000,
    jitter: true,
    baseDelayMs: 1000,
    maxDelayMs: 30_000,
    throttleDelayMs: 30_000,
  }),
  keychain: true,
  shareWithAwsCli: true,
  notifications: true,
});

export const DEFAULT_BIND_ADDRESS = '127.0.0.1';
