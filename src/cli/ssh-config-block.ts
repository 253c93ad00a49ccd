// The `Host` blocks `stormtunnel ssh-config` prints for ~/.ssh/config. OpenSSH takes the rest of a
// ProxyCommand line as it is, expands its %-tokens (%h, %p, %% for a literal %), and runs the result with
// `$SHELL -c "exec ..."` (ssh_config(5), TOKENS): each word must survive the token expansion and the shell.
import { UsageError } from '../engine/errors.js';
import type { TunnelConfig } from '../engine/plugin.js';

export interface SshConfigInput {
  /** Absolute path of the Node that runs stormtunnel (the ProxyCommand needs no PATH). */
  node: string;
  /** Absolute path of stormtunnel's bin/stormtunnel.js. */
  bin: string;
  /** Absolute path of the config file, when there is one: ssh runs the ProxyCommand from any directory. */
  configFile?: string | undefined;
  /** --profile and --region as given on the command line. */
  profile?: string | undefined;
  region?: string | undefined;
  tunnels: readonly TunnelConfig[];
}

/** Characters a POSIX shell (and fish) reads as part of a plain word. */
const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * One word of a ProxyCommand: `%` doubled (OpenSSH's token expansion comes first), then single-quoted for
 * the shell when it is not plain ('\'' for a quote: POSIX sh and fish both read it as one quote).
 */
export function proxyCommandWord(word: string, what: string): string {
  if (/[\n\r\0]/.test(word)) {
    throw new UsageError(`${what}: ${JSON.stringify(word)} has a line break; ssh_config cannot carry it`, {
      hint: 'install or run stormtunnel from a path without line breaks',
    });
  }
  const escaped = word.replace(/%/g, '%%');
  return PLAIN.test(escaped) ? escaped : `'${escaped.replace(/'/g, `'\\''`)}'`;
}

/** The blocks: one per tunnel of the config (by name, first: the first match wins), then instance ids. */
export function sshConfigBlock(input: SshConfigInput): string {
  const command = [
    proxyCommandWord(input.node, 'node'),
    proxyCommandWord(input.bin, 'stormtunnel'),
    ...(input.configFile ? ['--config', proxyCommandWord(input.configFile, 'config file')] : []),
    ...(input.profile ? ['--profile', proxyCommandWord(input.profile, '--profile')] : []),
    ...(input.region ? ['--region', proxyCommandWord(input.region, '--region')] : []),
    'ssh-proxy',
  ].join(' ');
  const blocks: string[] = [];
  for (const t of input.tunnels) {
    // Tunnel names are letters, digits, ".", "_" and "-" (the config's rule): a plain ssh Host name.
    const where = [t.target, t.profile && `profile ${t.profile}`, t.region].filter(Boolean).join(', ');
    blocks.push(
      [
        `# tunnel ${t.name} of the config (${where}): ssh ${t.name}`,
        `Host ${t.name}`,
        `  HostName ${t.name}`,
        `  ProxyCommand ${command} ${proxyCommandWord(t.name, 'tunnel name')} %p`,
      ].join('\n'),
    );
  }
  blocks.push(
    [
      '# EC2 instances and managed nodes by id: ssh i-0123456789abcdef0',
      'Host i-* mi-*',
      `  ProxyCommand ${command} %h %p`,
    ].join('\n'),
  );
  return `# stormtunnel ssh-config: SSH over Session Manager (paste into ~/.ssh/config)\n\n${blocks.join('\n\n')}\n`;
}
