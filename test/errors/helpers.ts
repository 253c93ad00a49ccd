// A world for the error tests: the emulator, a throw-away HOME with profiles for every failure, a
// stormtunnel.config.mjs with fast retries (the decisions are the same, the waits are milliseconds), and
// the real binary run against it. Every stderr is kept, so the last test can scan them all for secrets.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  SEED_STATIC_ACCESS_KEY_ID,
  SEED_STATIC_SECRET_ACCESS_KEY,
  startEmulator,
  type RunningEmulator,
} from '../../src/emulator/index.js';
import { seedConfig } from '../helpers/seed-config.js';
import { testAwsHome, type TestAwsHome } from '../../src/testing/index.js';
import { runCli, type CliResult, stormtunnelModule } from '../helpers/cli.js';

export interface ErrorWorld {
  emu: RunningEmulator;
  home: TestAwsHome;
  env: Record<string, string>;
  /** Runs the real binary in the HOME (where stormtunnel.config.mjs is found). */
  st(args: string[], extraEnv?: Record<string, string>): Promise<CliResult>;
  /** Signs the "work" SSO session in through `stormtunnel login` (device code, auto-approved). */
  login(): Promise<void>;
  /** Requests of one operation in the emulator log. */
  ops(operation: string): ReturnType<RunningEmulator['requests']>;
  /** Every stderr so far. */
  stderrs: string[];
  /** Secret values seen so far: tokens from the AWS CLI cache, keys from credential-process output. */
  secrets: Set<string>;
  close(): Promise<void>;
}

export const TUNNELS = [
  { name: 'offline', profile: 'dev', target: 'i-0deadbeefdeadbeef', remotePort: 22 },
  { name: 'unknown', profile: 'dev', target: 'i-0000000000000dead', remotePort: 22 },
  { name: 'readonly', profile: 'readonly', target: 'i-0123456789abcdef0', remotePort: 5432 },
  { name: 'healthy', profile: 'dev', target: 'i-0123456789abcdef0', remotePort: 5432 },
  { name: 'bad-keys', profile: 'bad-keys', target: 'i-0123456789abcdef0', remotePort: 5432 },
];

function extraProfiles(emu: RunningEmulator): string {
  return `
[profile norole]
sso_session = work
sso_account_id = 222222222222
sso_role_name = AdministratorAccess
region = us-east-1

[profile unknown-url]
sso_start_url = ${emu.url}/not-an-sso-instance
sso_region = us-east-1
sso_account_id = 111111111111
sso_role_name = AdministratorAccess
region = us-east-1

[profile no-region]
sso_start_url = ${emu.startUrl}
sso_account_id = 111111111111
sso_role_name = AdministratorAccess
region = us-east-1

[profile malformed-url]
sso_start_url = my-org.awsapps start
sso_region = us-east-1
sso_account_id = 111111111111
sso_role_name = AdministratorAccess
region = us-east-1

[profile bad-keys]
region = us-east-1

[profile wrong-secret]
region = us-east-1

[profile deploy-bad-keys]
role_arn = arn:aws:iam::222222222222:role/Deploy
source_profile = bad-keys
region = us-east-1

[profile deploy-wrong-secret]
role_arn = arn:aws:iam::222222222222:role/Deploy
source_profile = wrong-secret
region = us-east-1
`;
}

/** A config with fast retries (the same decisions, waits in ms) and the given tunnels (us-east-1). */
export function writeConfig(file: string, tunnels: readonly object[]): string {
  const imp = (p: string) => JSON.stringify(stormtunnelModule(p));
  writeFileSync(
    file,
    `import { assumeRole } from ${imp('plugins/assume-role/index.ts')};
import { profileCredentials } from ${imp('plugins/profile-credentials/index.ts')};
import { retry } from ${imp('plugins/retry/index.ts')};
import { ssmTunnel } from ${imp('plugins/ssm-tunnel/index.ts')};
import { sso } from ${imp('plugins/sso/index.ts')};
export default {
  plugins: [
    profileCredentials(),
    assumeRole(),
    sso(),
    ssmTunnel(),
    retry({ throttleDelay: '50ms', baseDelay: '20ms', jitter: false }),
  ],
  settings: { keychain: false, notifications: false },
  tunnels: ${JSON.stringify(tunnels.map((t) => ({ region: 'us-east-1', localPort: 0, ...t })))},
};
`,
  );
  return file;
}

export async function errorWorld(): Promise<ErrorWorld> {
  const emu = await startEmulator({ port: 0, autoApprove: true });
  const home = testAwsHome({
    config: seedConfig(emu.startUrl) + extraProfiles(emu),
    credentials:
      `[bad-keys]\naws_access_key_id = AKIAEMULATORUNKNOWN9\naws_secret_access_key = ${'x'.repeat(40)}\n` +
      `[wrong-secret]\naws_access_key_id = ${SEED_STATIC_ACCESS_KEY_ID}\naws_secret_access_key = ${'y'.repeat(40)}\n`,
    emulatorEnv: emu.env(),
  });
  mkdirSync(join(home.home, 'state'), { recursive: true });
  const env = {
    ...home.env,
    STORMTUNNEL_STATE_DIR: join(home.home, 'state'),
    XDG_STATE_HOME: join(home.home, 'state'),
  };
  writeConfig(join(home.home, 'stormtunnel.config.mjs'), TUNNELS);
  const stderrs: string[] = [];
  const secrets = new Set<string>([SEED_STATIC_SECRET_ACCESS_KEY]);
  const collectCacheSecrets = () => {
    for (const f of readdirSync(home.cacheDir, { withFileTypes: true })) {
      if (!f.isFile() || !f.name.endsWith('.json')) continue;
      const j = JSON.parse(readFileSync(join(home.cacheDir, f.name), 'utf8')) as Record<string, unknown>;
      for (const k of ['accessToken', 'refreshToken', 'clientSecret'])
        if (typeof j[k] === 'string') secrets.add(j[k]);
    }
  };
  const st = async (args: string[], extraEnv: Record<string, string> = {}) => {
    const r = await runCli(args, { env: { ...env, ...extraEnv }, cwd: home.home, timeoutMs: 30_000 });
    stderrs.push(r.stderr);
    if (args[0] === 'credential-process' && r.code === 0) {
      const out = JSON.parse(r.stdout) as Record<string, unknown>;
      for (const k of ['SecretAccessKey', 'SessionToken'])
        if (typeof out[k] === 'string') secrets.add(out[k]);
    }
    try {
      collectCacheSecrets();
    } catch {
      /* no cache yet */
    }
    return r;
  };
  return {
    emu,
    home,
    env,
    st,
    async login() {
      const r = await st(['login', '--profile', 'dev', '--use-device-code', '--no-browser']);
      if (r.code !== 0) throw new Error(`login failed: ${r.stderr}`);
    },
    ops: (operation) => emu.requests().filter((q) => q.operation === operation),
    stderrs,
    secrets,
    async close() {
      await emu.close();
      home.cleanup();
    },
  };
}

/** The error report of a failed command: the `stormtunnel:` line and the `→` line (log lines left out). */
export function report(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('stormtunnel: ') || l.startsWith('  → '));
}
