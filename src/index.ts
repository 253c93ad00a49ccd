// The library entry point: `import { defineConfig, createEngine, ... } from 'stormtunnel'`.
export { defineConfig } from './config/define-config.js';
export { loadConfig } from './config/load.js';
export type {
  DurationInput,
  PluginEntry,
  ResolvedConfig,
  RetrySettingsInput,
  SettingsInput,
  StormtunnelConfigInput,
  TunnelInput,
} from './config/types.js';
export { createEngine, ConnectionVetoedError, NoCredentialsError } from './engine/engine.js';
export type { Engine, EngineOptions, PluginDescription } from './engine/engine.js';
export { FakeClock, systemClock } from './engine/clock.js';
export { ConfigError, NotBuiltError, PluginError, StormtunnelError, UsageError } from './engine/errors.js';
export { HOOK_KINDS } from './engine/hooks.js';
export type {
  HookKind,
  HookName,
  StartContext,
  TapOnlyHook,
  TapOnlyHooks,
  TapOptions,
} from './engine/hooks.js';
export { definePlugin, parsePluginOptions, PluginOptionsError } from './engine/plugin.js';
export type { PluginApi, StormtunnelPlugin, TunnelConfig } from './engine/plugin.js';
export type * from './engine/types.js';
export { createLogger, silentLogger } from './log/logger.js';
