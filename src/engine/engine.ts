// The engine: applies plugins, owns the hooks, timers and services, and is the only caller of hooks.
import { systemClock } from './clock.js';
import { startWakeDetector } from './wake-detector.js';
import { isPluginError, PluginError, StormtunnelError } from './errors.js';
import { BAIL_HOOKS, createHooks, HOOK_KINDS, ISOLATED_HOOKS } from './hooks.js';
import type { EngineHooks, HookName, StartContext, TapOnlyHook, TapOnlyHooks } from './hooks.js';
import type { PluginApi, StormtunnelPlugin, TunnelConfig } from './plugin.js';
import { classifyError, EXIT_CODES, reportOf, type Classification } from './classify.js';
import { defaultServices } from './default-services.js';
import { runWithRecovery } from './recovery.js';
import { isInstanceId, unresolvedTargetError } from './target.js';
import { placeTunnel, selectTunnels, type TunnelDefaults } from './tunnel-selection.js';
import type {
  Clock,
  ConnectDraft,
  CredentialRequest,
  Credentials,
  ErrorReport,
  Logger,
  ProbeStep,
  RecoverableOperation,
  RecoveryDecision,
  ServiceName,
  Services,
  Settings,
  ShutdownInfo,
  SignInRequest,
  SignInResult,
  SignOutRequest,
  SsoAccessToken,
  SsoTokenRequest,
  StatusReport,
  StatusRequest,
  TunnelProbeRequest,
  TunnelSet,
  Veto,
} from './types.js';

export interface EngineOptions {
  plugins: readonly StormtunnelPlugin[];
  settings: Settings;
  tunnels?: readonly TunnelConfig[];
  logger: Logger;
  clock?: Clock;
  /**
   * Long-running engines watch for the machine waking from sleep and raise onWake (default on).
   * `monotonicNow` is a clock that stops during suspend (default performance.now); tests inject one.
   */
  wakeDetection?: false | { monotonicNow?: () => number; intervalMs?: number; thresholdMs?: number };
  /** Services given by the host (tests, the CLI); plugins' `provide` overrides these, defaults fill the rest. */
  services?: Partial<Services>;
}

export interface PluginDescription {
  name: string;
  hooks: HookName[];
  provides: ServiceName[];
}

export class NoCredentialsError extends StormtunnelError {
  constructor(readonly profile: string) {
    super(`no plugin could provide credentials for profile "${profile}"`, {
      hint: `check that profile "${profile}" exists in your AWS config (stormtunnel profiles) and that its type is supported`,
    });
  }
}

export class ConnectionVetoedError extends StormtunnelError {
  constructor(
    readonly tunnel: string,
    readonly plugin: string,
    readonly reason: string,
  ) {
    super(`tunnel "${tunnel}" was stopped by plugin "${plugin}": ${reason}`, { exitCode: 1 });
  }
}

export interface StartTunnelsOptions extends TunnelDefaults {
  /** Names to start (an unknown one is an error); undefined: every tunnel with `autostart`. */
  names?: readonly string[];
  allowSignIn: boolean;
}

export interface ProbeTunnelOptions extends TunnelDefaults {
  /** The tunnel to probe (an unknown name is an error). */
  name: string;
  /** Credentials already resolved for the tunnel's profile and region; resolved through the plugins when absent. */
  credentials?: Credentials;
  /** Why the connection is not prepared at all (e.g. the profile's credentials failed): every step is skipped. */
  skip?: string;
}

export const PORT_FORWARDING_DOCUMENT = 'AWS-StartPortForwardingSession';
export const REMOTE_HOST_DOCUMENT = 'AWS-StartPortForwardingSessionToRemoteHost';

export interface Engine {
  readonly settings: Readonly<Settings>;
  readonly tunnels: readonly TunnelConfig[];
  readonly clock: Clock;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  readonly services: Readonly<Services>;
  describePlugins(): PluginDescription[];
  start(context: StartContext): Promise<void>;
  resolveCredentials(request: CredentialRequest): Promise<Credentials>;
  /** Fills credentials, runs beforeConnect; throws ConnectionVetoedError on a veto. */
  prepareConnection(draft: ConnectDraft): Promise<ConnectDraft>;
  /** Classifies the failure, runs onError, and returns the decision (fail when no plugin decides). */
  handleError(report: ErrorReport): Promise<{ decision: RecoveryDecision; classification: Classification }>;
  /** Runs `fn` with recovery (see src/engine/recovery.ts); for commands, outside any plugin. */
  recover<T>(operation: RecoverableOperation, fn: (attempt: number) => Promise<T>): Promise<T>;
  signIn(request: SignInRequest): Promise<SignInResult>;
  signOut(request: SignOutRequest): Promise<void>;
  /** A valid SSO token for a profile or session; throws when no plugin can give one. */
  getSsoToken(request: SsoTokenRequest): Promise<SsoAccessToken>;
  collectStatus(request: StatusRequest): Promise<StatusReport>;
  /**
   * Hands the tunnels to the startTunnels hook with a `prepare` callback (credentials + beforeConnect, the
   * engine's only connection path), so plugins never build drafts themselves. Throws when no plugin runs tunnels.
   */
  startTunnels(options: StartTunnelsOptions): Promise<TunnelSet>;
  /**
   * Prepares one tunnel's connection as startTunnels does and hands it (or why it failed) to the probeTunnel
   * hook, whose plugin tests it without running it. Bad input (exit 2) is thrown, not probed. Throws when no
   * plugin probes tunnels.
   */
  probeTunnel(options: ProbeTunnelOptions): Promise<ProbeStep[]>;
  shutdown(info: ShutdownInfo): Promise<void>;
}

/** Collects failures of isolated taps during one call, keyed by the call's argument object. */
const collected = new WeakMap<object, PluginError[]>();

export async function createEngine(options: EngineOptions): Promise<Engine> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger;
  const settings = Object.freeze({ ...options.settings });
  const tunnels = Object.freeze([...(options.tunnels ?? [])]);
  const controller = new AbortController();
  const hooks = createHooks();
  const provided: Partial<Services> = {};
  const providedBy = new Map<ServiceName, string>();
  const cancelTimers = new Set<() => void>();
  let services: Services | undefined;

  const seen = new Set<string>();
  for (const plugin of options.plugins) {
    if (seen.has(plugin.name)) {
      throw new StormtunnelError(`two plugins are named "${plugin.name}"`, {
        exitCode: 2,
        hint: 'each plugin needs a unique name: remove the duplicate from `plugins` in your stormtunnel config',
      });
    }
    seen.add(plugin.name);
  }

  for (const name of Object.keys(hooks) as HookName[]) interceptHook(name, hooks[name], logger);

  const getServices = (): Services => {
    services ??= { ...defaultServices(logger), ...options.services, ...provided };
    return services;
  };

  const engine: Engine = {
    settings,
    tunnels,
    clock,
    logger,
    signal: controller.signal,
    get services() {
      return getServices();
    },

    describePlugins() {
      return options.plugins.map((p) => ({
        name: p.name,
        hooks: (Object.keys(hooks) as HookName[]).filter((h) => hooks[h].taps.some((t) => t.name === p.name)),
        provides: [...providedBy].filter(([, by]) => by === p.name).map(([s]) => s),
      }));
    },

    async start(context) {
      await hooks.onStart.promise(context);
      if (context.longRunning && options.wakeDetection !== false) {
        const stop = startWakeDetector({
          clock,
          ...options.wakeDetection,
          onWake: (event) => {
            logger.info(
              `woke after about ${Math.round(event.awayMs / 1000)} s away: checking sign-ins and tunnels`,
              {
                detectedBy: event.detectedBy,
              },
            );
            void hooks.onWake.promise(event);
          },
        });
        cancelTimers.add(stop);
      }
    },

    async resolveCredentials(request) {
      const creds = await hooks.resolveCredentials.promise(request);
      if (!creds) throw new NoCredentialsError(request.profile);
      return creds;
    },

    async prepareConnection(draft) {
      draft.credentials ??= await engine.resolveCredentials({
        profile: draft.profile,
        region: draft.region,
        purpose: { kind: 'tunnel', tunnel: draft.tunnel },
        chain: [],
      });
      const veto = await hooks.beforeConnect.promise(draft);
      if (veto) throw new ConnectionVetoedError(draft.tunnel, vetoPlugin.get(veto) ?? 'unknown', veto.reason);
      // Before Session Manager sees it: it would answer a tag selector with a misleading "not connected".
      if (!isInstanceId(draft.target)) throw unresolvedTargetError(draft.tunnel, draft.target);
      return draft;
    },

    async handleError(report) {
      const { action, ...rest } = report;
      const classification = classifyError(report.error, {
        operation: report.operation,
        profile: report.profile,
        ssoSession: report.ssoSession,
        action,
      });
      const decision = (await hooks.onError.promise({ ...rest, classification })) ?? {
        action: 'fail' as const,
        reason: 'no plugin offered a recovery',
      };
      return { decision, classification };
    },

    recover(operation, fn) {
      return runWithRecovery(
        {
          handleError: (r) => engine.handleError(r),
          clock,
          signal: controller.signal,
          logger,
          plugin: undefined,
        },
        operation,
        fn,
      );
    },

    async signIn(request) {
      const result = await hooks.signIn.promise(request);
      if (!result) {
        const what = request.ssoSession
          ? `SSO session "${request.ssoSession}"`
          : `profile "${request.profile ?? 'default'}"`;
        throw new StormtunnelError(`no plugin can sign in to ${what}`, {
          exitCode: 2,
          hint: 'sign-in needs an SSO profile (sso_session or sso_start_url) and the sso plugin',
        });
      }
      return result;
    },

    async getSsoToken(request) {
      const token = await hooks.getSsoToken.promise(request);
      if (!token) {
        const what = request.ssoSession
          ? `SSO session "${request.ssoSession}"`
          : `profile "${request.profile ?? 'default'}"`;
        throw new StormtunnelError(`${what} is not an SSO profile or session`, {
          exitCode: 2,
          hint: 'pass --profile with an SSO profile or --sso-session with a session from your AWS config (stormtunnel profiles)',
        });
      }
      return token;
    },

    async signOut(request) {
      const req = { ...request };
      collected.set(req, []);
      await hooks.signOut.promise(req);
      const failures = collected.get(req) ?? [];
      if (failures.length) {
        throw new StormtunnelError(`sign-out was incomplete: ${failures.map((f) => f.message).join('; ')}`);
      }
    },

    async collectStatus(request) {
      return hooks.collectStatus.promise({ request, entries: [] });
    },

    async startTunnels(opts) {
      const selected = opts.names ? selectTunnels(tunnels, opts.names) : tunnels.filter((t) => t.autostart);
      const prepare = async (name: string, o: { forceRefresh?: boolean; allowSignIn?: boolean } = {}) => {
        const [t] = selectTunnels(tunnels, [name]);
        const { profile, region } = await placeTunnel(t!, opts);
        const credentials = await engine.resolveCredentials({
          profile,
          region,
          purpose: { kind: 'tunnel', tunnel: name },
          chain: [],
          allowSignIn: o.allowSignIn ?? false,
          ...(o.forceRefresh ? { forceRefresh: true } : {}),
        });
        return engine.prepareConnection(connectDraft(t!, profile, region, credentials));
      };
      const set = await hooks.startTunnels.promise({
        tunnels: selected,
        allowSignIn: opts.allowSignIn,
        prepare,
      });
      if (!set) {
        throw new StormtunnelError('no plugin runs tunnels', {
          exitCode: 2,
          hint: "keep the built-in plugins in `plugins` (`import { builtinPlugins } from 'stormtunnel'`, then `plugins: [...builtinPlugins(), yours()]`), or remove `plugins` for the built-in set",
        });
      }
      return set;
    },

    async probeTunnel(opts) {
      const [t] = selectTunnels(tunnels, [opts.name]);
      const { profile, region } = await placeTunnel(t!, opts);
      let connection: TunnelProbeRequest['connection'];
      if (opts.skip !== undefined) connection = { skipped: opts.skip };
      else
        try {
          connection = {
            draft: await engine.prepareConnection(connectDraft(t!, profile, region, opts.credentials)),
          };
        } catch (err) {
          // Invalid input (a target nothing resolves) is the user's to fix, as in `up`: not a probe result.
          if (reportOf(err).exitCode === EXIT_CODES.usage) throw err;
          connection = { error: err };
        }
      const steps = await hooks.probeTunnel.promise({ tunnel: t!, connection });
      if (!steps) {
        throw new StormtunnelError('no plugin can check tunnels', {
          exitCode: 2,
          hint: "keep the built-in plugins in `plugins` (`import { builtinPlugins } from 'stormtunnel'`, then `plugins: [...builtinPlugins(), yours()]`), or remove `plugins` for the built-in set",
        });
      }
      return steps;
    },

    async shutdown(info) {
      if (controller.signal.aborted) return;
      for (const cancel of cancelTimers) cancel();
      cancelTimers.clear();
      controller.abort(new StormtunnelError('stormtunnel is shutting down'));
      await hooks.onShutdown.promise(info);
    },
  };

  // Which plugin vetoed: recorded by the beforeConnect interceptor.
  const vetoPlugin = new WeakMap<Veto, string>();
  hooks.beforeConnect.intercept({
    register(tap) {
      const fn = tap.fn as (draft: ConnectDraft) => Promise<Veto | undefined> | Veto | undefined;
      const record = (v: Veto | undefined) => {
        if (v) vetoPlugin.set(v, tap.name);
        return v;
      };
      tap.fn =
        tap.type === 'sync'
          ? (d: ConnectDraft) => record(fn(d) as Veto | undefined)
          : async (d: ConnectDraft) => record(await fn(d));
      return tap;
    },
  });

  for (const plugin of options.plugins) {
    const pluginLogger = logger.child({ plugin: plugin.name });
    const api: PluginApi = {
      name: plugin.name,
      hooks: tapOnly(hooks, plugin.name),
      logger: pluginLogger,
      clock,
      signal: controller.signal,
      settings,
      tunnels,
      get services() {
        return getServices();
      },
      provide(service, implementation) {
        if (services)
          throw new PluginError(
            plugin.name,
            'provide',
            new Error(`"${service}" must be provided during apply()`),
          );
        const other = providedBy.get(service);
        if (other) {
          throw new PluginError(
            plugin.name,
            'provide',
            new Error(`"${service}" is already provided by plugin "${other}"`),
          );
        }
        provided[service] = implementation as never;
        providedBy.set(service, plugin.name);
      },
      every(intervalMs, task) {
        let handle: ReturnType<Clock['setTimeout']> | undefined;
        let running = false;
        let stopped = false;
        const tick = () => {
          if (stopped) return;
          if (!running) {
            running = true;
            task()
              .catch((err: unknown) => pluginLogger.error('scheduled task failed', { err }))
              .finally(() => (running = false));
          }
          handle = clock.setTimeout(tick, intervalMs);
        };
        handle = clock.setTimeout(tick, intervalMs);
        const cancel = () => {
          stopped = true;
          if (handle) clock.clearTimeout(handle);
          cancelTimers.delete(cancel);
        };
        cancelTimers.add(cancel);
        return cancel;
      },
      resolveCredentials: (request) => engine.resolveCredentials(request),
      mfaCode: (request) => hooks.mfaCode.promise(request),
      reportError: async (info) => (await engine.handleError({ ...info, plugin: plugin.name })).decision,
      recover: (operation, fn) =>
        runWithRecovery(
          {
            handleError: (r) => engine.handleError(r),
            clock,
            signal: controller.signal,
            logger: pluginLogger,
            plugin: plugin.name,
          },
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
    try {
      await plugin.apply(api);
    } catch (err) {
      throw isPluginError(err) ? err : new PluginError(plugin.name, 'apply', err);
    }
  }
  getServices();
  return engine;
}

/** Tags errors with plugin and hook names, isolates fan-out taps, and rejects `null` from bail taps. */
function interceptHook(name: HookName, hook: EngineHooks[HookName], logger: Logger): void {
  const isolated = ISOLATED_HOOKS.has(name);
  const bail = BAIL_HOOKS.has(name);
  (hook as { intercept(i: object): void }).intercept({
    register(tap: { name: string; type: 'sync' | 'async' | 'promise'; fn: (...args: unknown[]) => unknown }) {
      const original = tap.fn;
      const fail = (err: unknown, args: unknown[]): undefined => {
        const tagged = isPluginError(err) && err.hook === name ? err : new PluginError(tap.name, name, err);
        if (!isolated) throw tagged;
        logger
          .child({ plugin: tap.name })
          .error(`${name} tap failed; other plugins continue`, { err: tagged.cause });
        const bucket = typeof args[0] === 'object' && args[0] !== null ? collected.get(args[0]) : undefined;
        bucket?.push(tagged);
        return undefined;
      };
      const check = (result: unknown): unknown => {
        if (bail && result === null) {
          throw new PluginError(
            tap.name,
            name,
            new Error('returned null'),
            `plugin "${tap.name}" returned null from ${name}: that is a plugin bug (return undefined to let the next plugin answer)`,
          );
        }
        return result;
      };
      if (tap.type === 'sync') {
        tap.fn = (...args: unknown[]) => {
          try {
            return check(original(...args));
          } catch (err) {
            return fail(err, args);
          }
        };
      } else if (tap.type === 'promise') {
        tap.fn = async (...args: unknown[]) => {
          try {
            return check(await original(...args));
          } catch (err) {
            return fail(err, args);
          }
        };
      } else {
        tap.fn = (...args: unknown[]) => {
          const cb = args.pop() as (err: unknown, result?: unknown) => void;
          original(...args, (err: unknown, result?: unknown) => {
            try {
              if (err) cb(null, fail(err, args));
              else cb(null, check(result));
            } catch (e) {
              cb(e);
            }
          });
        };
      }
      return tap;
    },
  });
}

function tapOnly(hooks: EngineHooks, pluginName: string): TapOnlyHooks {
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

export { HOOK_KINDS };

/** The draft of a connection to tunnel `t`: what `up` connects to and what `check` tests, built once. */
export function connectDraft(
  t: TunnelConfig,
  profile: string,
  region: string,
  credentials: Credentials | undefined,
): ConnectDraft {
  return {
    tunnel: t.name,
    profile,
    region,
    target: t.target,
    remotePort: t.remotePort,
    remoteHost: t.remoteHost,
    localPort: t.localPort,
    bindAddress: t.bindAddress,
    documentName: t.remoteHost ? REMOTE_HOST_DOCUMENT : PORT_FORWARDING_DOCUMENT,
    credentials,
    annotations: {},
  };
}
