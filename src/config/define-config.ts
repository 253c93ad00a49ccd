// `export default defineConfig({...})` gives a stormtunnel.config.ts type checking and completion.
import type { StormtunnelConfigInput } from './types.js';

export function defineConfig(
  config: StormtunnelConfigInput | (() => StormtunnelConfigInput | Promise<StormtunnelConfigInput>),
): StormtunnelConfigInput | (() => StormtunnelConfigInput | Promise<StormtunnelConfigInput>) {
  return config;
}
