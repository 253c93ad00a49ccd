// What every command gets: parsed global options, a logger, output streams, and lazily the config and engine.
import type { SharedConfig } from '../aws/index.js';
import { builtinPlugins } from '../builtin-plugins.js';
import { loadConfig } from '../config/load.js';
import type { ResolvedConfig } from '../config/types.js';
import { createEngine, type Engine } from '../engine/engine.js';
import { UsageError } from '../engine/errors.js';
import type { Credentials, Logger, Services } from '../engine/types.js';
import { createLogger, LOG_LEVELS, type LogFormat, type LogLevel } from '../log/logger.js';

export interface GlobalOptions {
  config?: string;
  profile?: string;
  region?: string;
  verbose?: boolean;
  logFormat?: string;
}

export interface CliIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export class CliContext {
  readonly logger: Logger;
  private config?: Promise<ResolvedConfig>;
  private engine?: Promise<Engine>;

  constructor(
    readonly globals: GlobalOptions,
    readonly io: CliIo,
    private serviceOverrides: Partial<Services> = {},
  ) {
    this.logger = createLogger({ level: this.logLevel(), format: this.logFormat() });
  }

  get verbose(): boolean {
    return Boolean(this.globals.verbose);
  }

  private logLevel(): LogLevel {
    if (this.globals.verbose) return 'debug';
    const env = this.io.env.STORMTUNNEL_LOG_LEVEL?.toLowerCase();
    if (env === undefined || env === '') return 'info';
    if ((LOG_LEVELS as readonly string[]).includes(env)) return env as LogLevel;
    throw new UsageError(
      `STORMTUNNEL_LOG_LEVEL: unknown level "${env}"; use one of ${LOG_LEVELS.join(', ')}`,
    );
  }

  private logFormat(): LogFormat {
    const f = this.globals.logFormat ?? 'pretty';
    if (f !== 'pretty' && f !== 'json')
      throw new UsageError(`--log-format: unknown format "${f}"; use pretty or json`);
    return f;
  }

  /** The profile a command works on: --profile, then AWS_PROFILE, then "default". */
  get profile(): string {
    return this.globals.profile ?? (this.io.env.AWS_PROFILE || undefined) ?? 'default';
  }

  /** The AWS shared config (~/.aws/config and credentials) as the SDK reads it. */
  async awsConfig(): Promise<SharedConfig> {
    const { loadSharedConfig } = await import('../aws/index.js');
    return loadSharedConfig({ env: this.io.env });
  }

  /** Throws the precise one-line error (file, line, key) that stops `profile` from giving credentials. */
  async assertProfile(profile: string): Promise<void> {
    const { assertProfileUsable } = await import('../aws/index.js');
    assertProfileUsable(await this.awsConfig(), profile);
  }

  /**
   * Services for this command's engine, before it is created (`ssh-proxy` prompts on /dev/tty: its stdin and
   * stdout carry the SSH connection).
   */
  useServices(services: Partial<Services>): void {
    if (this.engine) throw new Error('useServices after the engine was created');
    this.serviceOverrides = { ...this.serviceOverrides, ...services };
  }

  loadConfig(): Promise<ResolvedConfig> {
    this.config ??= loadConfig({ file: this.globals.config, cwd: this.io.cwd, builtins: builtinPlugins });
    return this.config;
  }

  createEngine(): Promise<Engine> {
    this.engine ??= this.loadConfig().then((config) =>
      createEngine({
        plugins: config.plugins,
        settings: config.settings,
        tunnels: config.tunnels,
        logger: this.logger,
        services: this.serviceOverrides,
      }),
    );
    return this.engine;
  }

  /**
   * The engine and a profile's credentials for a command that calls AWS itself (`targets`, `add`,
   * `rds-token`): asked through the engine's resolveCredentials hook like a tunnel's, and signing in when
   * there is a terminal to ask on.
   */
  async commandCredentials(
    command: string,
    profile: string,
    region: string,
  ): Promise<{ engine: Engine; credentials: Credentials }> {
    const engine = await this.createEngine();
    const credentials = await engine.resolveCredentials({
      profile,
      region,
      purpose: { kind: 'command', command },
      chain: [],
      allowSignIn: engine.services.prompt.interactive,
    });
    return { engine, credentials };
  }

  async close(): Promise<void> {
    if (!this.engine) return;
    const engine = await this.engine.catch(() => undefined);
    await engine?.shutdown({ reason: 'command-done' });
  }
}
