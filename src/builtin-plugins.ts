// The plugins a config gets when it does not list `plugins`. Each built-in plugin is added here as it lands.
import { assumeRole } from '../plugins/assume-role/index.js';
import { keychain } from '../plugins/keychain/index.js';
import { notify } from '../plugins/notify/index.js';
import { profileCredentials } from '../plugins/profile-credentials/index.js';
import { retry } from '../plugins/retry/index.js';
import { sso, type SsoOptions } from '../plugins/sso/index.js';
import { ssmTunnel } from '../plugins/ssm-tunnel/index.js';
import { targets } from '../plugins/targets/index.js';
import type { StormtunnelPlugin } from './engine/plugin.js';

export interface BuiltinOptions {
  sso?: SsoOptions;
}

export function builtinPlugins(options: BuiltinOptions = {}): StormtunnelPlugin[] {
  // Order matters for resolveCredentials: each answers only for its own profile types.
  return [
    profileCredentials(),
    sso(options.sso),
    assumeRole(),
    keychain(),
    notify(),
    retry(),
    targets(),
    ssmTunnel(),
  ];
}
