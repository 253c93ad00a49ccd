// The library entry point: `import { defineConfig, getCredentials, createEngine, ... } from 'stormtunnel'`.
// Scripts get credentials through the same config and plugins as the CLI (src/library/credentials.ts).
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
export { ConfigError, PluginError, StormtunnelError, UsageError } from './engine/errors.js';
export { HOOK_KINDS } from './engine/hooks.js';
export type {
  HookKind,
  HookName,
  StartContext,
  TapOnlyHook,
  TapOnlyHooks,
  TapOptions,
  Unregister,
} from './engine/hooks.js';
export { definePlugin, parsePluginOptions, PluginOptionsError } from './engine/plugin.js';
export type { PluginApi, StormtunnelPlugin, TunnelConfig } from './engine/plugin.js';
export type * from './engine/types.js';
export { createLogger, silentLogger } from './log/logger.js';
// For a host application that runs tunnels through the engine and wants `up`'s Buffer collection.
export { enableGarbagePacing, type GarbagePacerOptions } from './memory/garbage-pacer.js';
export {
  credentialProvider,
  getCredentials,
  openEngine,
  type GetCredentialsOptions,
  type OpenEngineOptions,
} from './library/credentials.js';
export { listAccountRoles, tokenForSession } from './configure/index.js';
export type { AccountRole, AccountRoles } from './configure/index.js';
// The built-in plugins, for configs that add their own: `plugins: [...builtinPlugins(), myPlugin()]`.
export { builtinPlugins, type BuiltinOptions } from './builtin-plugins.js';
export { assumeRole } from '../plugins/assume-role/index.js';
export { keychain } from '../plugins/keychain/index.js';
export { notify } from '../plugins/notify/index.js';
export { profileCredentials } from '../plugins/profile-credentials/index.js';
export { retry } from '../plugins/retry/index.js';
export { sso } from '../plugins/sso/index.js';
export { ssmTunnel } from '../plugins/ssm-tunnel/index.js';
