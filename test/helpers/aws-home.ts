// A throw-away HOME with ~/.aws/config for tests, pointed at a running emulator. Sets process.env for
// the test process (each test file runs in its own process).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface AwsHome {
  home: string;
  configFile: string;
  credentialsFile: string;
  cacheDir: string;
  env: Record<string, string>;
  cleanup(): void;
}

/** Standard profiles on the emulator's seed state: an sso-session profile, a legacy one, a cross-account role. */
export function seedConfig(startUrl: string): string {
  return `[default]
region = us-east-1

[profile dev]
sso_session = work
sso_account_id = 111111111111
sso_role_name = AdministratorAccess
region = us-east-1

[profile readonly]
sso_session = work
sso_account_id = 111111111111
sso_role_name = ReadOnly
region = us-east-1

[profile legacy]
sso_start_url = ${startUrl}
sso_region = us-east-1
sso_account_id = 222222222222
sso_role_name = Developer
region = us-east-1

[sso-session work]
sso_start_url = ${startUrl}
sso_region = us-east-1
sso_registration_scopes = sso:account:access
`;
}

export function makeAwsHome(opts: {
  config: string;
  credentials?: string;
  emulatorEnv?: Record<string, string>;
}): AwsHome {
  const home = mkdtempSync(join(tmpdir(), 'stormtunnel-home-'));
  mkdirSync(join(home, '.aws'), { recursive: true });
  const configFile = join(home, '.aws', 'config');
  const credentialsFile = join(home, '.aws', 'credentials');
  writeFileSync(configFile, opts.config);
  writeFileSync(credentialsFile, opts.credentials ?? '');
  const env: Record<string, string> = {
    HOME: home,
    AWS_CONFIG_FILE: configFile,
    AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
    ...(opts.emulatorEnv ?? {}),
  };
  const saved: Record<string, string | undefined> = {};
  for (const k of [
    'AWS_PROFILE',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_REGION',
    'AWS_DEFAULT_REGION',
  ]) {
    saved[k] = process.env[k];
    delete process.env[k];
  }
  for (const [k, v] of Object.entries(env)) {
    saved[k] ??= process.env[k];
    process.env[k] = v;
  }
  return {
    home,
    configFile,
    credentialsFile,
    cacheDir: join(home, '.aws', 'sso', 'cache'),
    env,
    cleanup() {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}
