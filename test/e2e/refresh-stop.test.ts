// Issue 17: a refresh token rotated by the service is on disk before a stopped process exits. The service
// replaces the refresh token in its CreateToken answer; a process that dies between that answer and the
// write leaves a refresh token the service refuses, and the user must sign in again. Here the emulator holds
// the answer (a `slow` fault) while the process is asked to stop: it must wait for the answer, save it, and
// only then exit with the signal's code.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readSsoToken, tokenCacheKey } from '../../src/aws/index.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { testAwsHome, type TestAwsHome } from '../../src/testing/index.js';
import { runCli } from '../helpers/cli.js';
import { countRequests, spawnCli, ssoConfig, uniqueSession, waitFor, withTimeout } from './helpers.js';

const test = suite('refresh stop');
let emu: RunningEmulator;
let home: TestAwsHome;
let dir: string;
let cwd: string;
let env: NodeJS.ProcessEnv;
const session = uniqueSession('stop');
const key = tokenCacheKey({ ssoSessionName: session });

test.before(async () => {
  emu = await startEmulator({ port: 0, autoApprove: true });
  home = testAwsHome({ config: ssoConfig(emu.startUrl, session), emulatorEnv: emu.env() });
  dir = mkdtempSync(join(tmpdir(), 'stormtunnel-refresh-stop-'));
  cwd = join(dir, 'work');
  mkdirSync(cwd);
  // A refresh window longer than the token's life: every run refreshes. The AWS CLI cache is the one store
  // here, so what is on disk is the whole truth.
  writeFileSync(
    join(cwd, 'stormtunnel.config.json'),
    JSON.stringify({ settings: { notifications: false, keychain: false, earlyRefreshThreshold: '2h' } }),
  );
  env = { ...home.env, XDG_STATE_HOME: join(dir, 'state'), STORMTUNNEL_LOG_LEVEL: 'warn' };
  const login = await runCli(['login', '--profile', 'dev', '--use-device-code', '--no-browser'], {
    cwd,
    env,
    timeoutMs: 60_000,
  });
  assert.is(login.code, 0, login.stderr);
});
test.after(async () => {
  await emu.close();
  home.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const storedRefreshToken = async () => (await readSsoToken(key, { cacheDir: home.cacheDir }))?.refreshToken;

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  test(`${signal} during a refresh: the rotated refresh token is saved before the process exits`, async () => {
    const before = await storedRefreshToken();
    assert.ok(before, 'signed in with a refresh token');
    const refreshes = countRequests(emu, 'CreateToken', 'refresh_token');
    emu.admin.injectFault({ operation: 'CreateToken', kind: 'slow', holdSeconds: 300 });
    const proc = spawnCli(['credential-process', '--profile', 'dev'], { cwd, env });
    try {
      // The fault is used up when the request arrives: the refresh is out, its answer held.
      await waitFor(
        () => emu.admin.listFaults().length === 0 || proc.child.exitCode !== null,
        60_000,
        () => `the refresh request to arrive\n${proc.stderr()}`,
      );
      proc.child.kill(signal);
      await waitFor(
        () => /finishing before stopping: saving the refreshed sign-in/.test(proc.stderr()),
        30_000,
        () => `the process to say what it finishes\n${proc.stderr()}`,
      );
      emu.admin.clearFaults();
      const code = await withTimeout(proc.exited, 30_000, 'the process to exit');
      assert.is(code, signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 129, proc.stderr());
      assert.is(countRequests(emu, 'CreateToken', 'refresh_token'), refreshes + 1, 'one refresh answered');
      const after = await storedRefreshToken();
      assert.ok(after && after !== before, 'the rotated refresh token is on disk');
      // And it works: the next run refreshes with it.
      const next = await runCli(['credential-process', '--profile', 'dev'], { cwd, env, timeoutMs: 60_000 });
      assert.is(next.code, 0, next.stderr);
      assert.is(countRequests(emu, 'CreateToken', 'refresh_token'), refreshes + 2);
      assert.not.match(
        emu
          .requests()
          .filter((r) => r.operation === 'CreateToken')
          .map((r) => r.errorCode ?? '')
          .join(' '),
        /InvalidGrant/,
      );
    } finally {
      emu.admin.clearFaults();
      await proc.stop();
    }
  });
}

test.run();
