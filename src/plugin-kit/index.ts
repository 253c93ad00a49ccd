// `stormtunnel/plugin-kit`: everything a plugin needs beyond the engine's hooks, in one public entry point.
// The built-in plugins (plugins/*) import only this file, so a team can write any of them against the
// published package; eslint.config.js enforces that. See docs/plugins.md ("The plugin kit").

// Writing a plugin: its shape, its options, the API it is given, every type its hooks pass.
export { definePlugin, parsePluginOptions, PluginOptionsError } from '../engine/plugin.js';
export type { PluginApi, StormtunnelPlugin, TunnelConfig } from '../engine/plugin.js';
export type * from '../engine/types.js';
export { HOOK_KINDS } from '../engine/hooks.js';
export type {
  HookKind,
  HookName,
  StartContext,
  TapOnlyHook,
  TapOnlyHooks,
  TapOptions,
  Unregister,
} from '../engine/hooks.js';

// Settings: options parsed like the config's own keys (durations "90s", "5m"; one-line errors).
export {
  duration,
  enabledSetting,
  retrySettingsShape,
  sessionCount,
  ssoSettingsShape,
} from '../config/schema.js';
export type { DurationInput, RetrySettingsInput } from '../config/types.js';

// Errors and their classification (the four messages users know come from classifyError's classes).
export {
  ConfigError,
  PluginError,
  StormtunnelError,
  UsageError,
  isStormtunnelError,
  rootCause,
} from '../engine/errors.js';
export { classifyError, EXIT_CODES, ERROR_TITLES, isTransient } from '../engine/classify.js';
export type { Classification, ClassifyContext, ErrorClass } from '../engine/classify.js';

// Secrets never reach a log or a message.
export { redact, redactString, REDACTED } from '../log/redact.js';

// ~/.aws read as the AWS CLI reads it, and the AWS CLI's SSO token and registration caches.
export * from '../aws/index.js';

// The Session Manager data channel (for a plugin that runs sessions).
export * from '../session-manager/index.js';

// Buffer collection shared by everything that moves data in one process.
export { sharedGarbagePacer, type GarbagePacer } from '../memory/garbage-pacer.js';
