// `stormtunnel ssh-proxy` under the real OpenSSH client (ProxyCommand) to a real sshd behind an emulated
// instance: a command runs, scp copies 16 MiB both ways byte-exact, and the session ends cleanly.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { TestAwsHome } from '../../src/testing/index.js';
import { BIN, CLI_ENV } from '../helpers/cli.js';
import { hasOpenSsh, startSshd, writeSshConfig, type Sshd } from '../helpers/sshd.js';
import { testIf } from '../helpers/system.js';
import { sha256, staticKeysHome, UNPACED_EMULATOR, waitFor, writeUnpacedConfig } from './helpers.js';

const BASTION = 'i-0123456789abcdef0';
const test = suite('ssh-proxy');
const withSsh = testIf(test, hasOpenSsh(), 'ssh, scp and sshd (Debian: openssh-client, openssh-server)');

let emu: RunningEmulator;
let home: TestAwsHome;
let sshd: Sshd;
let dir: string;

test.before(async () => {
  if (!hasOpenSsh()) return;
  emu = await startEmulator({ port: 0 });
  home = staticKeysHome(emu);
  sshd = await startSshd();
  dir = mkdtempSync(join(tmpdir(), 'stormtunnel-ssh-'));
});
test.after(async () => {
  if (!emu) return;
  await sshd.stop();
  await emu.close();
  home.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs `cmd` (ssh, scp) with the test's AWS home in its environment (the ProxyCommand inherits it). */
function run(cmd: string, args: string[], timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: dir,
      env: {
        ...process.env,
        ...home.env,
        NO_COLOR: '1',
        ...CLI_ENV,
        STORMTUNNEL_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} did not finish in ${timeoutMs} ms\n${err}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

const proxy = (...extra: string[]) =>
  [process.execPath, BIN, ...extra, 'ssh-proxy'].map((a) => `"${a}"`).join(' ');

withSsh(
  'ssh runs a command through ssh-proxy (AWS-StartSSHSession, basic mode); the session ends with it',
  async () => {
    const config = writeSshConfig(sshd, [BASTION], proxy());
    emu.admin.clearRequests();
    const r = await run('ssh', [
      '-F',
      config,
      BASTION,
      'echo "hello from $(hostname)"; echo to-stderr >&2; exit 3',
    ]);
    assert.is(r.code, 3, r.stderr);

    assert.match(r.stdout.toString(), /^hello from \S+\n$/);
    assert.match(r.stderr, /to-stderr/);
    // Nothing of ours on ssh's stderr at log level warn: the connection was clean.
    assert.not.match(r.stderr, /stormtunnel/, r.stderr);
    const start = emu.requests().filter((q) => q.operation === 'StartSession');
    assert.is(start.length, 1);
    assert.is(start[0]!.params.documentName, 'AWS-StartSSHSession');
    assert.is(start[0]!.params.portNumber, String(sshd.port));
    const sessionId = start[0]!.params.sessionId;
    // ssh closed the proxy's stdin: the proxy ended the session (as a tunnel's stop does).
    await waitFor(
      () => emu.admin.listSessions().find((s) => s.sessionId === sessionId)?.status === 'Terminated',
      10_000,
      'the session to be terminated',
    );
    const agent = emu.admin.listSessions().find((s) => s.sessionId === sessionId);
    assert.is((agent?.stats as { mode?: string } | undefined)?.mode, 'basic');
  },
);

withSsh(
  'ssh-proxy: a bad port is one line and exit 2, a name that matches nothing exit 8; nothing on stdout',
  async () => {
    // Side by side: each is a CLI start-up, the slow part on a busy machine.
    const [bad, unresolved] = await Promise.all([
      run(process.execPath, [BIN, 'ssh-proxy', BASTION, '70000']),
      run(process.execPath, [BIN, 'ssh-proxy', 'web-1']),
    ]);
    assert.is(bad.code, 2);
    assert.is(bad.stdout.length, 0);
    assert.match(bad.stderr, /^stormtunnel: PORT: expected a port number 1-65535, got "70000"\n/);
    // A plain word is a Name tag (the targets plugin): nothing by that name is a target failure (exit 8).
    assert.is(unresolved.code, 8);
    assert.is(unresolved.stdout.length, 0);
    assert.match(
      unresolved.stderr,
      /^stormtunnel: Target Unavailable: .*no instance with tag Name=web-1 in us-east-1 .*found no instance with that tag\n {2}→ [^\n]+\n$/,
    );
  },
);

withSsh('scp copies 16 MiB up and back down through ssh-proxy, byte-exact', async () => {
  const config = writeSshConfig(sshd, [BASTION], proxy('--config', writeUnpacedConfig(dir)));
  emu.admin.setSettings(UNPACED_EMULATOR);
  try {
    const payload = randomBytes(16 * 1024 * 1024);
    const local = join(dir, 'payload.bin');
    const remote = join(dir, 'remote.bin');
    const back = join(dir, 'back.bin');
    writeFileSync(local, payload);
    emu.admin.clearRequests();
    const up = await run('scp', ['-q', '-F', config, local, `${BASTION}:${remote}`]);
    assert.is(up.code, 0, up.stderr);
    assert.is(sha256(readFileSync(remote)), sha256(payload));
    const down = await run('scp', ['-q', '-F', config, `${BASTION}:${remote}`, back]);
    assert.is(down.code, 0, down.stderr);
    assert.is(sha256(readFileSync(back)), sha256(payload));
    const starts = emu.requests().filter((q) => q.operation === 'StartSession' && q.status === 200);
    assert.is(starts.length, 2);
    assert.ok(starts.every((q) => q.params.documentName === 'AWS-StartSSHSession'));
  } finally {
    emu.admin.setSettings({ pacing: true, clientMessageRateLimit: 1000, clientPayloadLimit: 1024 });
  }
});

test.run();
