// The narrow API each plugin gets in apply(): tap-only hooks under its own name, a logger bound to it, the
// clock, the abort signal, services and a few engine calls. Never the engine object itself.
import type { Classification } from './classify.js';
import type { EngineHooks, HookName, TapOnlyHook, TapOnlyHooks } from './hooks.js';
import type { PluginApi, StormtunnelPlugin, TunnelConfig } from './plugin.js';
import { exitGuard } from './exit-guard.js';
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
    finishBeforeExit: (what, fn) => exitGuard.run(what, fn),
    emit: {
      tokenExpiring: (n) => hooks.onTokenExpiring.promise(n),
      reauthRequired: (n) => hooks.onReauthRequired.promise(n),
      tokenChanged: (e) => hooks.onTokenChanged.promise(e),
      tunnelState: (c) => hooks.onTunnelState.promise(c),
    },
  };
}

/** The parts of a tapable hook the tap-only view uses (`_resetCompilation` is tapable's own, see `untap`). */
interface TappableHook {
  taps: object[];
  tap(options: object, fn: unknown): void;
  tapPromise(options: object, fn: unknown): void;
  _resetCompilation(): void;
}

/** Each hook as a plugin sees it: tap and tapPromise under the plugin's name, no way to call it. */
export function tapOnly(hooks: EngineHooks, pluginName: string): TapOnlyHooks {
  const view = {} as Record<HookName, TapOnlyHook<unknown>>;
  for (const name of Object.keys(hooks) as HookName[]) {
    const hook = hooks[name] as unknown as TappableHook;
    const register = (method: 'tap' | 'tapPromise') => (fn: unknown, opts?: object) => {
      const before = new Set(hook.taps);
      hook[method]({ ...opts, name: pluginName }, fn);
      // The tap as stored (interceptors may have replaced the object), so untap removes exactly this one.
      const added = hook.taps.find((t) => !before.has(t));
      return () => untap(hook, added);
    };
    view[name] = Object.freeze({ tap: register('tap'), tapPromise: register('tapPromise') });
  }
  return Object.freeze(view);
}

/**
 * tapable has no untap: the tap leaves the list, and the hook's compiled call (which captured the list) is
 * dropped so the next call compiles without it.
 */
function untap(hook: TappableHook, tap: object | undefined): void {
  const i = tap ? hook.taps.indexOf(tap) : -1;
  if (i < 0) return;
  hook.taps.splice(i, 1);
  hook._resetCompilation();
}
