// Error types the CLI knows how to print: one line, the right exit code, no stack unless --verbose.

export interface StormtunnelErrorOptions {
  exitCode?: number;
  /** What the user should do next, printed on its own line. */
  hint?: string;
  cause?: unknown;
}

export class StormtunnelError extends Error {
  readonly exitCode: number;
  readonly hint: string | undefined;
  constructor(message: string, options: StormtunnelErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? 1;
    this.hint = options.hint;
  }
}

/** Bad input from the user (arguments, config files): exit code 2. */
export class UsageError extends StormtunnelError {
  constructor(message: string, options: Omit<StormtunnelErrorOptions, 'exitCode'> = {}) {
    super(message, { ...options, exitCode: 2 });
  }
}

/** A mistake in stormtunnel.config.*: names the file and the path inside it. */
export class ConfigError extends UsageError {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
    options: Omit<StormtunnelErrorOptions, 'exitCode'> = {},
  ) {
    super(
      problems.length === 1
        ? `${file}: ${problems[0]}`
        : `${file}: ${problems.length} problems:\n  ${problems.join('\n  ')}`,
      options,
    );
  }
}

/** A failure inside a plugin's tap, tagged with the plugin and hook names. */
export class PluginError extends StormtunnelError {
  readonly code = 'PLUGIN_ERROR';
  constructor(
    readonly plugin: string,
    readonly hook: string,
    cause: unknown,
    message?: string,
  ) {
    const inner = cause instanceof Error ? cause.message : String(cause);
    // Our own errors already speak to the user ("SSO Authentication Required: ..."): keep their words; the
    // plugin and hook stay on the error (shown with --verbose). Anything else is a plugin failure.
    const userFacing = isStormtunnelError(cause) && !isPluginError(cause);
    super(message ?? (userFacing ? inner : `plugin "${plugin}" failed in ${hook}: ${inner}`), {
      cause,
      exitCode: isStormtunnelError(cause) ? cause.exitCode : 1,
      hint: isStormtunnelError(cause) ? cause.hint : undefined,
    });
  }
}

/** No plugin answered resolveCredentials for a profile. */
export class NoCredentialsError extends StormtunnelError {
  constructor(readonly profile: string) {
    super(`no plugin could provide credentials for profile "${profile}"`, {
      hint: `check that profile "${profile}" exists in your AWS config (stormtunnel profiles) and that its type is supported`,
    });
  }
}

/** A beforeConnect plugin vetoed a connection: names the plugin and its reason. */
export class ConnectionVetoedError extends StormtunnelError {
  constructor(
    readonly tunnel: string,
    readonly plugin: string,
    readonly reason: string,
  ) {
    // The exit code of the `vetoed` class (EXIT_CODES in classify.ts, docs/errors.md); a test keeps them equal.
    super(`tunnel "${tunnel}" was stopped by plugin "${plugin}": ${reason}`, { exitCode: 10 });
  }
}

/** The innermost error of a PluginError chain (what actually went wrong). */
export function rootCause(err: unknown): unknown {
  let e = err;
  while (isPluginError(e)) e = e.cause;
  return e;
}

// Checks by shape, not instanceof: a config loaded through tsx (and a plugin package with its own copy of
// stormtunnel) has separate copies of these classes, and their errors must still be understood.

/** One of our errors: it carries the exit code and, often, a hint for the user. */
export function isStormtunnelError(e: unknown): e is StormtunnelError {
  return e instanceof Error && typeof (e as { exitCode?: unknown }).exitCode === 'number';
}

export function isPluginError(e: unknown): e is PluginError {
  return isStormtunnelError(e) && (e as { code?: unknown }).code === 'PLUGIN_ERROR';
}
