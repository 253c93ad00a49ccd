// A real OpenSSH server for tests: `sshd -D` on a free 127.0.0.1 port with host and user keys generated into a
// temp dir, as the current user, and an ssh client config that never reads the real ~/.ssh (-F, its own
// known_hosts, its own key). Debian's openssh-server and openssh-client (.ci/run installs them).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { withTimeout } from './wait.js';

export const SSHD = ['/usr/sbin/sshd', '/usr/bin/sshd'].find((p) => existsSync(p));

export function hasOpenSsh(): boolean {
  const ok = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
  return SSHD !== undefined && ok('ssh') && ok('scp') && ok('ssh-keygen');
}

export interface Sshd {
  port: number;
  dir: string;
  /** The user's private key (authorized on this server). */
  userKey: string;
  /** `[127.0.0.1]:port`-free known_hosts line for `host` on this server's port. */
  knownHostsLine(host: string): string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function keygen(file: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'stormtunnel-test', '-f', file]);
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr.toString()}`);
}

export async function startSshd(): Promise<Sshd> {
  if (!SSHD) throw new Error('sshd is not installed (Debian: openssh-server)');
  const dir = mkdtempSync(join(tmpdir(), 'stormtunnel-sshd-'));
  keygen(join(dir, 'host_key'));
  keygen(join(dir, 'user_key'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'user_key.pub')));
  // As root, sshd wants its privilege-separation directory (the Debian service creates it at boot).
  if (process.getuid?.() === 0 && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 });
  for (let tries = 0; ; tries++) {
    const port = await freePort();
    writeFileSync(
      join(dir, 'sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(dir, 'host_key')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'PidFile none',
        // The temp dir is world-readable on some systems; nothing else here is about security.
        'StrictModes no',
        'UsePAM no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        `AllowUsers ${userInfo().username}`,
        'Subsystem sftp internal-sftp',
        '',
      ].join('\n'),
    );
    const child = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    const listening = await withTimeout(
      Promise.race([
        new Promise<boolean>((resolve) =>
          child.stderr.on('data', () => log.includes('Server listening') && resolve(true)),
        ),
        exited.then(() => false),
      ]),
      15_000,
      'sshd to listen',
    );
    if (!listening) {
      if (tries < 3 && /Address already in use/.test(log)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`sshd did not start: ${log}`);
    }
    const hostPub = readFileSync(join(dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
    return {
      port,
      dir,
      userKey: join(dir, 'user_key'),
      knownHostsLine: (host) => `[${host}]:${port} ${hostPub}\n`,
      stop: () => stopChild(child, exited).then(() => rmSync(dir, { recursive: true, force: true })),
    };
  }
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * An ssh_config for `hosts` whose ProxyCommand is `proxy` (%h %p appended), with this server's key, its own
 * known_hosts (strict: the host key must be this sshd's) and no agent or real ~/.ssh.
 */
export function writeSshConfig(sshd: Sshd, hosts: string[], proxy: string): string {
  const knownHosts = join(sshd.dir, 'known_hosts');
  writeFileSync(knownHosts, hosts.map((h) => sshd.knownHostsLine(h)).join(''));
  const file = join(sshd.dir, 'ssh_config');
  writeFileSync(
    file,
    `Host ${hosts.join(' ')}
  Port ${sshd.port}
  User ${userInfo().username}
  ProxyCommand ${proxy} %h %p
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
