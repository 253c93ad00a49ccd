// The files that make the background service start at login: a systemd user unit (Linux) and a launchd
// agent (macOS). They run `stormtunnel up --service` in the foreground (neither manager wants a daemon
// that forks away), restart it when it dies, and carry PATH and the non-secret AWS settings of the shell
// that installed them; never keys or tokens (credentials come from the profiles and the token store).
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export type ServicePlatform = 'linux' | 'darwin';

export interface UnitInput {
  /** The instance key (src/service/instance.ts): one unit per config. */
  key: string;
  config: string;
  /** Absolute paths: the Node that runs stormtunnel, and bin/stormtunnel.js. */
  node: string;
  bin: string;
  env: NodeJS.ProcessEnv;
  /** Where the service's stdout and stderr go (what `stormtunnel logs` reads). */
  logFile: string;
}

export interface UnitFile {
  platform: ServicePlatform;
  /** systemd unit name / launchd Label. */
  name: string;
  path: string;
  text: string;
  /** What install runs after writing the file, and uninstall before removing it. */
  install: string[][];
  uninstall: string[][];
  /** Where to look at the running service. */
  statusCommand: string[];
}

/**
 * Carried into the unit: the user manager and launchd start with a minimal environment (no shell rc files).
 * Only settings, never secrets: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN are left out
 * on purpose, as is everything not listed.
 */
const CARRIED_ENV = [
  'PATH',
  'AWS_PROFILE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'STORMTUNNEL_LOG_LEVEL',
  'XDG_STATE_HOME',
] as const;

/**
 * The session bus, for desktop notifications (notify-send speaks D-Bus only; it needs no DISPLAY). Carried
 * only as a socket path (`unix:path=`, the per-user bus at $XDG_RUNTIME_DIR/bus): it is the same at every
 * login. A dbus-launch bus (`unix:abstract=...,guid=...`) is new at each login, and DISPLAY can change too:
 * written into the unit they would point at a session that is gone; the desktop imports its own into the
 * user manager (dbus-update-activation-environment --systemd). launchd agents need neither.
 */
function sessionBus(env: NodeJS.ProcessEnv): [string, string][] {
  const address = env.DBUS_SESSION_BUS_ADDRESS;
  return address && /^unix:path=\/[^,;]+$/.test(address) ? [['DBUS_SESSION_BUS_ADDRESS', address]] : [];
}

export function carriedEnv(env: NodeJS.ProcessEnv): [string, string][] {
  return CARRIED_ENV.flatMap((k) => {
    const value = k === 'PATH' && env.PATH ? servicePath(env.PATH) : env[k];
    return value ? [[k, value] as [string, string]] : [];
  });
}

/**
 * The shell's PATH as a service should have it: absolute folders only, each once. A relative entry (".", "",
 * "node_modules/.bin") would be looked up from the service's working directory, not the shell's; shells that
 * source rc files twice repeat entries.
 */
export function servicePath(path: string): string {
  return [...new Set(path.split(':').filter((dir) => dir.startsWith('/')))].join(':');
}

function args(input: UnitInput): string[] {
  return [input.node, input.bin, '--config', input.config, 'up', '--service'];
}

/** systemd's quoting (systemd.syntax(7)): double quotes, backslash escapes; `%` is a specifier, `$` expands. */
function systemdQuote(s: string): string {
  const escaped = s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%');
  return `"${escaped}"`;
}

export function systemdUnit(input: UnitInput): UnitFile {
  const name = `stormtunnel-${input.key}.service`;
  const configHome = input.env.XDG_CONFIG_HOME?.startsWith('/')
    ? input.env.XDG_CONFIG_HOME
    : join(input.env.HOME || homedir(), '.config');
  const exec = args(input)
    .map((a) => systemdQuote(a).replace(/\$/g, '$$$$'))
    .join(' ');
  const environment = [
    ...carriedEnv(input.env),
    ...sessionBus(input.env),
    ['STORMTUNNEL_SERVICE_LOG', input.logFile],
  ].map(([k, v]) => `Environment=${systemdQuote(`${k}=${v}`)}`);
  const text = [
    '# Written by `stormtunnel service install`; remove with `stormtunnel service uninstall`.',
    '[Unit]',
    `Description=stormtunnel tunnels of ${input.config.replace(/%/g, '%%')}`,
    // More than 5 starts in 60 s: something is wrong that restarting does not fix; stay failed.
    'StartLimitIntervalSec=60',
    'StartLimitBurst=5',
    '',
    '[Service]',
    'Type=exec',
    `ExecStart=${exec}`,
    `WorkingDirectory=${dirname(input.config).replace(/%/g, '%%')}`,
    ...environment,
    // The log `stormtunnel logs` reads, opened for appending (systemd 240+), so the service rotates it in
    // place as it does when started by `stormtunnel start`. journalctl has nothing then; this file has it all.
    `StandardOutput=append:${input.logFile.replace(/%/g, '%%')}`,
    `StandardError=append:${input.logFile.replace(/%/g, '%%')}`,
    // A non-zero exit or a signal restarts it; `stormtunnel stop` or systemctl stop end it with exit 0.
    'Restart=on-failure',
    'RestartSec=5',
    // SIGTERM is `up`'s Ctrl-C; a refresh token being written may take up to 15 s more.
    'KillSignal=SIGTERM',
    'TimeoutStopSec=30',
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
  return {
    platform: 'linux',
    name,
    path: join(configHome, 'systemd', 'user', name),
    text,
    install: [
      ['systemctl', '--user', 'daemon-reload'],
      ['systemctl', '--user', 'enable', '--now', name],
    ],
    uninstall: [
      ['systemctl', '--user', 'disable', '--now', name],
      ['systemctl', '--user', 'daemon-reload'],
    ],
    statusCommand: ['systemctl', '--user', 'status', name],
  };
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function launchdAgent(input: UnitInput, uid: number): UnitFile {
  const label = `dev.stormtunnel.${input.key}`;
  const home = input.env.HOME || homedir();
  const str = (s: string) => `<string>${xml(s)}</string>`;
  const envDict = carriedEnv(input.env)
    .map(([k, v]) => `      <key>${xml(k)}</key>\n      ${str(v)}`)
    .join('\n');
  const text = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- Written by \`stormtunnel service install\`; remove with \`stormtunnel service uninstall\`. -->
<plist version="1.0">
  <dict>
    <key>Label</key>
    ${str(label)}
    <key>ProgramArguments</key>
    <array>
${args(input)
  .map((a) => `      ${str(a)}`)
  .join('\n')}
    </array>
    <key>WorkingDirectory</key>
    ${str(dirname(input.config))}
    <key>RunAtLoad</key>
    <true/>
    <key>KeepAlive</key>
    <dict>
      <key>SuccessfulExit</key>
      <false/>
    </dict>
    <key>ThrottleInterval</key>
    <integer>10</integer>
    <key>StandardOutPath</key>
    ${str(input.logFile)}
    <key>StandardErrorPath</key>
    ${str(input.logFile)}
    <key>EnvironmentVariables</key>
    <dict>
${envDict}
    </dict>
  </dict>
</plist>
`;
  const path = join(home, 'Library', 'LaunchAgents', `${label}.plist`);
  return {
    platform: 'darwin',
    name: label,
    path,
    text,
    install: [['launchctl', 'bootstrap', `gui/${uid}`, path]],
    uninstall: [['launchctl', 'bootout', `gui/${uid}/${label}`]],
    statusCommand: ['launchctl', 'print', `gui/${uid}/${label}`],
  };
}
