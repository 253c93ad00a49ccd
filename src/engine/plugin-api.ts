// The narrow API each plugin gets in apply(): tap-only hooks under its own name, a logger bound to it, the
// clock, the abort signal, services and a few engine calls. Never the engine object itself.
import type { Classification } from './classify.js';
import type { EngineHooks, HookName, TapOnlyHook, TapOnlyHooks } from './hooks.js';
import type { PluginApi, StormtunnelPlugin, TunnelConfig } from './plugin.js';
import { runWithRecovery } from './recovery.js';
import type { Scheduler } from './scheduler.js';
import type { ServiceRegistry } from './service-registry.js';
import type {
  Clock,
  CredentialRequest,
  Credentials,
  ErrorReport,
  Logger,
  RecoveryDecision,
  Settings,
} from './types.js';

/** What a plugin's API is built from: the engine's parts, never the engine. */
export interface PluginApiDeps {
  hooks: EngineHooks;
  logger: Logger;
  clock: Clock;
  signal: AbortSignal;
  settings: Readonly<Settings>;
  tunnels: readonly TunnelConfig[];
  services: ServiceRegistry;
  scheduler: Scheduler;
  resolveCredentials(request: CredentialRequest): Promise<Credentials>;
  handleError(report: ErrorReport): Promise<{ decision: RecoveryDecision; classification: Classification }>;
}

export function createPluginApi(plugin: StormtunnelPlugin, deps: PluginApiDeps): PluginApi {
  const { hooks, clock, signal } = deps;
  const logger = deps.logger.child({ plugin: plugin.name });
  return {
    name: plugin.name,
    hooks: tapOnly(hooks, plugin.name),
    logger,
    clock,
    signal,
    settings: deps.settings,
    tunnels: deps.tunnels,
    get services() {
      return deps.services.services;
    },
    provide: (service, implementation) => deps.services.provide(plugin.name, service, implementation),
    every: (intervalMs, task) => deps.scheduler.every(intervalMs, task, logger),
    resolveCredentials: (request) => deps.resolveCredentials(request),
    mfaCode: (request) => hooks.mfaCode.promise(request),
    reportError: async (info) => (await deps.handleError({ ...info, plugin: plugin.name })).decision,
    recover: (operation, fn) =>
      runWithRecovery(
        { handleError: (r) => deps.handleError(r), clock, signal, logger, plugin: plugin.name },
        operation,
        fn,
      ),
    emit: {
      tokenExpiring: (n) => hooks.onTokenExpiring.promise(n),
      reauthRequired: (n) => hooks.onReauthRequired.promise(n),
      tokenChanged: (e) => hooks.onTokenChanged.promise(e),
      tunnelState: (c) => hooks.onTunnelState.promise(c),
    },
  };
}

/** Each hook as a plugin sees it: tap and tapPromise under the plugin's name, no way to call it. */
export function tapOnly(hooks: EngineHooks, pluginName: string): TapOnlyHooks {
  const view = {} as Record<HookName, TapOnlyHook<unknown>>;
  for (const name of Object.keys(hooks) as HookName[]) {
    const hook = hooks[name] as unknown as {
      tap(o: object, fn: unknown): void;
      tapPromise(o: object, fn: unknown): void;
    };
    view[name] = Object.freeze({
      tap: (fn: unknown, opts?: object) => hook.tap({ ...opts, name: pluginName }, fn),
      tapPromise: (fn: unknown, opts?: object) => hook.tapPromise({ ...opts, name: pluginName }, fn),
    });
  }
  return Object.freeze(view);
}
