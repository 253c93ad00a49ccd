// The library entry point: a script imports from 'stormtunnel' (src/index.ts) and gets credentials for an
// SSO profile through the plugins of its stormtunnel config, against the emulator.
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { credentialProvider, getCredentials, type Prompt } from '../../src/index.js';
import { seedConfig } from '../helpers/seed-config.js';
import { testAwsHome, type TestAwsHome } from '../../src/testing/index.js';
import { REPO_ROOT } from '../helpers/cli.js';

let emu: RunningEmulator;
let home: TestAwsHome;
let configFile: string;
const said: string[] = [];
const prompt: Prompt = {
  interactive: false,
  text: () => Promise.reject(new Error('no terminal')),
  confirm: () => Promise.reject(new Error('no terminal')),
  say: (t) => void said.push(t),
  progress: () => ({
    update: () => undefined,
    succeed: () => undefined,
    fail: () => undefined,
    stop: () => undefined,
  }),
};

const lib = suite('library');
lib.before(async () => {
  emu = await startEmulator({ port: 0, autoApprove: true });
  home = testAwsHome({ config: seedConfig(emu.startUrl), emulatorEnv: emu.env() });
  configFile = join(home.home, 'stormtunnel.config.ts');
  writeFileSync(
    configFile,
    `import { sso } from ${JSON.stringify(join(REPO_ROOT, 'plugins/sso/index.ts'))};
export default { plugins: [sso({ sessions: { work: { useDeviceCode: true } } })] };
`,
  );
});
lib.after(async () => {
  await emu.close();
  home.cleanup();
});

lib('getCredentials: not signed in and no sign-in allowed is the CLI one-line error', async () => {
  try {
    await getCredentials({ profile: 'dev', configFile, services: { prompt } });
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /SSO Authentication Required: not signed in for SSO session "work"/);
    assert.ok((err as { exitCode?: number }).exitCode, 'a failure exit code for scripts that exit with it');
  }
});

lib('getCredentials with allowSignIn: SDK-shaped credentials that STS accepts', async () => {
  const creds = await getCredentials({ profile: 'dev', configFile, allowSignIn: true, services: { prompt } });
  assert.ok(
    said.some((l) => /confirm the code/.test(l)),
    'the device code went to the prompt service',
  );
  assert.ok(creds.expiration instanceof Date);
  const who = await new STSClient({ region: 'us-east-1', credentials: creds }).send(
    new GetCallerIdentityCommand({}),
  );
  assert.is(who.Account, '111111111111');
});

lib('credentialProvider: an SDK client resolves once and reuses the credentials', async () => {
  const before = emu.requests().filter((r) => r.operation === 'GetRoleCredentials').length;
  const credentials = credentialProvider({ profile: 'readonly', configFile });
  const sts = new STSClient({ region: 'us-east-1', credentials });
  const [a, b] = await Promise.all([
    sts.send(new GetCallerIdentityCommand({})),
    sts.send(new GetCallerIdentityCommand({})),
  ]);
  assert.match(a.Arn ?? '', /AWSReservedSSO_ReadOnly/);
  assert.is(a.Arn, b.Arn);
  await sts.send(new GetCallerIdentityCommand({}));
  assert.is(emu.requests().filter((r) => r.operation === 'GetRoleCredentials').length, before + 1);
});

lib.run();
