// Library use: credentials for an AWS profile through the same config and plugins as the CLI, for scripts
// and for AWS SDK clients (`new S3Client({ credentials: credentialProvider({ profile: 'dev' }) })`).
import { builtinPlugins } from '../builtin-plugins.js';
import { loadConfig } from '../config/load.js';
import type { ResolvedConfig } from '../config/types.js';
import { createEngine, type Engine } from '../engine/engine.js';
import type { StormtunnelPlugin } from '../engine/plugin.js';
import type { Credentials, Logger, Services } from '../engine/types.js';
import { silentLogger } from '../log/logger.js';

export interface OpenEngineOptions {
  /** A stormtunnel config file; default: searched from `cwd` up to the home folder, as the CLI does. */
  configFile?: string;
  /** Where the config search starts (default: `process.cwd()`). */
  cwd?: string;
  /** Use these plugins instead of the config's (or the built-in set). */
  plugins?: StormtunnelPlugin[];
  /** Default: a logger that drops everything. */
  logger?: Logger;
  /** Services to use instead of the defaults (a plugin's own `provide` still wins). */
  services?: Partial<Services>;
}

export interface GetCredentialsOptions extends OpenEngineOptions {
  /** AWS profile; default AWS_PROFILE, then "default". */
  profile?: string;
  /** Region for the calls behind the credentials (STS for role chains); default: the profile's. */
  region?: string;
  /**
   * May a sign-in be started (a browser, or the device code printed on stderr) when no valid SSO token
   * exists? Default false: the call fails with "SSO Authentication Required" and `stormtunnel login` fixes it.
   */
  allowSignIn?: boolean;
  /** Skip in-memory caches (e.g. after the credentials were rejected). */
  forceRefresh?: boolean;
}

/** Loads the stormtunnel config (or the built-in plugins) and creates an engine; call `shutdown` when done. */
export async function openEngine(options: OpenEngineOptions = {}): Promise<Engine> {
  const config: ResolvedConfig = await loadConfig({
    ...(options.configFile ? { file: options.configFile } : {}),
    cwd: options.cwd ?? process.cwd(),
    builtins: builtinPlugins,
  });
  return createEngine({
    plugins: options.plugins ?? config.plugins,
    settings: config.settings,
    tunnels: config.tunnels,
    logger: options.logger ?? silentLogger(),
    ...(options.services ? { services: options.services } : {}),
  });
}

function profileOf(options: GetCredentialsOptions): string {
  return options.profile ?? (process.env.AWS_PROFILE || undefined) ?? 'default';
}

async function resolveWith(engine: Engine, options: GetCredentialsOptions): Promise<Credentials> {
  return engine.resolveCredentials({
    profile: profileOf(options),
    region: options.region,
    purpose: { kind: 'library' },
    chain: [],
    ...(options.allowSignIn ? { allowSignIn: true } : {}),
    ...(options.forceRefresh ? { forceRefresh: true } : {}),
  });
}

/**
 * Credentials for a profile, resolved by the plugins of the stormtunnel config (sso, assume-role, ...).
 * The result has the shape AWS SDK v3 clients take (`accessKeyId`, `secretAccessKey`, `sessionToken`,
 * `expiration`). Throws the same one-line errors as the CLI (`exitCode`, `hint`).
 *
 * @example
 * const creds = await getCredentials({ profile: 'dev' });
 * const sts = new STSClient({ region: 'us-east-1', credentials: creds });
 */
export async function getCredentials(options: GetCredentialsOptions = {}): Promise<Credentials> {
  const engine = await openEngine(options);
  try {
    return await resolveWith(engine, options);
  } finally {
    await engine.shutdown({ reason: 'command-done' });
  }
}

/** How long before expiry a provider fetches new credentials. */
const EARLY_MS = 5 * 60_000;

/**
 * A credential provider for AWS SDK v3 clients: resolves through stormtunnel on first use and again when
 * the credentials are within 5 minutes of expiry; concurrent calls share one resolution.
 *
 * @example
 * const s3 = new S3Client({ region: 'eu-west-1', credentials: credentialProvider({ profile: 'dev' }) });
 */
export function credentialProvider(options: GetCredentialsOptions = {}): () => Promise<Credentials> {
  let cached: Credentials | undefined;
  let pending: Promise<Credentials> | undefined;
  return () => {
    if (cached && (!cached.expiration || cached.expiration.getTime() - Date.now() > EARLY_MS)) {
      return Promise.resolve(cached);
    }
    pending ??= getCredentials(options)
      .then((c) => (cached = c))
      .finally(() => (pending = undefined));
    return pending;
  };
}
