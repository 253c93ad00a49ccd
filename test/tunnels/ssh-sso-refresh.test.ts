// Issue 22: an SSO sign-in that expires in the middle of an SSH connection is refreshed without breaking it.
// The real OpenSSH client runs `cat` on a real sshd through `stormtunnel ssh-proxy --profile dev` (an SSO
// profile, signed in with the emulator approving). Mid-session the service's clock moves past the access
// token's and the role credentials' expiry (the client still believes both valid, as after a laptop slept),
// and the WebSocket drops: ResumeSession is refused, the credentials are refreshed (CreateToken with the
// refresh token), the data channel resumes, and the same SSH connection carries the rest of the bytes.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startEmulator, type RequestLogEntry, type RunningEmulator } from '../../src/emulator/index.js';
import { testAwsHome, type TestAwsHome } from '../../src/testing/index.js';
import { BIN, runCli, CLI_ENV } from '../helpers/cli.js';
import { hasOpenSsh, startSshd, writeSshConfig, type Sshd } from '../helpers/sshd.js';
import { testIf } from '../helpers/system.js';
import { ssoConfig, uniqueSession } from '../e2e/helpers.js';
import { sha256, waitFor, withTimeout } from './helpers.js';

const BASTION = 'i-0123456789abcdef0';
const test = suite('ssh-proxy sso refresh');
const withSsh = testIf(test, hasOpenSsh(), 'ssh, scp and sshd (Debian: openssh-client, openssh-server)');

let emu: RunningEmulator;
let home: TestAwsHome;
let sshd: Sshd;
let dir: string;
let env: NodeJS.ProcessEnv;
let config: string;

test.before(async () => {
  if (!hasOpenSsh()) return;
  emu = await startEmulator({ port: 0, autoApprove: true });
  home = testAwsHome({ config: ssoConfig(emu.startUrl, uniqueSession('ssh')), emulatorEnv: emu.env() });
  sshd = await startSshd();
  dir = mkdtempSync(join(tmpdir(), 'stormtunnel-ssh-sso-'));
  // The AWS CLI cache is the one token store (no keychain), no desktop notifications.
  config = join(dir, 'stormtunnel.config.json');
  writeFileSync(config, JSON.stringify({ settings: { notifications: false, keychain: false } }));
  env = {
    ...home.env,
    XDG_STATE_HOME: join(dir, 'state'),
    NO_COLOR: '1',
    ...CLI_ENV,
    STORMTUNNEL_LOG_LEVEL: 'info',
  };
  const login = await runCli(['login', '--profile', 'dev', '--use-device-code', '--no-browser'], {
    cwd: dir,
    env,
    timeoutMs: 60_000,
  });
  assert.is(login.code, 0, login.stderr);
});
test.after(async () => {
  if (!emu) return;
  await sshd.stop();
  await emu.close();
  home.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const count = (operation: string, pred: (r: RequestLogEntry) => boolean) =>
  emu.requests().filter((r) => r.operation === operation && pred(r)).length;

withSsh(
  'the SSO token and role credentials expire mid-session, the WebSocket drops: refreshed, resumed, same SSH connection',
  async () => {
    const proxy = [process.execPath, BIN, '--config', config, '--profile', 'dev', 'ssh-proxy']
      .map((a) => `"${a}"`)
      .join(' ');
    const sshConfig = writeSshConfig(sshd, [BASTION], proxy);
    emu.admin.clearRequests();
    const ssh = spawn('ssh', ['-F', sshConfig, BASTION, 'cat'], {
      cwd: dir,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let outLength = 0;
    let err = '';
    ssh.stdout.on('data', (d: Buffer) => (out.push(d), (outLength += d.length)));
    ssh.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => ssh.once('close', (code) => resolve(code)));
    const kill = setTimeout(() => ssh.kill('SIGKILL'), 90_000);
    try {
      const first = randomBytes(256 * 1024);
      const second = randomBytes(256 * 1024);
      ssh.stdin.write(first);
      await waitFor(
        () => outLength >= first.length,
        30_000,
        () => `the first part echoed\n${err}`,
      );
      const start = emu.requests().filter((r) => r.operation === 'StartSession' && r.status === 200);
      assert.is(start.length, 1, err);
      const sessionId = String(start[0]!.params.sessionId);
      const refreshes = count('CreateToken', (r) => r.params.grantType === 'refresh_token');
      assert.is(refreshes, 0, 'no refresh before the expiry');

      // Past the access token's hour (and the role credentials'); the refresh token is still good.
      emu.admin.advanceClock(61 * 60_000);
      emu.admin.killSession(sessionId);
      await waitFor(
        () => count('ResumeSession', (r) => r.status === 200) >= 1,
        60_000,
        () => `the data channel to resume\n${err}`,
      );
      ssh.stdin.end(second);
      const code = await withTimeout(exited, 60_000, 'ssh to finish');
      assert.is(code, 0, err);
      assert.is(sha256(Buffer.concat(out)), sha256(Buffer.concat([first, second])), 'the bytes, exact');

      assert.is(
        count('CreateToken', (r) => r.params.grantType === 'refresh_token' && r.status === 200),
        1,
        'one refresh of the SSO token',
      );
      assert.is(
        count('StartDeviceAuthorization', () => true),
        0,
        'no new sign-in',
      );
      assert.is(
        count('StartSession', () => true),
        1,
        'the same session throughout',
      );
      // The old role credentials were refused, the new ones accepted.
      assert.ok(count('ResumeSession', (r) => r.status !== 200) >= 1, 'a ResumeSession was refused first');
      assert.match(err, /data channel resumed/);
      // A refresh that works is not announced as a failure on ssh's terminal.
      assert.not.match(err, /WARN.*Authentication Required|Authentication Required.*WARN/i);
    } finally {
      clearTimeout(kill);
      if (ssh.exitCode === null) ssh.kill('SIGTERM');
      await exited;
    }
  },
);

test.run();
