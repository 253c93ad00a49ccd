// The plugins a config gets when it does not list `plugins`. Each built-in plugin is added here as it lands.
import { retry } from '../plugins/retry/index.js';
import type { StormtunnelPlugin } from './engine/plugin.js';

export function builtinPlugins(): StormtunnelPlugin[] {
  return [retry()];
}
