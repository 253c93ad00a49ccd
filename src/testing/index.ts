// `stormtunnel/testing`: what a team needs to test its plugin the way the built-in ones are tested: the local
// AWS emulator in the test's own process with a throw-away HOME, an engine holding just the plugins under
// test (optionally next to the built-in ones), a fake clock, a logger that records, and a prompt that
// never waits for a person. See docs/plugins.md ("Testing a plugin").
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinPlugins } from '../builtin-plugins.js';
import type { SettingsInput, TunnelInput } from '../config/types.js';
import { validateConfig } from '../config/validate.js';
import { systemClock } from '../engine/clock.js';
import { createEngine, type Engine, type StartTunnelsOptions } from '../engine/engine.js';
import type { StormtunnelPlugin } from '../engine/plugin.js';
import type {
  Clock,
  ConnectDraft,
  ErrorPhase,
  Logger,
  ProgressHandle,
  Prompt,
  RecoveryDecision,
  Services,
  TunnelSet,
  TunnelStatus,
} from '../engine/types.js';
import { SEED_STATIC_ACCESS_KEY_ID, SEED_STATIC_SECRET_ACCESS_KEY } from '../emulator/state.js';
import type { EmulatorOptions, RunningEmulator } from '../emulator/types.js';
import type { FakeClock } from '../engine/clock.js';

export { FakeClock, systemClock } from '../engine/clock.js';
export type { RunningEmulator, EmulatorOptions } from '../emulator/types.js';

// ---------------------------------------------------------------------------------------------
// Logger and prompt

export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  /** The record's fields, with the bindings of `child()` (e.g. `plugin`). */
  fields: Record<string, unknown>;
}

export interface CaptureLogger extends Logger {
  readonly records: LogRecord[];
}

/** A Logger that keeps every record in `records` (children share the array), for assertions. */
export function captureLogger(
  records: LogRecord[] = [],
  bindings: Record<string, unknown> = {},
): CaptureLogger {
  const at =
    (level: LogRecord['level']) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      records.push({ level, msg, fields: { ...bindings, ...fields } });
    };
  return {
    records,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (b) => captureLogger(records, { ...bindings, ...b }),
  };
}

export interface TestPrompt extends Prompt {
  /** Every line given to `say` and every progress text, in order. */
  readonly said: string[];
}

/**
 * A prompt for tests: not interactive (so no plugin waits for a person), `say` and progress lines are
 * recorded; `text` and `confirm` answer from the given lists, and fail when the list is used up.
 */
export function testPrompt(answers: { text?: string[]; confirm?: boolean[] } = {}): TestPrompt {
  const said: string[] = [];
  const texts = [...(answers.text ?? [])];
  const confirms = [...(answers.confirm ?? [])];
  const progress = (text: string): ProgressHandle => {
    said.push(text);
    return {
      update: (t) => void said.push(t),
      succeed: (t) => void (t && said.push(t)),
      fail: (t) => void (t && said.push(t)),
      stop: () => undefined,
    };
  };
  return {
    interactive: false,
    said,
    async text(question) {
      const answer = texts.shift();
      if (answer === undefined) throw new Error(`testPrompt: no answer left for "${question}"`);
      return answer;
    },
    async confirm(question) {
      const answer = confirms.shift();
      if (answer === undefined) throw new Error(`testPrompt: no answer left for "${question}"`);
      return answer;
    },
    say: (text) => void said.push(text),
    progress,
  };
}

// ---------------------------------------------------------------------------------------------
// The emulator with a throw-away HOME

/**
 * The AWS config `startTestEmulator` writes unless given another. Profiles on the emulator's seed state:
 * - `dev`: SSO (sso-session `work`), account 111111111111 (sandbox), role AdministratorAccess
 * - `prod-sso`: SSO, account 222222222222 (production), role Developer
 * - `ci`: static keys of the seed IAM user `ci` (account 111111111111; no sign-in needed)
 * - `prod`: assume-role `Deploy` in 222222222222 from `ci` (no sign-in needed)
 */
export function testAwsConfig(startUrl: string): string {
  return `[profile dev]
sso_session = work
sso_account_id = 111111111111
sso_role_name = AdministratorAccess
region = us-east-1

[profile prod-sso]
sso_session = work
sso_account_id = 222222222222
sso_role_name = Developer
region = us-east-1

[profile ci]
region = us-east-1

[profile prod]
role_arn = arn:aws:iam::222222222222:role/Deploy
source_profile = ci
region = us-east-1

[sso-session work]
sso_start_url = ${startUrl}
sso_region = us-east-1
sso_registration_scopes = sso:account:access
`;
}

export interface TestEmulatorOptions extends Omit<EmulatorOptions, 'port'> {
  /** ~/.aws/config of the throw-away HOME (default: `testAwsConfig(startUrl)`). */
  awsConfig?: string | ((startUrl: string) => string);
  /** ~/.aws/credentials (default: the static keys of the seed user `ci` under `[ci]`). */
  awsCredentials?: string;
}

export interface TestEmulator {
  readonly emulator: RunningEmulator;
  readonly url: string;
  readonly startUrl: string;
  /** The throw-away HOME (with .aws/config and .aws/credentials). */
  readonly home: string;
  /** The variables set in process.env (endpoints, region, HOME, AWS_CONFIG_FILE...). */
  readonly env: Record<string, string>;
  /** Stops the emulator, puts process.env back and removes the HOME. */
  close(): Promise<void>;
}

const CLEARED_ENV = [
  'AWS_PROFILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'XDG_STATE_HOME',
];

export interface TestAwsHome {
  home: string;
  configFile: string;
  credentialsFile: string;
  /** The AWS CLI's SSO token cache of this HOME. */
  cacheDir: string;
  /** What was set in process.env; pass it to child processes (a CLI under test) as their environment. */
  env: Record<string, string>;
  /** Puts process.env back and removes the HOME. */
  cleanup(): void;
}

/**
 * A throw-away HOME with ~/.aws/config (and credentials), set in process.env with `emulatorEnv` (endpoints,
 * region) and a state folder of its own, with the caller's AWS_PROFILE and keys cleared: the built-in plugins,
 * the AWS SDK and any CLI started with `env` read the test's profiles, never the user's. One per test file.
 */
export function testAwsHome(opts: {
  config: string;
  credentials?: string;
  emulatorEnv?: Record<string, string>;
}): TestAwsHome {
  const home = mkdtempSync(join(tmpdir(), 'stormtunnel-test-home-'));
  mkdirSync(join(home, '.aws'), { recursive: true });
  const configFile = join(home, '.aws', 'config');
  const credentialsFile = join(home, '.aws', 'credentials');
  writeFileSync(configFile, opts.config);
  writeFileSync(credentialsFile, opts.credentials ?? '');
  const env: Record<string, string> = {
    ...(opts.emulatorEnv ?? {}),
    HOME: home,
    AWS_CONFIG_FILE: configFile,
    AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
    XDG_STATE_HOME: join(home, '.local', 'state'),
  };
  const saved = new Map<string, string | undefined>();
  for (const key of new Set([...CLEARED_ENV, ...Object.keys(env)])) {
    saved.set(key, process.env[key]);
    delete process.env[key];
  }
  Object.assign(process.env, env);
  return {
    home,
    configFile,
    credentialsFile,
    cacheDir: join(home, '.aws', 'sso', 'cache'),
    env,
    cleanup() {
      for (const [key, value] of saved) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/**
 * Starts the emulator on 127.0.0.1 (a free port; sign-ins approved at once unless `autoApprove: false`) and
 * points this process at it: AWS_ENDPOINT_URL*, AWS_REGION, and a throw-away HOME with ~/.aws/config, so
 * the built-in plugins and the AWS SDK read the test's profiles, never the user's. It changes process.env:
 * use one per test file (`npm test` runs each file in its own process) and `close()` it in `after`.
 */
export async function startTestEmulator(options: TestEmulatorOptions = {}): Promise<TestEmulator> {
  const { awsConfig, awsCredentials, ...emulatorOptions } = options;
  const { startEmulator } = await import('../emulator/server.js');
  const emulator = await startEmulator({ autoApprove: true, ...emulatorOptions, port: 0 });
  const config =
    typeof awsConfig === 'function'
      ? awsConfig(emulator.startUrl)
      : (awsConfig ?? testAwsConfig(emulator.startUrl));
  const aws = testAwsHome({
    config,
    credentials:
      awsCredentials ??
      `[ci]\naws_access_key_id = ${SEED_STATIC_ACCESS_KEY_ID}\naws_secret_access_key = ${SEED_STATIC_SECRET_ACCESS_KEY}\n`,
    emulatorEnv: emulator.env(),
  });
  const { home, env } = aws;
  let closed = false;
  return {
    emulator,
    url: emulator.url,
    startUrl: emulator.startUrl,
    home,
    env,
    async close() {
      if (closed) return;
      closed = true;
      try {
        await emulator.close();
      } finally {
        aws.cleanup();
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The engine

export interface TestEngineOptions {
  /** The plugins under test, in order. */
  plugins: readonly StormtunnelPlugin[];
  /**
   * Put the built-in plugins (profile credentials, sso, assume-role, keychain, notify, retry, ssm-tunnel)
   * before `plugins`, as a config with `plugins: [...builtinPlugins(), yours()]` would. The sso plugin's
   * browser is a plain HTTP request, so browser sign-ins need the emulator's auto-approve.
   */
  builtins?: boolean;
  /**
   * Settings as a config file writes them ("5s", { retry: { maxAttempts: 2 } }), validated the same way.
   * `keychain` and `notifications` default to false here, so tests never touch the OS keychain or desktop.
   */
  settings?: SettingsInput;
  /** Tunnels as a config file declares them. */
  tunnels?: readonly TunnelInput[];
  /** Default: real time (`systemClock`); pass a `new FakeClock()` to drive timers and sleeps yourself. */
  clock?: Clock;
  /** Default: a captureLogger(). */
  logger?: Logger;
  /** Services given to the engine (default prompt: testPrompt()); plugins' own `provide` still wins. */
  services?: Partial<Services>;
}

export interface TestEngine {
  readonly engine: Engine;
  /** The logger given, or the capturing one. */
  readonly logger: Logger;
  /** The records of the capturing logger (empty when a logger was given). */
  readonly logs: LogRecord[];
  readonly clock: Clock;
  /** The prompt service in use (a TestPrompt unless `services.prompt` was given). */
  readonly prompt: Prompt;
  /**
   * Runs beforeConnect (after resolveCredentials when the draft has no credentials) on a draft built from
   * `draft` and the defaults of `connectDraft()`. Resolves with the amended draft; rejects with
   * ConnectionVetoedError on a veto.
   */
  connect(draft: Partial<ConnectDraft> & { tunnel: string }): Promise<ConnectDraft>;
  /** What onError decides for `error` (classified as the engine does); `fail` when no plugin decides. */
  decide(error: unknown, context?: DecideContext): Promise<RecoveryDecision>;
  /** Starts the config's tunnels through the startTunnels hook (needs `builtins` or a plugin that runs tunnels). */
  startTunnels(options?: Partial<StartTunnelsOptions>): Promise<TunnelSet>;
  /** Shuts the engine down (onShutdown runs, engine timers stop). */
  shutdown(): Promise<void>;
}

export interface DecideContext {
  phase?: ErrorPhase;
  operation?: string;
  attempt?: number;
  elapsedMs?: number;
  profile?: string;
  ssoSession?: string;
  /** The IAM action of the operation (for permission-denied messages). */
  action?: string;
}

/** A connection draft with test defaults (profile "default", us-east-1, the seed bastion, port 22). */
export function connectDraft(fields: Partial<ConnectDraft> & { tunnel: string }): ConnectDraft {
  const remoteHost = fields.remoteHost;
  return {
    profile: 'default',
    region: 'us-east-1',
    target: 'i-0123456789abcdef0',
    remotePort: 22,
    localPort: 0,
    bindAddress: '127.0.0.1',
    credentials: undefined,
    annotations: {},
    ...fields,
    remoteHost,
  };
}

/** Builds an engine with the plugins under test, the way the CLI does from a config file. */
export async function createTestEngine(options: TestEngineOptions): Promise<TestEngine> {
  const resolved = validateConfig(
    {
      tunnels: options.tunnels ?? [],
      settings: { keychain: false, notifications: false, ...options.settings },
    },
    'createTestEngine options',
    () => [],
  );
  const plugins = [
    ...(options.builtins
      ? builtinPlugins({ sso: { openUrl: async (url) => void (await (await fetch(url)).text()) } })
      : []),
    ...options.plugins,
  ];
  const capture = captureLogger();
  const logger = options.logger ?? capture;
  const clock = options.clock ?? systemClock;
  const services: Partial<Services> = { prompt: testPrompt(), ...options.services };
  const engine = await createEngine({
    plugins,
    settings: resolved.settings,
    tunnels: resolved.tunnels,
    logger,
    clock,
    services,
  });
  return {
    engine,
    logger,
    logs: capture.records,
    clock,
    prompt: engine.services.prompt,
    connect: (draft) => engine.prepareConnection(connectDraft(draft)),
    async decide(error, context = {}) {
      const { decision } = await engine.handleError({
        phase: context.phase ?? 'connect',
        operation: context.operation ?? 'test operation',
        attempt: context.attempt ?? 1,
        elapsedMs: context.elapsedMs ?? 0,
        plugin: undefined,
        error,
        ...(context.profile ? { profile: context.profile } : {}),
        ...(context.ssoSession ? { ssoSession: context.ssoSession } : {}),
        ...(context.action ? { action: context.action } : {}),
      });
      return decision;
    },
    startTunnels: (o = {}) =>
      engine.startTunnels({
        allowSignIn: false,
        defaultProfile: process.env.AWS_PROFILE || 'default',
        regionFor: async () => process.env.AWS_REGION,
        ...o,
      }),
    shutdown: () => engine.shutdown({ reason: 'command-done' }),
  };
}

// ---------------------------------------------------------------------------------------------
// Waiting

/**
 * Moves a FakeClock forward in steps (with a little real time between them for I/O) until `promise`
 * settles: for code that sleeps on the engine clock while it talks to the emulator.
 */
export async function advanceUntil<T>(
  clock: FakeClock,
  promise: Promise<T>,
  stepMs = 1000,
  maxSteps = 600,
): Promise<T> {
  let settled = false;
  const tracked = promise.finally(() => (settled = true));
  tracked.catch(() => undefined);
  for (let i = 0; i < maxSteps && !settled; i++) {
    await clock.advance(stepMs);
    await new Promise((r) => setTimeout(r, 5));
  }
  if (!settled) throw new Error(`did not settle within ${maxSteps} fake steps of ${stepMs} ms`);
  return tracked;
}

/** Resolves once every named tunnel of `set` is ready; rejects when one fails or after `timeoutMs` (real time). */
export function waitForTunnels(
  set: TunnelSet,
  names: readonly string[],
  timeoutMs = 20_000,
): Promise<TunnelStatus[]> {
  return new Promise((resolve, reject) => {
    let unsubscribe: () => void = () => undefined;
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`tunnels ${names.join(', ')} were not ready within ${timeoutMs} ms: ${describe()}`));
    }, timeoutMs);
    const describe = () =>
      set
        .status()
        .map((s) => `${s.name} ${s.state}${s.detail ? ` (${s.detail})` : ''}`)
        .join(', ');
    const check = () => {
      const all = set.status().filter((s) => names.includes(s.name));
      const failed = all.find((s) => s.state === 'failed');
      if (failed) {
        clearTimeout(timer);
        unsubscribe();
        reject(new Error(`tunnel ${failed.name} failed: ${failed.detail ?? 'no detail'}`));
      } else if (all.length === names.length && all.every((s) => s.state === 'ready')) {
        clearTimeout(timer);
        unsubscribe();
        resolve(all);
      }
    };
    unsubscribe = set.onChange(check);
    check();
  });
}
