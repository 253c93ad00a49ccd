// The engine: applies plugins and is the only caller of hooks. It composes the parts that each do one job:
// hook interception (hook-interception.ts), the per-plugin API (plugin-api.ts), services (service-registry.ts),
// timers (scheduler.ts) and tunnel selection (tunnel-selection.ts). It knows no transport: the plugin that
// answers startTunnels and probeTunnel (ssm-tunnel) turns a prepared ConnectDraft into a session.
import { systemClock } from './clock.js';
import { classifyError, EXIT_CODES, reportOf, type Classification } from './classify.js';
import { connectDraft } from './connection-draft.js';
import {
  ConnectionVetoedError,
  isPluginError,
  NoCredentialsError,
  PluginError,
  StormtunnelError,
} from './errors.js';
import { collectFailures, interceptHooks, trackVetoes } from './hook-interception.js';
import { createHooks, HOOK_KINDS } from './hooks.js';
import type { HookName, StartContext } from './hooks.js';
import { createPluginApi } from './plugin-api.js';
import type { StormtunnelPlugin, TunnelConfig } from './plugin.js';
import { runWithRecovery } from './recovery.js';
import { EXIT_GUARD_TIMEOUT_MS, exitGuard } from './exit-guard.js';
import { Scheduler } from './scheduler.js';
import { ServiceRegistry } from './service-registry.js';
import { isSessionTarget, isSymbolicHost, unresolvedHostError, unresolvedTargetError } from './target.js';
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
  StreamOpenRequest,
  StreamSession,
  TunnelProbeRequest,
  TunnelSet,
} from './types.js';
import { startWakeDetector } from './wake-detector.js';

export { ConnectionVetoedError, NoCredentialsError } from './errors.js';
export { connectDraft } from './connection-draft.js';

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

interface PrepareOptions {
  forceRefresh?: boolean;
  allowSignIn?: boolean;
}

export interface PluginDescription {
  name: string;
  hooks: HookName[];
  provides: ServiceName[];
}

export interface StartTunnelsOptions extends TunnelDefaults {
  /** Names to start (an unknown one is an error); undefined: every tunnel with `autostart`. */
  names?: readonly string[];
  /**
   * The tunnel definitions to use instead of the config's, through the same prepare path: a running `up`'s
   * after a config reload, or the one `stormtunnel forward` builds from the command line.
   */
  tunnels?: readonly TunnelConfig[];
  allowSignIn: boolean;
}

export interface OpenStreamOptions extends TunnelDefaults {
  /** The connection's target, profile, region and remotePort (from the command line or a config tunnel). */
  tunnel: TunnelConfig;
  service: StreamOpenRequest['service'];
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
  /**
   * One connection over a stream (`stormtunnel ssh-proxy`), prepared as startTunnels prepares a tunnel (every
   * new session gets fresh credentials and beforeConnect); the openStream hook's plugin runs it. Throws when no
   * plugin opens streams, or when the first session could not be started.
   */
  openStream(options: OpenStreamOptions): Promise<StreamSession>;
  shutdown(info: ShutdownInfo): Promise<void>;
}

export async function createEngine(options: EngineOptions): Promise<Engine> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger;
  const settings = Object.freeze({ ...options.settings });
  const tunnels = Object.freeze([...(options.tunnels ?? [])]);
  const controller = new AbortController();
  const hooks = createHooks();
  const registry = new ServiceRegistry(logger, options.services);
  const scheduler = new Scheduler(clock);

  assertUniqueNames(options.plugins);
  interceptHooks(hooks, logger);
  // Which plugin vetoed: recorded as the veto comes back, for ConnectionVetoedError.
  const vetoPlugin = trackVetoes(hooks.beforeConnect);

  /** The engine's one connection path for a new session: placement, credentials, beforeConnect, target check. */
  const prepareTunnel = async (t: TunnelConfig, defaults: TunnelDefaults, o: PrepareOptions = {}) => {
    const { profile, region } = await placeTunnel(t, defaults);
    const credentials = await engine.resolveCredentials({
      profile,
      region,
      purpose: { kind: 'tunnel', tunnel: t.name },
      chain: [],
      allowSignIn: o.allowSignIn ?? false,
      ...(o.forceRefresh ? { forceRefresh: true } : {}),
    });
    return engine.prepareConnection(connectDraft(t, profile, region, credentials));
  };

  const engine: Engine = {
    settings,
    tunnels,
    clock,
    logger,
    signal: controller.signal,
    get services() {
      return registry.services;
    },

    describePlugins() {
      return options.plugins.map((p) => ({
        name: p.name,
        hooks: (Object.keys(hooks) as HookName[]).filter((h) => hooks[h].taps.some((t) => t.name === p.name)),
        provides: registry.providedBy(p.name),
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
        scheduler.add(stop);
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
      // Resolved for every new session (prepare runs per session), so a replaced instance or task is
      // followed; before beforeConnect, so guards judge the target the session really goes to.
      if (!isSessionTarget(draft.target) || isSymbolicHost(draft.remoteHost) || draft.remotePort === 0) {
        const requested = { target: draft.target, remoteHost: draft.remoteHost };
        const resolved = await hooks.resolveTarget.promise(draft);
        if (resolved) {
          draft.target = resolved.target;
          if (resolved.remoteHost !== undefined) draft.remoteHost = resolved.remoteHost;
          if (resolved.remotePort !== undefined) draft.remotePort = resolved.remotePort;
          draft.resolution = {
            requested,
            description: resolved.description,
            ...(resolved.actions ? { actions: resolved.actions } : {}),
          };
        }
      }
      const veto = await hooks.beforeConnect.promise(draft);
      if (veto) throw new ConnectionVetoedError(draft.tunnel, vetoPlugin(veto) ?? 'unknown', veto.reason);
      // Before Session Manager sees it: it would answer a tag selector with a misleading "not connected".
      if (!isSessionTarget(draft.target)) throw unresolvedTargetError(draft.tunnel, draft.target);
      if (isSymbolicHost(draft.remoteHost) || draft.remotePort === 0)
        throw unresolvedHostError(draft.tunnel, draft.remoteHost);
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
      const failures = await collectFailures({ ...request }, (req) => hooks.signOut.promise(req));
      if (failures.length) {
        throw new StormtunnelError(`sign-out was incomplete: ${failures.map((f) => f.message).join('; ')}`);
      }
    },

    async collectStatus(request) {
      return hooks.collectStatus.promise({ request, entries: [] });
    },

    async startTunnels(opts) {
      // A running `up` passes its reloaded definitions, `forward` its ad-hoc tunnel: the same selection applies.
      const defs = opts.tunnels ?? tunnels;
      const selected = opts.names ? selectTunnels(defs, opts.names) : defs.filter((t) => t.autostart);
      const prepare = async (name: string, o: PrepareOptions = {}) => {
        const [t] = selectTunnels(defs, [name]);
        return prepareTunnel(t!, opts, o);
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

    async openStream(opts) {
      const session = await hooks.openStream.promise({
        tunnel: opts.tunnel,
        service: opts.service,
        allowSignIn: opts.allowSignIn,
        prepare: (o) => prepareTunnel(opts.tunnel, opts, o),
      });
      if (!session) {
        throw new StormtunnelError('no plugin opens stream connections', {
          exitCode: 2,
          hint: "keep the built-in plugins in `plugins` (`import { builtinPlugins } from 'stormtunnel'`, then `plugins: [...builtinPlugins(), yours()]`), or remove `plugins` for the built-in set",
        });
      }
      return session;
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
      scheduler.stopAll();
      controller.abort(new StormtunnelError('stormtunnel is shutting down'));
      // A check still running (a token refresh) ends on the abort or finishes its writes first.
      if (!(await scheduler.settled(EXIT_GUARD_TIMEOUT_MS)))
        logger.warn('stopped with a scheduled check still running');
      if (exitGuard.busy && !(await exitGuard.settled(EXIT_GUARD_TIMEOUT_MS))) {
        logger.warn(`stopped without finishing: ${exitGuard.describe().join(', ')}`);
      }
      await hooks.onShutdown.promise(info);
    },
  };

  for (const plugin of options.plugins) {
    const api = createPluginApi(plugin, {
      hooks,
      logger,
      clock,
      signal: controller.signal,
      settings,
      tunnels,
      services: registry,
      scheduler,
      resolveCredentials: (request) => engine.resolveCredentials(request),
      handleError: (report) => engine.handleError(report),
    });
    try {
      await plugin.apply(api);
    } catch (err) {
      throw isPluginError(err) ? err : new PluginError(plugin.name, 'apply', err);
    }
  }
  // Services are settled once every plugin applied; a later provide() is an error.
  void registry.services;
  return engine;
}

/** Two plugins with one name would tap and provide under the same name: refused at start-up. */
function assertUniqueNames(plugins: readonly StormtunnelPlugin[]): void {
  const seen = new Set<string>();
  for (const plugin of plugins) {
    if (seen.has(plugin.name)) {
      throw new StormtunnelError(`two plugins are named "${plugin.name}"`, {
        exitCode: 2,
        hint: 'each plugin needs a unique name: remove the duplicate from `plugins` in your stormtunnel config',
      });
    }
    seen.add(plugin.name);
  }
}

export { HOOK_KINDS };
