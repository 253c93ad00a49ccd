// A config reload of a running `up`: the file is loaded again as at startup (same validation, same one-line
// errors); only when it is valid are the tunnels changed. Settings and plugins are part of the engine every
// tunnel runs on, so they apply at the next start, and the log says so.
import { builtinPlugins } from '../builtin-plugins.js';
import type { CliContext } from '../cli/context.js';
import { loadConfig } from '../config/load.js';
import type { ResolvedConfig } from '../config/types.js';
import { reportOf } from '../engine/classify.js';
import { UsageError } from '../engine/errors.js';
import { redactString } from '../log/redact.js';
import type { ReloadChanges, TunnelManager } from './tunnel-manager.js';

export async function reloadConfig(opts: {
  ctx: CliContext;
  file: string | undefined;
  tunnels: TunnelManager;
  settings: ResolvedConfig['settings'];
}): Promise<ReloadChanges> {
  if (!opts.file)
    throw new UsageError('nothing to reload: this stormtunnel up runs without a config file', {
      hint: 'create stormtunnel.config.ts and start it again',
    });
  const config = await loadConfig({ file: opts.file, cwd: opts.ctx.io.cwd, builtins: builtinPlugins });
  if (JSON.stringify(config.settings) !== JSON.stringify(opts.settings))
    opts.ctx.logger.warn('config reload: changed settings apply at the next start (stormtunnel restart)');
  return opts.tunnels.reload(config.tunnels);
}

/** The words every command prints for this failure (message and hint, secrets redacted). */
export function describeError(err: unknown): { message: string; hint?: string } {
  const r = reportOf(err);
  return { message: redactString(r.message), ...(r.hint ? { hint: redactString(r.hint) } : {}) };
}
