// Every hook of the engine, declared once with explicit tapable generics. docs/hooks.md is the reference
// table for these; keep the two in step.
import { AsyncParallelHook, AsyncSeriesBailHook, AsyncSeriesHook, AsyncSeriesWaterfallHook } from 'tapable';
import type {
  ConnectDraft,
  CredentialRequest,
  Credentials,
  ErrorInfo,
  ExpiryNotice,
  MfaRequest,
  ReauthNotice,
  RecoveryDecision,
  ShutdownInfo,
  SignInRequest,
  SignInResult,
  SignOutRequest,
  SsoAccessToken,
  SsoTokenRequest,
  StatusReport,
  TokenEvent,
  TunnelSet,
  ProbeStep,
  ResolvedTarget,
  StreamOpenRequest,
  StreamSession,
  TunnelProbeRequest,
  TunnelStartRequest,
  TunnelStateChange,
  Veto,
  WakeEvent,
} from './types.js';

export interface StartContext {
  /** true for `up` (monitors and tunnels run until shutdown); false for one-shot commands. */
  longRunning: boolean;
}

export function createHooks() {
  return Object.freeze({
    /** First plugin that yields credentials for the profile wins. */
    resolveCredentials: new AsyncSeriesBailHook<[CredentialRequest], Credentials | undefined>(
      ['request'],
      'resolveCredentials',
    ),
    /**
     * Turns a target people named (a Name or tag selector, an ECS service, an `rds:` host) into the one
     * sessions go to; asked for every new session, so a replaced instance or task is followed. First answer wins.
     */
    resolveTarget: new AsyncSeriesBailHook<[ConnectDraft], ResolvedTarget | undefined>(
      ['draft'],
      'resolveTarget',
    ),
    /** Plugins amend the draft in place; returning a Veto stops the connection. */
    beforeConnect: new AsyncSeriesBailHook<[ConnectDraft], Veto | undefined>(['draft'], 'beforeConnect'),
    /** Fan-out before a token expires (and before a silent refresh); taps are isolated. */
    onTokenExpiring: new AsyncParallelHook<[ExpiryNotice]>(['notice'], 'onTokenExpiring'),
    /** First recovery decision wins; none means fail. */
    onError: new AsyncSeriesBailHook<[ErrorInfo], RecoveryDecision | undefined>(['info'], 'onError'),
    /** A session needs a person to sign in again; taps are isolated. */
    onReauthRequired: new AsyncParallelHook<[ReauthNotice]>(['notice'], 'onReauthRequired'),
    /** A token was obtained, refreshed, or changed by another process; taps are isolated. */
    onTokenChanged: new AsyncParallelHook<[TokenEvent]>(['event'], 'onTokenChanged'),
    /** Signs in to an SSO session; the plugin that handles the profile or session answers. */
    signIn: new AsyncSeriesBailHook<[SignInRequest], SignInResult | undefined>(['request'], 'signIn'),
    /** A valid SSO access token for a profile or session (signing in if allowed); the first answer wins. */
    getSsoToken: new AsyncSeriesBailHook<[SsoTokenRequest], SsoAccessToken | undefined>(
      ['request'],
      'getSsoToken',
    ),
    /** Signs out; every tap runs, failures are collected and reported after all ran. */
    signOut: new AsyncParallelHook<[SignOutRequest]>(['request'], 'signOut'),
    /** Supplies an MFA code for an assume-role hop; the first answer wins. */
    mfaCode: new AsyncSeriesBailHook<[MfaRequest], string | undefined>(['request'], 'mfaCode'),
    /** Each tap adds its status entries to the report and returns it. */
    collectStatus: new AsyncSeriesWaterfallHook<[StatusReport]>(['report'], 'collectStatus'),
    /** Starts the requested tunnels; the plugin that runs tunnels answers with the running set. */
    startTunnels: new AsyncSeriesBailHook<[TunnelStartRequest], TunnelSet | undefined>(
      ['request'],
      'startTunnels',
    ),
    /** Tests one tunnel's connection without running it (`stormtunnel check`); the plugin that runs tunnels answers. */
    probeTunnel: new AsyncSeriesBailHook<[TunnelProbeRequest], ProbeStep[] | undefined>(
      ['request'],
      'probeTunnel',
    ),
    /**
     * Opens one connection carried over a stream (`stormtunnel ssh-proxy`: stdin/stdout) instead of a local
     * port; the plugin that runs tunnels answers with the open session.
     */
    openStream: new AsyncSeriesBailHook<[StreamOpenRequest], StreamSession | undefined>(
      ['request'],
      'openStream',
    ),
    /** A tunnel changed state; taps are isolated. */
    onTunnelState: new AsyncParallelHook<[TunnelStateChange]>(['change'], 'onTunnelState'),
    /** The machine woke from sleep (or the clock jumped): check tokens and connections now; isolated. */
    onWake: new AsyncParallelHook<[WakeEvent]>(['event'], 'onWake'),
    /** The engine starts; long-running plugins start their monitors here. */
    onStart: new AsyncSeriesHook<[StartContext]>(['context'], 'onStart'),
    /** The engine stops; taps are isolated, each should release what it holds. */
    onShutdown: new AsyncParallelHook<[ShutdownInfo]>(['info'], 'onShutdown'),
  });
}

export type EngineHooks = ReturnType<typeof createHooks>;
export type HookName = keyof EngineHooks;

export type HookKind = 'series-bail' | 'parallel' | 'series' | 'series-waterfall';

/** The kind a tapable hook runs as, read from its class (tapable sets `constructor` to the factory). */
export function kindOf(hook: object): HookKind {
  switch (hook.constructor) {
    case AsyncSeriesBailHook:
      return 'series-bail';
    case AsyncParallelHook:
      return 'parallel';
    case AsyncSeriesWaterfallHook:
      return 'series-waterfall';
    case AsyncSeriesHook:
      return 'series';
    default:
      throw new Error(`hook class ${hook.constructor.name} has no kind: add it to kindOf()`);
  }
}

/**
 * How each hook runs, derived from the classes in createHooks() (declared once, there); also drives error
 * handling (isolated hooks never fail their caller).
 */
export const HOOK_KINDS: Readonly<Record<HookName, HookKind>> = Object.freeze(
  Object.fromEntries(Object.entries(createHooks()).map(([name, hook]) => [name, kindOf(hook)])) as Record<
    HookName,
    HookKind
  >,
);

/** Hooks whose failing taps are logged with the plugin's name and do not fail the others. */
export const ISOLATED_HOOKS: ReadonlySet<HookName> = new Set(
  (Object.keys(HOOK_KINDS) as HookName[]).filter((h) => HOOK_KINDS[h] === 'parallel'),
);

/** Bail hooks where a `null` result would silently stop the chain in tapable: treated as a plugin bug. */
export const BAIL_HOOKS: ReadonlySet<HookName> = new Set(
  (Object.keys(HOOK_KINDS) as HookName[]).filter((h) => HOOK_KINDS[h] === 'series-bail'),
);

type HookArgs<H> = H extends { promise(...args: infer A): Promise<unknown> } ? A : never;
type HookResult<H> = H extends { promise(...args: never[]): Promise<infer R> } ? R : never;

export interface TapOptions {
  /** Lower stages run first (default 0); ties keep config order. */
  stage?: number;
  /** Run before the named plugin's tap. */
  before?: string;
}

/** Removes the tap it was returned for; calling it again does nothing. */
export type Unregister = () => void;

/** What a plugin sees of a hook: it can tap it (under its own name) and untap it, but never call it. */
export interface TapOnlyHook<H> {
  tap(fn: (...args: HookArgs<H>) => HookResult<H>, options?: TapOptions): Unregister;
  tapPromise(fn: (...args: HookArgs<H>) => Promise<HookResult<H>>, options?: TapOptions): Unregister;
}

export type TapOnlyHooks = { readonly [K in HookName]: TapOnlyHook<EngineHooks[K]> };
