// `stormtunnel ssh-config`: the printed Host blocks as the real OpenSSH reads them (`ssh -G`), and a real
// ssh through them to a real sshd behind an emulated instance, by tunnel name and by instance id, also
// when stormtunnel lives under a path that needs quoting (spaces, %, a quote, $).
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sshConfigBlock, proxyCommandWord } from '../../src/cli/ssh-config-block.js';
import { UsageError } from '../../src/engine/errors.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { TestAwsHome } from '../../src/testing/index.js';
import { BIN, runCli, CLI_ENV } from '../helpers/cli.js';
import { hasOpenSsh, startSshd, type Sshd } from '../helpers/sshd.js';
import { testIf } from '../helpers/system.js';
import { staticKeysHome } from './helpers.js';

const BASTION = 'i-0123456789abcdef0';
const test = suite('ssh-config');
const withSsh = testIf(test, hasOpenSsh(), 'ssh and sshd (Debian: openssh-client, openssh-server)');

let emu: RunningEmulator;
let home: TestAwsHome;
let sshd: Sshd;
let dir: string;
let env: NodeJS.ProcessEnv;
let configFile: string;

test.before(async () => {
  if (!hasOpenSsh()) return;
  emu = await startEmulator({ port: 0 });
  home = staticKeysHome(emu);
  sshd = await startSshd();
  dir = mkdtempSync(join(tmpdir(), 'stormtunnel-ssh-config-'));
  configFile = join(dir, 'stormtunnel.config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      settings: { notifications: false, keychain: false },
      tunnels: [{ name: 'bastion', target: BASTION, remotePort: 22, localPort: 0, autostart: false }],
    }),
  );
  env = { ...home.env, NO_COLOR: '1', ...CLI_ENV, STORMTUNNEL_LOG_LEVEL: 'warn' };
});
test.after(async () => {
  if (!emu) return;
  await sshd.stop();
  await emu.close();
  home.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * `block` followed by what this test's sshd needs for every host (its port, user, key, known_hosts): the
 * first value ssh_config finds wins, so the printed blocks keep their ProxyCommand.
 */
function sshConfigFile(name: string, block: string, hosts: string[]): string {
  const file = join(dir, name);
  const knownHosts = join(dir, `${name}.known_hosts`);
  writeFileSync(knownHosts, hosts.map((h) => sshd.knownHostsLine(h)).join(''));
  writeFileSync(file, block);
  appendFileSync(
    file,
    `
Host *
  Port ${sshd.port}
  User ${userInfo().username}
  IdentityFile ${sshd.userKey}
  IdentitiesOnly yes
  IdentityAgent none
  UserKnownHostsFile ${knownHosts}
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR
`,
  );
  return file;
}

/** What OpenSSH makes of `host` with this config file (`ssh -G`): its proxycommand and hostname. */
function resolved(file: string, host: string): { proxycommand: string; hostname: string } {
  const r = spawnSync('ssh', ['-G', '-F', file, host], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  assert.is(r.status, 0, r.stderr);
  const value = (key: string) =>
    r.stdout
      .split('\n')
      .find((l) => l.startsWith(`${key} `))
      ?.slice(key.length + 1) ?? '';
  return { proxycommand: value('proxycommand'), hostname: value('hostname') };
}

function ssh(
  file: string,
  host: string,
  command: string,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', ['-F', file, host, command], {
      cwd: tmpdir(),
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

test('a ProxyCommand word: plain as it is, else quoted for the shell, % doubled for ssh; no line breaks', () => {
  assert.is(proxyCommandWord('/usr/bin/node', 'node'), '/usr/bin/node');
  assert.is(proxyCommandWord('/opt/a b/100%', 'x'), `'/opt/a b/100%%'`);
  assert.is(proxyCommandWord(`/o'k/$HOME`, 'x'), `'/o'\\''k/$HOME'`);
  assert.throws(
    () => proxyCommandWord('/a\nb', 'config file'),
    (err: Error) => err instanceof UsageError && /^config file: "\/a\\nb" has a line break/.test(err.message),
  );
});

withSsh(
  'printed by the CLI: ssh -G sees the tunnel and instance blocks with this stormtunnel; ssh by tunnel name works',
  async () => {
    const printed = await runCli(['--config', configFile, 'ssh-config', '--profile', 'default'], {
      cwd: dir,
      env,
    });
    assert.is(printed.code, 0, printed.stderr);
    assert.is(printed.stderr, '');
    const file = sshConfigFile('cli.ssh_config', printed.stdout, ['bastion', BASTION]);
    const command = `${process.execPath} ${BIN} --config ${configFile} --profile default ssh-proxy`;
    assert.equal(resolved(file, BASTION), { proxycommand: `${command} %h %p`, hostname: BASTION });
    assert.equal(resolved(file, 'mi-0123456789abcdef0').proxycommand, `${command} %h %p`);
    assert.equal(resolved(file, 'bastion'), { proxycommand: `${command} bastion %p`, hostname: 'bastion' });
    assert.is(resolved(file, 'elsewhere').proxycommand, '', 'other hosts are left alone');

    emu.admin.clearRequests();
    const r = await ssh(file, 'bastion', 'echo via-tunnel-name');
    assert.is(r.code, 0, r.err);
    assert.is(r.out, 'via-tunnel-name\n');
    const start = emu.requests().filter((q) => q.operation === 'StartSession' && q.status === 200);
    assert.is(start.length, 1);
    assert.is(start[0]!.params.instanceId, BASTION, "the tunnel's target");
    assert.is(start[0]!.params.portNumber, String(sshd.port), "ssh's port (%p)");
  },
);

withSsh('stormtunnel under a path with spaces, %, a quote and $: the block still runs it', async () => {
  // Symlinks under an awkward directory stand for an installation there (Node follows them to the files).
  const awkward = join(dir, `my tools 100% it's $HOME`);
  mkdirSync(awkward);
  symlinkSync(process.execPath, join(awkward, 'node'));
  symlinkSync(BIN, join(awkward, 'stormtunnel.js'));
  const block = sshConfigBlock({
    node: join(awkward, 'node'),
    bin: join(awkward, 'stormtunnel.js'),
    configFile,
    region: 'us-east-1',
    tunnels: [],
  });
  const file = sshConfigFile('awkward.ssh_config', block, [BASTION]);
  assert.match(
    resolved(file, BASTION).proxycommand,
    `'${awkward.replace(/%/g, '%%').replace(/'/g, `'\\''`)}/node'`,
  );
  emu.admin.clearRequests();
  const r = await ssh(file, BASTION, 'echo via-instance-id');
  assert.is(r.code, 0, r.err);
  assert.is(r.out, 'via-instance-id\n');
  assert.is(emu.requests().filter((q) => q.operation === 'StartSession' && q.status === 200).length, 1);
});

test.run();
