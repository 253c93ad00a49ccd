// Commands whose features have not landed yet. Each is declared with its real options (so --help is
// right) and says plainly that it is not available, exit code 2. Never pretends to succeed.
import type { Command } from 'commander';
import { NotBuiltError } from '../../engine/errors.js';
import type { CommandRegistrar } from '../command.js';

interface Pending {
  name: string;
  args?: string;
  description: string;
  options: [string, string][];
  missing: string;
}

export const PENDING: Pending[] = [
  {
    name: 'up',
    args: '[tunnels...]',
    description: 'start the autostart tunnels (or the named ones) and keep them up until Ctrl-C',
    options: [],
    missing: 'native Session Manager tunnels (the ssm-tunnel plugin) have not landed',
  },
  {
    name: 'status',
    description: 'show credentials, SSO sessions and running tunnels',
    options: [['--json', 'print JSON']],
    missing: 'credential and token status have not landed',
  },
  {
    name: 'login',
    description: 'sign in to the SSO session of a profile (browser with PKCE, or device code)',
    options: [
      ['--sso-session <name>', "sign in to this sso-session instead of the profile's"],
      ['--no-browser', 'print the URL and code instead of opening a browser'],
      ['--use-device-code', 'use the device code flow (for headless and remote machines)'],
    ],
    missing: 'the sso plugin has not landed',
  },
  {
    name: 'logout',
    description: 'sign out of an SSO session and remove its tokens from every store',
    options: [
      ['--sso-session <name>', 'sign out of this sso-session'],
      ['--all', 'sign out of every SSO session'],
    ],
    missing: 'the sso plugin has not landed',
  },
  {
    name: 'profiles',
    description: 'list the AWS profiles with their type, region, account/role and SSO session',
    options: [['--json', 'print JSON']],
    missing: 'the AWS shared config reader has not landed',
  },
  {
    name: 'roles',
    description: 'list every account and role the SSO sign-in can use',
    options: [
      ['--sso-session <name>', 'list for this sso-session'],
      ['--json', 'print JSON'],
    ],
    missing: 'the sso plugin has not landed',
  },
  {
    name: 'check',
    description: 'check credentials, targets and Session Manager permissions for a profile or each tunnel',
    options: [
      ['--tunnel <name>', 'check one tunnel'],
      ['--json', 'print JSON'],
    ],
    missing: 'the permission checks have not landed',
  },
  {
    name: 'credential-process',
    description: 'print credentials for a profile as AWS credential_process JSON (Version 1)',
    options: [],
    missing: 'credential resolution has not landed',
  },
  {
    name: 'emulator',
    description:
      'run the local AWS emulator (SSO, STS, SSM and the Session Manager data channel) on 127.0.0.1',
    options: [
      ['--port <port>', 'port to listen on (0 picks a free one)'],
      ['--state <file>', 'seed state from a JSON or YAML file'],
      ['--auto-approve', 'approve sign-ins without the browser form'],
      ['--pacing', 'pace the agent like the real one (1024 bytes then 1 ms)'],
      ['--print-env', 'print the environment variables to export'],
    ],
    missing: 'the local AWS emulator has not landed',
  },
  {
    name: 'demo',
    description: 'show the whole product on this machine against the local AWS emulator',
    options: [],
    missing: 'the local AWS emulator has not landed',
  },
  {
    name: 'configure',
    args: '<what>',
    description: 'set up SSO profiles: "sso" (wizard) or "populate" (a profile per account and role)',
    options: [],
    missing: 'the configure wizard has not landed',
  },
];

export const registerPending: CommandRegistrar = (program: Command, run) => {
  for (const p of PENDING) {
    const cmd = program.command(p.args ? `${p.name} ${p.args}` : p.name).description(p.description);
    for (const [flags, help] of p.options) cmd.option(flags, help);
    cmd.action(
      run(async () => {
        throw new NotBuiltError(p.name, p.missing);
      }),
    );
  }
};
